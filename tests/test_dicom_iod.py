"""Tests for mrishare.dicom.iod and the type-aware plan: combined actions chosen by type."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from dicom_helpers import KEY, ROOT, make_dataset
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from mrishare import dicom
from mrishare.dicom import iod
from mrishare.errors import RuleFileError

ENHANCED_MR = "1.2.840.10008.5.1.4.1.1.4.1"
REPO = Path(__file__).resolve().parent.parent


def test_the_tables_name_their_source_and_know_the_mr_classes():
    tables = iod.iod_tables()
    assert tables.source.startswith("highdicom 0.28.2")
    assert iod.iod_of("1.2.840.10008.5.1.4.1.1.4") == "mr-image"
    assert iod.iod_of(ENHANCED_MR) == "enhanced-mr-image"
    assert iod.iod_of("1.2.3.4") is None


@pytest.mark.skipif(importlib.util.find_spec("highdicom") is None,
                    reason="highdicom (test extra) is not installed")
def test_the_committed_tables_are_what_the_script_makes():
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    done = subprocess.run([sys.executable, str(REPO / "tools" / "make_iod_types.py"), "--check"],
                          capture_output=True, text=True, cwd=REPO, check=False, env=env)
    assert done.returncode == 0, done.stdout + done.stderr


def test_enhanced_mr_keeps_its_required_attributes_with_dummies():
    ds = make_dataset()
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = ENHANCED_MR
    ds.DeviceSerialNumber = "SN-4711-XYZ"
    out = dicom.deidentify(ds, KEY)
    # Type 1 in Enhanced General Equipment and the Multi-frame module: dummies, not gone
    assert out.DeviceSerialNumber == "ANONYMIZED"
    assert out.ContentDate == "19000101" and out.ContentTime == "000000"
    # the same attributes in a classic MR image: optional (3) or Type 2
    classic = dicom.deidentify(make_dataset(), KEY)
    assert "DeviceSerialNumber" not in classic and classic.ContentDate in ("", None)


def test_unknown_sop_class_takes_the_strictest_choice_and_says_so():
    ds = make_dataset()
    ds.SOPClassUID = "1.2.999.1"
    notes: list[str] = []
    out = dicom.deidentify(ds, KEY, notes=notes)
    assert "ContentDate" in out and not out.ContentDate  # Z/D -> Z, the fallback
    assert any("1.2.999.1 is not in the standard's IOD tables" in n for n in notes)


def test_typed_plans_follow_options():
    kept = dicom.typed_plans(ENHANCED_MR, dicom.Options(keep_longitudinal_dates=True))
    assert kept is not None and kept[()][0x00080023] == "C"  # shifted, not a dummy
    assert dicom.typed_plans("1.2.999.1") is None


@pytest.mark.filterwarnings("ignore:Invalid value for VR UI")
def test_every_uid_is_replaced_at_any_depth_malformed_too():
    ds = make_dataset()
    inner = Dataset()
    inner.add_new(0x00081155, "UI", "1.2.999.0047.1.")  # malformed: leading zero, final dot
    inner.add_new(0x0020000D, "UI", f"{ROOT}.77")
    ds.AnatomicRegionSequence[0].PurposeOfReferenceCodeSequence = Sequence([inner])
    ds.add_new(0x00400554, "UI", f"{ROOT}.5")  # Specimen UID: not in the table
    out = dicom.deidentify(ds, KEY)
    deep = out.AnatomicRegionSequence[0].PurposeOfReferenceCodeSequence[0]
    assert deep.ReferencedSOPInstanceUID == KEY.uid("1.2.999.0047.1.")
    assert deep.StudyInstanceUID == KEY.uid(f"{ROOT}.77") == dicom.deidentify(
        make_dataset(study="77"), KEY).StudyInstanceUID
    assert out[0x00400554].value == KEY.uid(f"{ROOT}.5")
    assert out.SOPClassUID == ds.SOPClassUID  # a class: kept
    assert out.file_meta.ImplementationClassUID.startswith("1.2.826.0.1.3680043.8.498")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c.pop("modules"), "lacks modules"),
        (lambda c: c["modules"]["patient"].append(["", "PatientID", "4"]), "malformed row"),
        (lambda c: c["modules"]["patient"].append(["", "PatientIdent", "1"]),
         "not a DICOM keyword"),
        (lambda c: c["iods"]["mr-image"].append("no-such-module"), "unknown modules"),
        (lambda c: c["sop_classes"].update({"1.2.3": "no-such-iod"}), "unknown IOD"),
    ],
)
def test_a_broken_tables_file_gives_a_clear_error(tmp_path, change, message):
    content = json.loads((REPO / "src/mrishare/rules" / iod.IOD_FILE).read_text())
    change(content)
    bad = tmp_path / "types.json"
    bad.write_text(json.dumps(content))
    with pytest.raises(RuleFileError, match=message):
        iod.iod_tables(str(bad))
    bad.write_text("{ not json")
    with pytest.raises(RuleFileError, match="not JSON"):
        iod.iod_tables(str(bad))
