"""DICOM to BIDS: classification, scrubbed sidecars and headers, names, tables, validator."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import sys
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest
from nibabel import nifti1
from pydicom.valuerep import PersonName

from mrishare import bids, data, nifti
from mrishare.keys import Key
from mrishare.lessons import simulate

KEY = Key(bytes(range(32)))
T1 = {"MRAcquisitionType": "3D", "ScanningSequence": "GR\\IR", "SequenceVariant": "SP\\MP",
      "RepetitionTime": "2300", "EchoTime": "2.98", "InversionTime": "900", "FlipAngle": "9"}
T2 = {"MRAcquisitionType": "2D", "ScanningSequence": "SE", "SequenceVariant": "SK",
      "RepetitionTime": "5000", "EchoTime": "98", "FlipAngle": "150"}
PEOPLE = [
    dict(name=PersonName("Quaggafam^Zebragiven"), id="QZP0047131", other_id="OTHQZ-77-31",
         birth_date="1961-04-12", sex="F", height_m="1.71", weight_kg="64",
         address="Quaggastraat 12, Voorbeeldstad", telephone="555-0147",
         history="Quaggahistory", comments="Quaggacomment"),
    dict(name=PersonName("Okapifam^Gnugiven"), id="OKG0052288", other_id="OTHOK-81-04",
         birth_date="1930-11-30", sex="M", height_m="1.86", weight_kg="82",
         address="Okapiweg 7, Testdorp", telephone="555-0199",
         history="Okapihistory", comments="Okapicomment"),
]
SITE = dict(ae_title="QZ_AETITLE", institution="Quagga University Hospital",
            institution_address="Hospitaalplein 1, Quaggastad", department="Quaggadept",
            referring=PersonName("Refquagga^Anna"), performing=PersonName("Perfquagga^Sam"),
            operator=PersonName("Opquagga^Tom"), station="QZ-STATION-3", serial="SER45817")
# (person index, date, time, study number)
SESSIONS = [(0, "20240422", "141547", 2), (0, "20240311", "093012", 1),
            (1, "20240318", "111203", 1)]


def planted_study(root: Path) -> list[str]:
    """Write a tiny study with identifiers in every carrier; return the identifying strings."""
    rng = np.random.default_rng(7)
    secrets = []
    for person_index, date, time, number in SESSIONS:
        person = PEOPLE[person_index]
        family = person["name"].family_name
        uid = f"1.2.999.4711.{person_index}.{number}"
        study = dict(SITE, uid=uid, frame_uid=uid + ".0", date=date, time=time, age="",
                     accession=f"ACCQZ{date}", study_id=f"SIDQZ{number}{person_index}",
                     description=f"Research brain {family} {person['id']}")
        folder = root / f"{family.upper()}_{person['birth_date']}" / f"{date}_{person['id']}"
        for contrast, acquisition, zooms in (("T1", T1, 2.0), ("t2_tse", T2, 3.0),
                                             ("localizer", T1, 4.0)):
            series = dict(uid=f"{uid}.{len(contrast)}", number=len(contrast), time=time,
                          description=f"{contrast} {family}", protocol=f"{person['id']}_{contrast}",
                          comments=f"{family}: moved", acquisition=acquisition,
                          private={"PatientNameCopy": str(person["name"]),
                                   "PatientIDCopy": person["id"],
                                   "OperatorNote": f"scanned for {family}", "CoilName": "Head"})
            image = nib.Nifti1Image((rng.random((10, 12, 8)) * 900).astype(np.uint16),
                                    np.diag([zooms, zooms, zooms, 1.0]))
            simulate.write_dicom_series(image, folder / f"{series['number']:03d}_{contrast}_"
                                        f"{family}", person, study, series)
        secrets += [date, f"{date[:4]}-{date[4:6]}-{date[6:]}", study["accession"],
                    study["study_id"], study["description"], uid]
    for person in PEOPLE:
        secrets += [str(person["name"]), person["name"].family_name, person["name"].given_name,
                    person["id"], person["other_id"], person["birth_date"],
                    person["birth_date"].replace("-", ""), person["address"],
                    person["telephone"], person["history"], person["comments"]]
    secrets += [str(v) for k, v in SITE.items()] + ["Refquagga", "Perfquagga", "Opquagga",
                                                    "1.2.999.4711"]
    return sorted(set(secrets))


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> tuple[Path, list[str]]:
    root = tmp_path_factory.mktemp("source") / "PACS_EXPORT"
    return root, planted_study(root)


@pytest.fixture(scope="module")
def converted(study, tmp_path_factory) -> tuple[Path, bids.BidsReport]:
    out = tmp_path_factory.mktemp("out") / "bids"
    return out, bids.to_bids(study[0], out, KEY, include_sex=True)


def all_text(root: Path) -> list[tuple[str, bytes]]:
    """Every file's path and bytes (gzip files decompressed too)."""
    found = []
    for path in sorted(root.rglob("*")):
        found.append((path.relative_to(root).as_posix(), b""))
        if path.is_file():
            raw = path.read_bytes()
            found.append((path.name, raw + (gzip.decompress(raw) if raw[:2] == b"\x1f\x8b"
                                            else b"")))
    return found


