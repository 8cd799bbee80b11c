"""Tests of `mrishare audit`: exit statuses, JSON report, identifier files, usage errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian

from mrishare.cli import run


@pytest.fixture
def source(tmp_path) -> Path:
    """A one-file DICOM source with invented identifiers."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.4"
    ds.file_meta.MediaStorageSOPInstanceUID = "1.2.999.4711.1.1.3.1"
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.4"
    ds.SOPInstanceUID = "1.2.999.4711.1.1.3.1"
    ds.PatientName = "Jansen^Marieke^A"
    ds.PatientID = "VUMC0047131"
    ds.OperatorsName = "Visser^Tom"
    ds.InstitutionName = "Voorbeeld University Medical Centre"
    path = tmp_path / "src" / "JANSEN_MARIEKE_19870412" / "IM00001.dcm"
    path.parent.mkdir(parents=True)
    ds.save_as(path, enforce_file_format=True)
    return tmp_path / "src"


@pytest.fixture
def dataset(tmp_path) -> Path:
    out = tmp_path / "bids"
    (out / "sub-gfpkkb9j" / "anat").mkdir(parents=True)
    (out / "sub-gfpkkb9j" / "anat" / "sub-gfpkkb9j_T1w.json").write_text(
        '{"RepetitionTime": 2.3, "EchoTime": 0.003}')
    (out / "participants.tsv").write_text("participant_id\tage\nsub-gfpkkb9j\t36\n")
    return out


def test_clean_dataset_exits_0(source, dataset, capsys):
    assert run(["audit", str(dataset), "--against", str(source), "--no-face-check"]) == 0
    assert capsys.readouterr().out.startswith("Clean")


def test_leak_exits_1_and_json(source, dataset, tmp_path, capsys):
    (dataset / "sub-gfpkkb9j" / "anat" / "sub-gfpkkb9j_T1w.json").write_text(
        '{"RepetitionTime": 2.3, "InstitutionName": "Voorbeeld University Medical Centre"}')
    report = tmp_path / "audit.json"
    status = run(["audit", str(dataset), "--against", str(source), "--no-face-check",
                  "--json", str(report)])
    assert status == 1
    out = capsys.readouterr().out
    assert "key InstitutionName" in out and "institution" in out
    assert "Voorbeeld" not in out  # values are masked
    content = json.loads(report.read_text())
    assert content["clean"] is False
    assert content["findings"][0]["place"] == "key InstitutionName"


def test_identifier_file(dataset, tmp_path):
    (dataset / "README").write_text("Recruited through project PROJ-2024-117.\n")
    listed = tmp_path / "ids.txt"
    listed.write_text("PROJ-2024-117\n")
    assert run(["audit", str(dataset), "--identifiers", str(listed), "--no-face-check"]) == 1


def test_json_report_inside_the_dataset_is_not_audited(source, dataset, capsys):
    (dataset / "notes.txt").write_text("Marieke")
    report = dataset / "audit.json"
    assert run(["audit", str(dataset), "--against", str(source), "--no-face-check",
                "--json", str(report)]) == 1
    first = json.loads(report.read_text())
    assert run(["audit", str(dataset), "--against", str(source), "--no-face-check",
                "--json", str(report)]) == 1
    assert json.loads(report.read_text())["findings"] == first["findings"]


@pytest.mark.parametrize(("args", "message"), [
    (["/no/such/folder"], "DIR must be a folder"),
    ([".", "--against", "/no/such/source"], "does not exist"),
    ([".", "--identifiers", "/no/such/file.txt"], "one value per line"),
])
def test_usage_errors_exit_2(args, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        run(["audit", *args])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_console_script_exit_status(source, dataset):
    (dataset / "notes.txt").write_text("operator Tom Visser")
    command = [sys.executable, "-m", "mrishare", "audit", str(dataset), "--against",
               str(source), "--no-face-check"]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 1, result.stderr
    assert "staff name" in result.stdout
    (dataset / "notes.txt").unlink()
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_face_still_present_exits_1(tmp_path, capsys):
    import nibabel as nib

    from mrishare import deface, nifti
    from mrishare.lessons import simulate

    head = simulate.simulate_scan(seed=32, zooms=(3.5, 3.5, 3.5), truth=False).image
    anat = tmp_path / "faces" / "sub-01" / "anat"
    anat.mkdir(parents=True)
    nib.save(head, anat / "sub-01_T1w.nii.gz")
    assert run(["audit", str(tmp_path / "faces")]) == 1
    assert "face present" in capsys.readouterr().out
    nifti.save_nifti(deface.deface(head).image, anat / "sub-01_T1w.nii.gz")
    assert run(["audit", str(tmp_path / "faces")]) == 0
