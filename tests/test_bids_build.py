"""DICOM to BIDS end to end: names, tables, scrubbed files, failures named, the validator."""

from __future__ import annotations

import datetime as dt
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
from bids_study import KEY, T1, all_text, planted_study, write_bare, write_series
from nibabel import nifti1
from pydicom.valuerep import PersonName

from mrishare import bids, data, identifiers, nifti
from mrishare.bids import convert


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> tuple[Path, list[str]]:
    root = tmp_path_factory.mktemp("source") / "PACS_EXPORT"
    return root, planted_study(root)


@pytest.fixture(scope="module")
def converted(study, tmp_path_factory) -> tuple[Path, bids.BidsReport]:
    out = tmp_path_factory.mktemp("out") / "bids"
    return out, bids.to_bids(study[0], out, KEY, include_sex=True)


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
    gap = dt.date.fromisoformat(second[:10]) - dt.date.fromisoformat(first[:10])
    assert gap.days == (dt.date(2024, 4, 22) - dt.date(2024, 3, 11)).days
    assert first[10:] == "T09:30:12"  # time of day kept, as in the DICOM step


def test_participants_age_capped_and_sex_only_when_asked(converted, study, tmp_path):
    out, _ = converted
    rows = [line.split("\t") for line in (out / "participants.tsv").read_text().splitlines()]
    assert rows[0] == ["participant_id", "age", "sex"]
    ages = {r[0]: r[1:] for r in rows[1:]}
    assert ages[f"sub-{KEY.label('QZP0047131')}"] == ["62", "F"]  # 1961-04-12 to 2024-03-11
    assert ages[f"sub-{KEY.label('OKG0052288')}"] == ["89+", "M"]  # 93: 89 or more
    described = json.loads((out / "participants.json").read_text())["age"]
    assert described["Units"] == "year" and "89+" in described["Description"]
    plain = bids.to_bids(study[0], tmp_path / "nosex", KEY)
    assert (plain.dataset / "participants.tsv").read_text().splitlines()[0] == (
        "participant_id\tage")


def test_readme_says_what_was_done_and_that_faces_remain(converted):
    out, _ = converted
    readme = (out / "README").read_text()
    assert readme == bids.dataset_readme(defaced=False, random_key=False, tool="to-bids")
    assert "89+" in readme and "NOT been removed" in readme and "random key" not in readme


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


def test_destination_inside_source_or_not_empty_is_refused(study, tmp_path):
    with pytest.raises(bids.DestinationError, match="inside the source"):
        bids.to_bids(study[0], study[0] / "bids", KEY)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(bids.DestinationError, match="not an empty folder"):
        bids.to_bids(study[0], tmp_path / "full", KEY)


def test_a_source_that_is_not_a_folder_is_a_source_error(tmp_path):
    (tmp_path / "file.dcm").write_bytes(b"x")
    for source in (tmp_path / "file.dcm", tmp_path / "missing"):
        with pytest.raises(bids.SourceError, match="is not a folder"):
            bids.to_bids(source, tmp_path / "out", KEY)
    assert not (tmp_path / "out").exists()


def _each_series(change):
    """A convert_study whose result for each series passes through ``change(files, done)``."""
    original = convert.convert_study

    def convert_study(series, work, jobs=1):
        return [change(files, done)
                for (_, files), done in zip(series, original(series, work, jobs), strict=True)]

    return convert_study


def _dirty(files, done):
    """Make a converted series carry identifiers in every header carrier."""
    description = str(pydicom.dcmread(files[0]).SeriesDescription)
    dirty = []
    for image in done.images:
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
    return convert.Conversion(dirty, done.message)


def test_identifiers_planted_in_converter_output_are_removed(study, tmp_path, monkeypatch):
    monkeypatch.setattr(convert, "convert_study", _each_series(_dirty))
    report = bids.to_bids(study[0], tmp_path / "bids", KEY)
    assert len(report.written) == 6 and not report.failed
    for where, content in all_text(tmp_path / "bids"):
        for secret in [*study[1], "Quaggafam", "t2_tse"]:
            assert secret.lower().encode() not in (where.encode() + content).lower(), secret
    for name in report.written:
        assert nifti.gzip_header(tmp_path / "bids" / name)["mtime"] == 0