def test_no_planted_identifier_survives_anywhere(study, converted):
    _, secrets = study
    out, _ = converted
    for where, content in all_text(out):
        text = (where.encode() + content).lower()
        for secret in secrets:
            assert secret.lower().encode() not in text, (secret, where)


def test_layout_names_and_sessions_by_date(converted):
    out, report = converted
    a, b = KEY.label("QZP0047131"), KEY.label("OKG0052288")
    assert sorted(report.written) == sorted(
        f"sub-{who}/ses-{n}/anat/sub-{who}_ses-{n}_{suffix}.nii.gz"
        for who, n in ((a, 1), (a, 2), (b, 1)) for suffix in ("T1w", "T2w")
    )
    # the localizers are skipped and reported; nothing failed
    assert [p.message for p in report.skipped] == ["localizer or calibration scan"] * 3
    assert report.failed == []
    for name in report.written:
        assert (out / name).is_file() and (out / name.replace(".nii.gz", ".json")).is_file()


def test_scans_tsv_dates_are_shifted_by_one_shift_per_participant(converted):
    out, _ = converted
    a = KEY.label("QZP0047131")
    times = {}
    for session in (1, 2):
        rows = (out / f"sub-{a}/ses-{session}/sub-{a}_ses-{session}_scans.tsv").read_text()
        header, *lines = rows.splitlines()
        assert header == "filename\tacq_time"
        times[session] = [line.split("\t")[1] for line in lines]
    first, second = times[1][0], times[2][0]
    assert first[:4] <= "1925" and second[:4] <= "1925"
    import datetime as dt
    gap = dt.date.fromisoformat(second[:10]) - dt.date.fromisoformat(first[:10])
    assert gap.days == (dt.date(2024, 4, 22) - dt.date(2024, 3, 11)).days
    assert first[10:] == "T09:30:12"  # time of day kept, as in the DICOM step


def test_participants_age_capped_and_sex_only_when_asked(converted, study, tmp_path):
    out, _ = converted
    rows = [line.split("\t") for line in (out / "participants.tsv").read_text().splitlines()]
    assert rows[0] == ["participant_id", "age", "sex"]
    ages = {r[0]: r[1:] for r in rows[1:]}
    assert ages[f"sub-{KEY.label('QZP0047131')}"] == ["62", "F"]  # 1961-04-12 to 2024-03-11
    assert ages[f"sub-{KEY.label('OKG0052288')}"] == ["89", "M"]  # 93, capped
    assert json.loads((out / "participants.json").read_text())["age"]["Units"] == "year"
    plain = bids.to_bids(study[0], tmp_path / "nosex", KEY)
    assert (plain.dataset / "participants.tsv").read_text().splitlines()[0] == (
        "participant_id\tage")


def test_sidecars_hold_only_allowed_fields_and_the_method(converted):
    out, _ = converted
    allowed = bids.sidecar_allowlist()
    for path in out.rglob("sub-*_T?w.json"):
        sidecar = json.loads(path.read_text())
        assert set(sidecar) <= allowed | {"DeidentificationMethod"}
        assert sidecar["DeidentificationMethod"] and "EchoTime" in sidecar
        for gone in ("InstitutionName", "StationName", "DeviceSerialNumber", "ImageComments",
                     "SeriesDescription", "ProtocolName", "AcquisitionTime"):
            assert gone not in sidecar


def test_images_are_scrubbed_and_keep_dcm2niix_geometry(converted, study, tmp_path):
    out, report = converted
    for name in report.written:
        assert nifti.header_findings(out / name) == []
    # the voxels and affine are exactly those dcm2niix makes
    okapi = sorted(study[0].glob("OKAPIFAM_*/*/002_T1_*"))[0]
    bids.run_dcm2niix(okapi, tmp_path, "-z", "n", "-f", "plain")
    plain = nib.load(tmp_path / "plain.nii")
    label = KEY.label("OKG0052288")
    ours = nib.load(out / f"sub-{label}/ses-1/anat/sub-{label}_ses-1_T1w.nii.gz")
    np.testing.assert_array_equal(plain.dataobj.get_unscaled(), ours.dataobj.get_unscaled())
    np.testing.assert_array_equal(plain.affine, ours.affine)
    assert plain.get_data_dtype() == ours.get_data_dtype()
    assert plain.header.get_xyzt_units() == ours.header.get_xyzt_units()
    assert plain.header["descrip"].item() and not ours.header["descrip"].item()


