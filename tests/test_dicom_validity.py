"""Real files nobody here wrote: de-identified outputs stay as valid as their inputs.

Every file pydicom and nibabel ship, and the sample study, go through ``deidentify_folder``
with ``validate=True``: dciodvfy (dicom3tools) must find no output with an error its input
did not have, and no original UID or identifying value may be left in any output.

dciodvfy is needed: without it these tests skip, unless ``MRISHARE_REQUIRE_TOOLS=1`` (as
``make test`` sets), when they fail.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pydicom
import pydicom.data
import pytest
from dicom_helpers import KEY
from helpers import sample_study_images
from pydicom.dataset import Dataset

from mrishare import data, dicom
from mrishare.dicom import validate
from mrishare.readers import read_dicom

# Validates every output with dciodvfy: `make test` runs these, `make unit` leaves them out.
pytestmark = pytest.mark.slow

REQUIRED = os.environ.get("MRISHARE_REQUIRE_TOOLS") == "1"


@pytest.fixture(scope="module")
def dciodvfy() -> str:
    tool = validate.available()
    if tool is None:
        message = "dciodvfy (package dicom3tools) is not installed"
        if REQUIRED:
            pytest.fail(f"{message}, and MRISHARE_REQUIRE_TOOLS=1")
        pytest.skip(message)
    return tool


def _shipped(root: Path) -> Path:
    """Copy the files pydicom and nibabel ship into ``root`` (pydicom/, nibabel/)."""
    import nibabel

    base = Path(pydicom.data.get_testdata_file("CT_small.dcm")).parent
    for name in pydicom.data.get_testdata_files():
        path = Path(name)
        if path.is_file():
            target = root / "pydicom" / path.relative_to(base)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, target)
    folder = Path(nibabel.__file__).parent / "nicom" / "tests" / "data"
    (root / "nibabel").mkdir(parents=True)
    for path in folder.glob("*.dcm"):
        shutil.copy(path, root / "nibabel" / path.name)
    return root


def _uid_values(ds: Dataset) -> set[str]:
    """Every UID value of a file that is not the standard's own nor a kept class UID.

    The implementation class UID is left aside: outputs name pydicom's, a public one.
    """
    kept = dicom.profile_rules().kept_uids
    found = set()
    for elem in [*getattr(ds, "file_meta", []), *ds.iterall()]:
        if elem.VR == "UI" and elem.tag not in kept and elem.value and \
                elem.keyword != "ImplementationClassUID":
            values = elem.value if isinstance(elem.value, list | pydicom.multival.MultiValue) \
                else [elem.value]
            found |= {str(v).strip(" \x00") for v in values
                      if not str(v).startswith(dicom.actions.STANDARD_UID_ROOT)}
    return found - {""}


def _text(ds: Dataset) -> str:
    """All values of a file but bulk data (pixels, waveforms), case folded."""
    return "\n".join(str(e.value) for e in [*getattr(ds, "file_meta", []), *ds.iterall()]
                     if e.VR not in ("SQ", "OB", "OW", "OF", "OD", "UN")).casefold()


def _identifying(ds: Dataset) -> set[str]:
    """Values the profile removes, empties or replaces (five characters or more).

    Values that the same file also holds in an attribute it keeps (a hospital named after
    the scanner's maker, "TOSHIBA" in "TOSHIBA_MEC") and values equal to a dummy are not
    identifying here.
    """
    plan = dicom.plan()
    dummies = {str(v).casefold() for v in dicom.profile_rules().dummy_by_vr.values()}
    gone, kept = set(), set()
    for elem in ds.iterall():
        if elem.VR in ("SQ", "OB", "OW", "UN", "UI") or elem.tag.is_private or not elem.value:
            continue
        text = str(elem.value).strip().casefold()
        (gone if plan.get(elem.tag) in ("X", "Z", "D") else kept).add(text)
    return {v for v in gone - dummies if len(v) >= 5 and not any(v in k for k in kept)}


def _check_outputs(src: Path, dst: Path, report: dicom.Report) -> int:
    """Assert no added dciodvfy error and no original UID or identifying value; count."""
    assert "dciodvfy checked" in report.validation
    invalid = {f.source: f.added_errors for f in report.made_invalid}
    assert not invalid, invalid
    written = [f for f in report.files if f.fate == "written"]
    for fate in written:
        source = read_dicom(src / fate.source, stop_before_pixels=True)
        output = pydicom.dcmread(dst / fate.output)
        raw = (dst / fate.output).read_bytes()
        left = [uid for uid in _uid_values(source)  # whole UIDs, not a prefix of another
                if re.search(rb"(?<![0-9.])" + re.escape(uid.encode()) + rb"(?![0-9.])", raw)]
        assert not left, (fate.source, left)
        assert not _uid_values(source) & _uid_values(output), fate.source
        text = _text(output)
        values = [v for v in _identifying(source)  # as a whole word ("45817" in 0.458172)
                  if re.search(rf"(?<![0-9a-z]){re.escape(v)}(?![0-9a-z])", text)]
        assert not values, (fate.source, values)
    return len(written)


def test_shipped_files_stay_valid_and_keep_nothing(tmp_path, dciodvfy):
    src = _shipped(tmp_path / "src")
    report = dicom.deidentify_folder(src, tmp_path / "out", KEY, validate=True)
    written = _check_outputs(src, tmp_path / "out", report)
    assert written >= 100
    # the RT doses that share one SOP Instance UID: each written, each with its own UID
    doses = [f for f in report.files if f.source.startswith("pydicom/rtdose")]
    assert len(doses) >= 6 and {f.fate for f in doses} == {"written"}
    uids = {pydicom.dcmread(tmp_path / "out" / f.output).SOPInstanceUID for f in doses}
    assert len(uids) == len(doses)
    overlay = next(f for f in report.files if f.source == "pydicom/examples_overlay.dcm")
    assert "overlay removed (group 6000, every element)" in overlay.notes


def test_sample_study_stays_valid_and_keeps_nothing(tmp_path, dciodvfy):
    src = data.sample_path("dicom_study", verify=False)
    report = dicom.deidentify_folder(src, tmp_path / "out", KEY, jobs=2, validate=True)
    assert _check_outputs(src, tmp_path / "out", report) == sample_study_images()[0]
    assert report.exit_status == 0


def test_a_missing_validator_is_said_plainly(tmp_path, monkeypatch):
    monkeypatch.setattr(validate, "available", lambda: None)
    src = data.sample_path("pydicom_MR_small")
    report = dicom.deidentify_folder(src, tmp_path / "out", KEY, validate=True)
    assert report.validation == validate.NOT_INSTALLED
    assert "not installed" in report.summary() and report.exit_status == 0


def test_an_error_the_output_adds_is_reported(tmp_path, dciodvfy):
    original = data.sample_path("pydicom_MR_small")
    broken = pydicom.dcmread(original)
    del broken.Rows  # Type 1 in the Image Pixel module
    broken.save_as(tmp_path / "broken.dcm")
    added = validate.check_pair(original, tmp_path / "broken.dcm")
    assert any("Rows" in line and "Type 1" in line for line in added), added
    assert validate.check_pair(original, original) == []
