"""The series mapping: a checked rule file in the style of a dcm2bids configuration."""

from __future__ import annotations

import textwrap

import pytest
from bids_study import KEY, MR

from mrishare import bids, data, rules
from mrishare.bids import mapping
from mrishare.errors import RuleFileError


@pytest.mark.parametrize(
    "info, outcome",
    [
        ({"SeriesDescription": "T1 MPRAGE sag", "EchoTime": "2.98"}, "T1w"),
        ({"ProtocolName": "t2_tse_tra", "EchoTime": "98"}, "T2w"),
        ({"SeriesDescription": "t2_flair_tra", "EchoTime": "90"}, "FLAIR"),
        ({"SeriesDescription": "Ax T2 FLAIR", "EchoTime": "399.9"}, "FLAIR"),
        ({"SeriesDescription": "T1 MPRAGE", "EchoTime": "98"}, "unknown"),  # disagreement
        ({"SeriesDescription": "t2_space", "EchoTime": "408"}, "T2w"),  # 3D SPACE: long TE
        ({"SeriesDescription": "T2w_SPC_800iso", "EchoTime": "565",
          "RepetitionTime": "3200"}, "T2w"),  # the HCP T2w
        ({"SeriesDescription": "Sag CUBE T2", "EchoTime": "90"}, "T2w"),
        ({"SeriesDescription": "t2_space", "EchoTime": "700"}, "unknown"),
        ({"SeriesDescription": "AAHead_Scout", "EchoTime": "3"}, "skip"),
        ({"SeriesDescription": "T1", "EchoTime": "3", "ImageType": ["DERIVED", "MPR"]}, "skip"),
        ({"SeriesDescription": "T1", "EchoTime": "3", "ImageType": "ORIGINAL\\PRIMARY"}, "T1w"),
        ({"SeriesDescription": "T1", "EchoTime": "3", "Modality": "CT"}, "skip"),
        ({"SeriesDescription": "T1", "EchoTime": "3",
          "SOPClassUID": "1.2.840.10008.5.1.4.1.1.7"}, "skip"),
        ({"SeriesDescription": "T1", "EchoTime": "3",
          "SOPClassUID": "1.2.840.10008.5.1.4.1.1.4.1"}, "T1w"),  # Enhanced MR
        ({"SeriesDescription": "sag", "SequenceName": "*tfl3d1_16ns", "EchoTime": "2.3"}, "T1w"),
        ({"SeriesDescription": "BRAVO", "EchoTime": "15"}, "unknown"),  # not below 15 ms
        ({"SeriesDescription": "Ax FSPGR BRAVO", "EchoTime": "3.2"}, "T1w"),
        ({"SeriesDescription": "T1W_3D_TFE", "EchoTime": "3.7"}, "T1w"),  # Philips
        ({"SeriesDescription": "mp2rage_sag_UNI_Images", "EchoTime": "2.9",
          "ImageType": "DERIVED\\PRIMARY\\M\\ND\\UNI"}, "UNIT1"),
        ({"SeriesDescription": "mp2rage_sag_INV2", "EchoTime": "2.9"}, "MP2RAGE"),
        ({"SeriesDescription": "t2_flair_sag", "EchoTime": "390"}, "FLAIR"),
        ({"SeriesDescription": "PD_TSE_tra", "EchoTime": "12"}, "PDw"),
        ({"SeriesDescription": "t2star_gre_tra", "EchoTime": "20"}, "T2starw"),
        ({"SeriesDescription": "rfMRI_REST_AP", "EchoTime": "33"}, "bold"),
        ({"SeriesDescription": "rfMRI_REST_AP_SBRef", "EchoTime": "33"}, "sbref"),
        ({"SeriesDescription": "ep2d_bold", "EchoTime": "30"}, "unknown"),  # no task
        ({"SeriesDescription": "ep2d_diff_mddw_30", "EchoTime": "80"}, "dwi"),
        ({"SeriesDescription": "ep2d_diff_mddw_30_ADC", "EchoTime": "80",
          "ImageType": "DERIVED\\PRIMARY\\DIFFUSION\\ADC"}, "skip"),
        ({"SeriesDescription": "dMRI_ColFA", "EchoTime": "80"}, "skip"),
        ({"SeriesDescription": "gre_field_mapping", "EchoTime": "7.38",
          "ImageType": "ORIGINAL\\PRIMARY\\P\\ND"}, "phasediff"),
        ({"SeriesDescription": "gre_field_mapping", "EchoTime": "4.92"}, "magnitude1"),
        ({"SeriesDescription": "SpinEchoFieldMap_PA", "EchoTime": "60"}, "epi"),
        ({"SeriesDescription": "me_gre_3echo", "EchoTime": "5"}, "MEGRE"),
        ({"SeriesDescription": "series 7", "EchoTime": "3", "InversionTime": "900",
          "ScanningSequence": ["GR", "IR"], "MRAcquisitionType": "3D"}, "T1w"),
        ({"SeriesDescription": "series 7", "EchoTime": "3", "InversionTime": "900",
          "ScanningSequence": ["GR", "IR"], "MRAcquisitionType": "2D"}, "unknown"),
        ({"SeriesDescription": "series 8", "EchoTime": "100", "RepetitionTime": "6000",
          "ScanningSequence": "SE"}, "T2w"),
        ({"SeriesDescription": "series 8", "EchoTime": "100", "RepetitionTime": "6000",
          "ScanningSequence": "SE\\IR"}, "unknown"),
        ({"SeriesDescription": "b1000 series", "EchoTime": "80"}, "unknown"),
        ({"SeriesDescription": "T1"}, "unknown"),  # no echo time: the name is not enough
    ],
)
def test_classification_by_the_shipped_mapping(info, outcome):
    assert bids.classify({**MR, **info}).outcome == outcome