def test_allowlist_comes_from_the_schema_and_denies_site_fields():
    from bidsschematools import schema

    metadata = set(schema.load_schema().objects.metadata.keys())
    allowed = bids.sidecar_allowlist()
    assert allowed <= metadata
    assert {"EchoTime", "RepetitionTime", "FlipAngle", "MagneticFieldStrength"} <= allowed
    assert not allowed & set(bids.SIDECAR_DENY)
    kept, dropped = bids.scrub_sidecar({"EchoTime": 0.1, "SequenceName": "tfl_Quaggafam"},
                                       identifiers=["Quaggafam"])
    assert kept == {"EchoTime": 0.1} and dropped == ["SequenceName"]


@pytest.mark.parametrize(
    "info, outcome",
    [
        ({"SeriesDescription": "T1 MPRAGE sag", "EchoTime": "2.98"}, "T1w"),
        ({"ProtocolName": "t2_tse_tra", "EchoTime": "98"}, "T2w"),
        ({"SeriesDescription": "t2_flair_tra", "EchoTime": "90"}, "FLAIR"),
        ({"SeriesDescription": "T1 MPRAGE", "EchoTime": "98"}, "skip"),  # disagreement
        ({"SeriesDescription": "AAHead_Scout", "EchoTime": "3"}, "skip"),
        ({"SeriesDescription": "T1", "EchoTime": "3", "ImageType": ["DERIVED", "MPR"]}, "skip"),
        ({"SeriesDescription": "T1", "EchoTime": "3", "Modality": "CT"}, "skip"),
        ({"SeriesDescription": "T1", "EchoTime": "3",
          "SOPClassUID": "1.2.840.10008.5.1.4.1.1.7"}, "skip"),
        ({"SeriesDescription": "series 7", "EchoTime": "3", "InversionTime": "900",
          "ScanningSequence": ["GR", "IR"], "MRAcquisitionType": "3D"}, "T1w"),
        ({"SeriesDescription": "series 8", "EchoTime": "100", "RepetitionTime": "6000",
          "ScanningSequence": "SE"}, "T2w"),
        ({"SeriesDescription": "dwi_b1000", "EchoTime": "80"}, "unknown"),
    ],
)
def test_classification_rules(info, outcome):
    base = {"Modality": "MR", "SOPClassUID": "1.2.840.10008.5.1.4.1.1.4"}
    assert bids.classify({**base, **info})[0] == outcome


def test_rules_are_data():
    assert all(isinstance(rule, bids.Rule) for rule in bids.SERIES_RULES)
    with pytest.raises(ValueError, match="Unknown test 'near'"):
        bids.classify({"EchoTime": "3"}, [bids.Rule("T1w", "x", {"te_ms": ("near", 3)})])


def test_destination_inside_source_or_not_empty_is_refused(study, tmp_path):
    with pytest.raises(bids.DestinationError, match="inside the source"):
        bids.to_bids(study[0], study[0] / "bids", KEY)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(bids.DestinationError, match="not an empty folder"):
        bids.to_bids(study[0], tmp_path / "full", KEY)


def _dirty(original):
    """A converter whose output NIfTI carries identifiers in every header carrier."""

    def convert(files, work):
        images, message = original(files, work)
        description = str(pydicom.dcmread(files[0]).SeriesDescription)
        dirty = []
        for image in images:
            img = nib.load(image)
            img.header["db_name"] = b"Quaggafam"
            img.header["intent_name"] = b"QZP0047131"
            img.header.extensions.append(nifti1.Nifti1Extension(6, description.encode()))
            target = image.with_name("image.nii.gz")
            with open(target, "wb") as f, gzip.GzipFile(f"{description}.nii", "wb", fileobj=f,
                                                        mtime=1710145812) as gz:
                gz.write(img.to_bytes())
            image.unlink()
            dirty.append(target)
        return dirty, message

    return convert