@pytest.mark.parametrize("damage", ["dicom-extension", "corrupt-gz", "no-output", "split"])
def test_bad_series_are_named_and_the_rest_is_done(study, tmp_path, monkeypatch, damage):
    def damaged(files, done):
        if "t2" not in str(pydicom.dcmread(files[0]).SeriesDescription).lower():
            return done
        image = done.images[0]
        target = image.with_name("image.nii.gz")
        if damage == "dicom-extension":
            img = nib.load(image)
            img.header.extensions.append(nifti1.Nifti1Extension(2, files[0].read_bytes()))
            target.write_bytes(gzip.compress(img.to_bytes()))
        elif damage == "corrupt-gz":
            target.write_bytes(gzip.compress(image.read_bytes())[:-100])
        elif damage == "split":  # dcm2niix's split of mixed geometry: not told apart
            shutil.copy(image, target.with_name("image_i00002.nii"))
            return convert.Conversion([image, target.with_name("image_i00002.nii")], "")
        image.unlink()
        return convert.Conversion([] if damage == "no-output" else [target], "Error: simulated")

    monkeypatch.setattr(convert, "convert_study", _each_series(damaged))
    report = bids.to_bids(study[0], tmp_path / "bids", KEY)
    assert len(report.written) == 3 and len(report.failed) == 3
    expected = {"dicom-extension": "DICOM header", "corrupt-gz": "damaged gzip",
                "no-output": "dcm2niix said: Error: simulated", "split": "mixed geometry"}[damage]
    for problem in report.failed:
        assert "_t2_tse_" in problem.source and expected in problem.message
        assert "mrishare-convert" not in problem.message  # temporary paths are not shown
    assert all(name.endswith("T1w.nii.gz") for name in report.written)


def test_source_is_left_byte_identical_and_sample_study_converts(tmp_path):
    source = data.sample_path("dicom_study")
    before = {p: data.sha256(p) for p in source.rglob("*") if p.is_file()}
    report = bids.to_bids(source, tmp_path / "bids", KEY)
    assert {p: data.sha256(p) for p in source.rglob("*") if p.is_file()} == before
    assert len(report.written) == 18 and len(report.skipped) == 2 and not report.failed
    assert "another modality" in report.skipped[0].message  # the screen capture
    assert report.skipped[1].message.startswith("not mapped: ")  # the site's own series
    assert not list(tmp_path.glob(".mrishare-*"))  # no temporary folder left behind


def test_a_series_without_file_meta_header_is_converted(tmp_path):
    """Old exports write bare data sets (no preamble, no 'DICM', implicit VR)."""
    source = data.sample_path("dicom_study")
    series = sorted(source.glob("DEBOER_*/*/003_*"))[0]
    bare = write_bare(series, tmp_path / "src" / "old_export")
    assert pydicom.dcmread(next(bare.iterdir()), force=True).preamble is None
    report = bids.to_bids(tmp_path / "src", tmp_path / "bids", KEY)
    assert report.skipped == [] and report.failed == []
    label = KEY.label("VUMC0052288")
    assert report.written == [f"sub-{label}/anat/sub-{label}_T1w.nii.gz"]
    reference = bids.to_bids(series.parent, tmp_path / "reference", KEY)
    ours = nib.load(tmp_path / "bids" / report.written[0])
    theirs = nib.load(tmp_path / "reference" / reference.written[0])
    np.testing.assert_array_equal(ours.dataobj.get_unscaled(), theirs.dataobj.get_unscaled())
    np.testing.assert_array_equal(ours.affine, theirs.affine)


@pytest.mark.parametrize(
    ("birth", "scan", "expected"),
    [
        ("19870412", "20240411", "36"),  # the eve of a birthday
        ("19870412", "20240412", "37"),  # the birthday itself
        ("19350412", "20240411", "88"),  # the eve of the 89th birthday
        ("19350412", "20240412", "89+"),  # 89
        ("19340101", "20240301", "89+"),  # 90
    ],
)
def test_bids_and_tabular_give_the_same_age(tmp_path, birth, scan, expected):
    """participants.tsv holds identifiers.bids_age(identifiers.dicom_age(...)), by the calendar."""
    person = dict(name=PersonName("Agefam^Given"), id="AGE0000001", other_id="",
                  birth_date=f"{birth[:4]}-{birth[4:6]}-{birth[6:]}", sex="F", height_m="1.7",
                  weight_kg="60", address="", telephone="", history="", comments="")
    write_series(tmp_path / "src" / "series", person, scan, 1, "T1", T1)
    bids.to_bids(tmp_path / "src", tmp_path / "bids", KEY)
    row = (tmp_path / "bids" / "participants.tsv").read_text().splitlines()[1].split("\t")
    assert row[1] == expected == identifiers.bids_age(identifiers.dicom_age("", birth, scan))


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