def test_the_shipped_mapping_maps_the_sample_study():
    series, _ = bids.find_series(data.sample_path("dicom_study"))
    found = sorted(bids.classify(s.info).target for s in series)
    assert found == ["anat/MEGRE", "anat/T1w", "anat/T1w", "anat/T1w", "anat/T2w",
                     "anat/T2w", "anat/T2w", "anat/T2w", "dwi/dwi", "fmap/magnitude1",
                     "fmap/phasediff", "func/task-rest_dir-AP_bold", "skip", "unknown"]


@pytest.mark.parametrize("name, entity, label", [
    ("rfMRI_REST_AP", "task", "rest"), ("rfMRI_REST_AP", "dir", "AP"),
    ("tfMRI_WM_PA", "task", "wm"), ("fMRI task-nback run1", "task", "nback"),
    ("ep2d_bold_resting_state", "task", "rest"), ("SpinEchoFieldMap_PA", "dir", "PA"),
    ("ep2d_bold", "task", ""), ("dwi acq-b1000 dir-LR", "acq", "b1000"),
    ("dwi acq-b1000 dir-LR", "dir", "LR"),
])
def test_labels_come_from_the_name(name, entity, label):
    assert bids.label_from_name(entity, {"SeriesDescription": name}) == label


def test_a_series_named_like_a_rule_with_a_disagreeing_number_names_the_rule():
    found = bids.classify({**MR, "SeriesDescription": "T1 MPRAGE", "EchoTime": "98"})
    assert found.outcome == "unknown" and found.description.id == "t1w-by-name"
    assert "EchoTime >= 0 and < 15 fails (it is 98)" in found.reason


def write(tmp_path, text: str):
    path = tmp_path / "mapping.yaml"
    path.write_text(textwrap.dedent(text))
    return path


GOOD = """\
    descriptions:
      - criteria:
          Modality: {not: MR}
        skip: not MR
      - id: rest
        criteria:
          SeriesDescription: ["*rest*", "*bold*"]
          ImageType: {match: ORIGINAL, not: [DERIVED]}
          RepetitionTime: {btwe: [500, 3000]}
        datatype: func
        suffix: bold
        entities: {task: rest, dir: AP, acq: mb4}
      - criteria:
          Words: [dwi, dti]
          EchoTime: 80
        datatype: dwi
        suffix: dwi
      - criteria:
          SeriesDescription: "*se_epi_pa*"
        datatype: fmap
        suffix: epi
        entities: {dir: PA}
    """