def test_identifiers_planted_in_converter_output_are_removed(study, tmp_path, monkeypatch):
    monkeypatch.setattr(bids, "_convert", _dirty(bids._convert))
    report = bids.to_bids(study[0], tmp_path / "bids", KEY)
    assert len(report.written) == 6 and not report.failed
    for where, content in all_text(tmp_path / "bids"):
        for secret in [*study[1], "Quaggafam", "t2_tse"]:
            assert secret.lower().encode() not in (where.encode() + content).lower(), secret
    for name in report.written:
        assert nifti.gzip_header(tmp_path / "bids" / name)["mtime"] == 0


@pytest.mark.parametrize("damage", ["dicom-extension", "corrupt-gz", "no-output"])
def test_bad_series_are_named_and_the_rest_is_done(study, tmp_path, monkeypatch, damage):
    original = bids._convert

    def convert(files, work):
        images, message = original(files, work)
        if "t2" not in str(pydicom.dcmread(files[0]).SeriesDescription).lower():
            return images, message
        target = images[0].with_name("image.nii.gz")
        if damage == "dicom-extension":
            img = nib.load(images[0])
            img.header.extensions.append(nifti1.Nifti1Extension(2, files[0].read_bytes()))
            target.write_bytes(gzip.compress(img.to_bytes()))
        elif damage == "corrupt-gz":
            target.write_bytes(gzip.compress(images[0].read_bytes())[:-100])
        images[0].unlink()
        return ([] if damage == "no-output" else [target]), "Error: simulated"

    monkeypatch.setattr(bids, "_convert", convert)
    report = bids.to_bids(study[0], tmp_path / "bids", KEY)
    assert len(report.written) == 3 and len(report.failed) == 3
    expected = {"dicom-extension": "DICOM header", "corrupt-gz": "damaged gzip",
                "no-output": "could not convert"}[damage]
    for problem in report.failed:
        assert "_t2_tse_" in problem.source and expected in problem.message
        assert "mrishare-convert" not in problem.message  # temporary paths are not shown
    assert all(name.endswith("T1w.nii.gz") for name in report.written)


def test_source_is_left_byte_identical_and_sample_study_converts(tmp_path):
    source = data.sample_path("dicom_study")
    before = {p: data.sha256(p) for p in source.rglob("*") if p.is_file()}
    report = bids.to_bids(source, tmp_path / "bids", KEY)
    assert {p: data.sha256(p) for p in source.rglob("*") if p.is_file()} == before
    assert len(report.written) == 6 and len(report.skipped) == 1 and not report.failed
    assert "another modality" in report.skipped[0].message  # the screen capture
    assert not list(tmp_path.glob(".mrishare-*"))  # no temporary folder left behind


def validator() -> list[str]:
    program = Path(sys.executable).with_name("bids-validator-deno")
    if not program.exists():
        pytest.fail("bids-validator-deno is not installed: pip install the 'test' extra")
    return [str(program)]


def test_the_bids_validator_finds_no_errors(converted):
    out, _ = converted
    result = subprocess.run([*validator(), str(out), "--format", "json"], capture_output=True,
                            text=True, timeout=300)
    issues = json.loads(result.stdout)["issues"]["issues"]
    errors = [i for i in issues if i["severity"] == "error"]
    assert errors == [], errors
    warned = {i.get("subCode") for i in issues if i["code"] == "SIDECAR_KEY_RECOMMENDED"}
    # the validator recommends the very fields de-identification removes
    assert {"InstitutionName", "DeviceSerialNumber", "StationName"} <= warned


@pytest.mark.parametrize(("sessions", "layout"), [(None, "plain"), (True, "ses")])
def test_session_level_can_be_decided_for_the_whole_study(study, tmp_path, sessions, layout):
    """One participant with one session: ses- folders only when the caller asks for them."""
    all_series = bids.find_series(study[0])[0]
    assert bids.uses_sessions(all_series)
    okapi = [s for s in all_series if "OKAPIFAM" in str(s.folder)]
    assert not bids.uses_sessions(okapi)
    folder = next(study[0].glob("OKAPIFAM*"))
    source = tmp_path / "one"
    shutil.copytree(folder, source / folder.name)
    report = bids.to_bids(source, tmp_path / "bids", KEY, sessions=sessions)
    who = KEY.label("OKG0052288")
    expected = (f"sub-{who}/anat/sub-{who}_T1w.nii.gz" if layout == "plain"
                else f"sub-{who}/ses-1/anat/sub-{who}_ses-1_T1w.nii.gz")
    assert expected in report.written


def test_no_session_level_refused_for_a_participant_with_two(study, tmp_path):
    with pytest.raises(ValueError, match="more than one session"):
        bids.to_bids(study[0], tmp_path / "bids", KEY, sessions=False)
