"""Tests of `mrishare prepare`: exit statuses, re-runs, labels for job arrays, usage errors."""

from __future__ import annotations

import contextlib
import io
import logging
import subprocess
import sys
from pathlib import Path

import nibabel as nib
import pytest
from helpers import study_subset, tree_digest

from mrishare import data
from mrishare.cli import run
from mrishare.keys import Key

# Prepares the sample study: `make test` runs these, `make unit` leaves them out.
pytestmark = pytest.mark.slow


@pytest.fixture
def key_file(tmp_path) -> Path:
    return Key.generate().save(tmp_path / "study.key")


def run_quietly(args: list[str]) -> tuple[int, str, str]:
    """Run the command; return its status, stdout and stderr (for module-scoped fixtures)."""
    out, err = io.StringIO(), io.StringIO()
    handler = logging.StreamHandler(err)
    logging.getLogger("mrishare").addHandler(handler)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = run(args)
    finally:
        logging.getLogger("mrishare").removeHandler(handler)
    return status, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> dict:
    """Two participants (one T2w series each) prepared once, with --jobs 2 and the face check."""
    tmp = tmp_path_factory.mktemp("cli")
    source = study_subset(tmp / "src", ("DEBOER*/*/005_*", "JANSEN*/20240422*/005_*"))
    key_file = Key.generate().save(tmp / "study.key")
    dst = tmp / "shared"
    args = ["prepare", str(source), str(dst), "--key-file", str(key_file), "--jobs", "2"]
    status, out, err = run_quietly(args)
    return dict(source=source, key_file=key_file, dst=dst, args=args, status=status, out=out,
                err=err, digest=tree_digest(dst))


def test_prepare_exits_0_and_audits_clean(prepared):
    assert prepared["status"] == 0, prepared["out"] + prepared["err"]
    assert "2 participants (0 done before); audit: clean" in prepared["out"]
    report = prepared["dst"].parent / "shared_report"
    assert (report / "report.html").is_file()
    assert len(list((report / "images").glob("*_before_after.png"))) == 2
    assert len(list(prepared["dst"].glob("sub-*/anat/*_T2w.nii.gz"))) == 2


def test_rerun_skips_everyone_and_changes_no_byte(prepared):
    status, out, _ = run_quietly(prepared["args"])
    assert status == 0
    assert "2 participants (2 done before)" in out
    assert tree_digest(prepared["dst"]) == prepared["digest"]


def test_job_array_of_participant_labels_gives_the_same_dataset(prepared, tmp_path):
    """One job per --participant-label (as a SLURM array would run) = one run with --jobs 2."""
    common = [str(prepared["source"]), str(tmp_path / "shared"), "--key-file",
              str(prepared["key_file"])]
    status, out, _ = run_quietly(["prepare", *common, "--list-participants"])
    labels = out.split()
    assert status == 0 and len(labels) == 2
    for number, label in enumerate(labels, start=1):
        status, out, _ = run_quietly(["prepare", *common, "--participant-label", label])
        assert status == 0
        assert f"{number} participants (" in out  # the dataset grows one job at a time
    ours, theirs = tree_digest(tmp_path / "shared"), prepared["digest"]
    assert sorted(ours) == sorted(theirs)
    for name in ours:  # the images can differ by a rounding of the registration's threads
        if name.endswith(".nii.gz"):
            a, b = (nib.load(folder / name).get_fdata() for folder in (tmp_path / "shared",
                                                                        prepared["dst"]))
            assert (a != b).mean() < 1e-3, name
        else:
            assert ours[name] == theirs[name], name


def test_list_participants(tmp_path, key_file, capsys):
    source = study_subset(tmp_path / "src", ("DEBOER*/*/005_*", "JANSEN*/20240422*/005_*"))
    assert run(["prepare", str(source), str(tmp_path / "x"), "--key-file", str(key_file),
                "--list-participants"]) == 0
    labels = capsys.readouterr().out.split()
    key = Key.from_file(key_file)
    assert labels == sorted([key.label("VUMC0047131"), key.label("VUMC0052288")])
    assert not (tmp_path / "x").exists()


def test_failed_inputs_exit_3(tmp_path, key_file, capsys, caplog):
    """A series whose pixel data are cut off fails; the other participant is prepared."""
    source = study_subset(tmp_path / "src", ("JANSEN*/20240422*/005_*",))
    good = data.sample_path("dicom_study", verify=False)
    for path in sorted(good.glob("DEBOER*/*/005_*/*.dcm")):
        target = source / path.relative_to(good)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes()[:-2000])  # truncated pixel data
    status = run(["prepare", str(source), str(tmp_path / "shared"), "--key-file",
                  str(key_file), "--no-face-check"])
    captured = capsys.readouterr()
    assert status == 3, captured.out + captured.err
    assert len(list((tmp_path / "shared").glob("sub-*"))) == 1
    failed = Key.from_file(key_file).label("VUMC0052288")
    logged = captured.err + caplog.text  # the log goes to stderr
    assert f"sub-{failed} failed" in logged  # named by its label
    assert "DEBOER" not in logged  # source folders (names) stay in the report
    assert "DEBOER" in (tmp_path / "shared_report" / "report.md").read_text()


@pytest.mark.parametrize(("extra", "message"), [
    (["--jobs", "0"], "--jobs needs"),
    (["--key-file", "/no/such.key"], "does not exist"),
    (["--participant-label", "abc"], "give --key-file"),
])
def test_usage_errors(tmp_path, extra, message, capsys):
    source = study_subset(tmp_path / "src", ("DEBOER*/*/005_*",))
    with pytest.raises(SystemExit) as exit_info:
        run(["prepare", str(source), str(tmp_path / "shared"), *extra])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_source_that_is_not_a_folder_exits_2(tmp_path, key_file, capsys):
    with pytest.raises(SystemExit) as exit_info:
        run(["prepare", str(tmp_path / "nothing"), str(tmp_path / "shared"), "--key-file",
             str(key_file)])
    assert exit_info.value.code == 2
    assert "is not a folder" in capsys.readouterr().err
    assert not (tmp_path / "shared").exists()


def test_destination_inside_source_exits_2(tmp_path, key_file):
    source = study_subset(tmp_path / "src", ("DEBOER*/*/005_*",))
    result = subprocess.run(
        [sys.executable, "-m", "mrishare", "prepare", str(source), str(source / "out"),
         "--key-file", str(key_file)], capture_output=True, text=True, check=False)
    assert result.returncode == 2
    assert "inside the source" in result.stderr
    assert "JANSEN" not in result.stderr and "DEBOER" not in result.stderr