def test_a_mapping_for_func_dwi_and_fmap_loads_and_classifies(tmp_path):
    loaded = mapping.load_mapping(write(tmp_path, GOOD))
    assert [d.line for d in loaded.descriptions] == [2, 5, 13, 18]
    bold = {**MR, "SeriesDescription": "fMRI_REST_AP", "ImageType": ["ORIGINAL", "PRIMARY"],
            "RepetitionTime": "800"}
    found = bids.classify(bold, loaded)
    assert (found.datatype, found.suffix) == ("func", "bold")
    assert found.entities == (("task", "rest"), ("acq", "mb4"), ("dir", "AP"))  # BIDS order
    assert bids.classify({**bold, "RepetitionTime": "3001"}, loaded).outcome == "unknown"
    assert bids.classify({**bold, "ImageType": "DERIVED\\PRIMARY"}, loaded).outcome == "unknown"
    dwi = bids.classify({**MR, "SeriesDescription": "ep2d DTI 64dir", "EchoTime": "80"}, loaded)
    assert (dwi.datatype, dwi.suffix, dwi.reason) == ("dwi", "dwi", "meets description 3 of "
                                                      "mapping.yaml")
    assert bids.classify({**MR, "SeriesDescription": "dti", "EchoTime": "81"},
                         loaded).outcome == "unknown"
    assert bids.classify({"Modality": "PT"}, loaded).reason == "not MR"


def test_to_bids_names_files_by_the_mapping_given(tmp_path):
    custom = write(tmp_path, """\
        descriptions:
          - criteria:
              SeriesDescription: "*mprage*"
            datatype: anat
            suffix: T1w
            entities: {acq: mprage}
        """)
    report = bids.to_bids(data.sample_path("dicom_study"), tmp_path / "bids", KEY,
                          series_mapping=mapping.load_mapping(custom))
    label = KEY.label("VUMC0052288")
    assert f"sub-{label}/ses-1/anat/sub-{label}_ses-1_acq-mprage_T1w.nii.gz" in report.written
    assert len(report.written) == 3
    assert {p.message for p in report.skipped} == {
        "not mapped: no description of the series mapping holds: not converted rather than "
        "guessed"}
    assert len(report.unmapped) == len(report.skipped) == 11  # 14 series, 3 mapped


@pytest.mark.parametrize(
    ("criteria_and_outcome", "message"),
    [
        ("criteria: {Colour: red}\n    suffix: T1w\n    datatype: anat",
         r"description 2 \(line 5\): unknown attribute 'Colour'"),
        ("criteria: {EchoTime: {btw: [10, 5]}}\n    suffix: T1w\n    datatype: anat",
         r"description 2 \(line 5\), EchoTime: the range btw \[10, 5\] is empty"),
        ("criteria: {EchoTime: {ge: 50, lt: 40}}\n    suffix: T1w\n    datatype: anat",
         r"EchoTime: no number is above 50 and below 40"),
        ("criteria: {EchoTime: {btw: [1]}}\n    suffix: T1w\n    datatype: anat",
         r"btw needs two numbers"),
        ("criteria: {EchoTime: {near: 3}}\n    suffix: T1w\n    datatype: anat",
         r"unknown comparison 'near'"),
        ("criteria: {EchoTime: short}\n    suffix: T1w\n    datatype: anat",
         r"EchoTime: expected a number or a comparison"),
        ("criteria: {EchoTime: {lt: ten}}\n    suffix: T1w\n    datatype: anat",
         r"EchoTime: expected a number, got 'ten'"),
        ("criteria: {SeriesDescription: {contains: t1}}\n    suffix: T1w\n    datatype: anat",
         r"a text test takes patterns"),
        ("criteria: {SeriesDescription: []}\n    suffix: T1w\n    datatype: anat",
         r"expected a pattern or a list of patterns"),
        ("criteria: {SeriesDescription: t1}\n    datatype: anat",
         r"description 2 \(line 5\): the suffix is missing"),
        ("criteria: {SeriesDescription: t1}\n    suffix: T1w",
         r"datatype '\(missing\)' is not an MRI datatype"),
        ("criteria: {SeriesDescription: t1}\n    suffix: T1w\n    datatype: anatomy",
         r"datatype 'anatomy' is not an MRI datatype"),
        ("criteria: {SeriesDescription: t1}\n    suffix: T3w\n    datatype: anat",
         r"BIDS has no suffix 'T3w' in anat"),
        ("criteria: {SeriesDescription: t1}\n    suffix: T1w\n    datatype: anat\n"
         "    skip: why", r"give either skip or datatype and suffix, not both"),
        ("suffix: T1w\n    datatype: anat", r"criteria are missing"),
        ("criteria: {SeriesDescription: t1}\n    sufix: T1w\n    datatype: anat",
         r"unknown key 'sufix'"),
        ("criteria: {SeriesDescription: t1}\n    suffix: T1w\n    datatype: anat\n"
         "    entities: {dir: AP}", r"BIDS does not allow the entity 'dir' for anat/T1w"),
        ("criteria: {SeriesDescription: t1}\n    suffix: T1w\n    datatype: anat\n"
         "    entities: {run: 1}", r"the entity run is written by mrishare"),
        ("criteria: {SeriesDescription: bold}\n    suffix: bold\n    datatype: func",
         r"BIDS requires the entity task for func/bold"),
        ("criteria: {SeriesDescription: bold}\n    suffix: bold\n    datatype: func\n"
         "    entities: {task: rest_1}", r"the task entity must be letters and digits only"),
        ("criteria: {SeriesDescription: me}\n    suffix: T1w\n    datatype: anat\n"
         "    entities: {echo: one}", r"the echo entity must be digits only"),
    ],
)
def test_a_broken_mapping_is_refused_naming_the_description_and_line(tmp_path,
                                                                      criteria_and_outcome,
                                                                      message):
    path = tmp_path / "mapping.yaml"  # the second description starts on line 5
    path.write_text("# my scanner\ndescriptions:\n  - criteria: {Modality: {not: MR}}\n"
                    f"    skip: not MR\n  - {criteria_and_outcome}\n")
    with pytest.raises(RuleFileError, match=r"mapping\.yaml, .*" + message):
        mapping.load_mapping(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("descriptions: [unclosed\n", r"mapping\.yaml, line 2, column 1: not valid YAML"),
        ("rules: []\n", r"mapping\.yaml: expected a mapping with a list 'descriptions:'"),
        ("descriptions: []\nextra: 1\n", r"unknown top-level key 'extra'"),
        ("descriptions:\n  - just text\n", r"description 1 \(line 2\): expected a mapping"),
        ("descriptions: []\nlabels_from_names: {task: ['task-[a-z]+']}\n",
         r"labels_from_names, task: .* needs a group in parentheses"),
        ("descriptions: []\nlabels_from_names: {task: ['(unclosed']}\n",
         r"labels_from_names, task: .* is not a regular expression"),
        ("descriptions: []\nlabels_from_names: {sub: ['(x)']}\n",
         r"labels_from_names, sub: not an entity mrishare takes from names"),
        ("descriptions: []\nextends_default: maybe\n", r"extends_default must be true or false"),
    ],
)
def test_a_malformed_mapping_file_is_refused(tmp_path, text, message):
    path = tmp_path / "mapping.yaml"
    path.write_text(text)
    with pytest.raises(RuleFileError, match=message):
        mapping.load_mapping(path)


def test_the_shipped_mapping_is_in_the_rules_folder_and_checked():
    assert (rules.folder() / mapping.DEFAULT_MAPPING).is_file()
    shipped = mapping.default_mapping()
    assert shipped == mapping.load_mapping(mapping.DEFAULT_MAPPING)
    assert all(d.reason for d in shipped.descriptions)
    assert {(d.datatype, d.suffix) for d in shipped.descriptions if d.suffix} == {
        ("anat", s) for s in ("T1w", "T2w", "FLAIR", "PDw", "T2starw", "MEGRE", "UNIT1",
                              "MP2RAGE")} | {("func", "bold"), ("func", "sbref"),
                                             ("dwi", "dwi"), ("dwi", "sbref"),
                                             ("fmap", "phasediff"), ("fmap", "magnitude1"),
                                             ("fmap", "epi")}
