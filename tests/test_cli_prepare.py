"""Tests of `mrishare prepare`: exit statuses, re-runs, labels for job arrays, usage errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mrishare import data
from mrishare.cli import run
from mrishare.keys import Key


def small_source(target: Path, patterns=("DEBOER*/*/005_*",)) -> Path:
    source = data.sample_path("dicom_study", verify=False)
    for pattern in patterns:
        for folder in source.glob(pattern):
            for path in folder.iterdir():
                link = target / path.relative_to(source)
                link.parent.mkdir(parents=True, exist_ok=True)
                os.symlink(path, link)
    return target


@pytest.fixture
def key_file(tmp_path) -> Path:
    return Key.generate().save(tmp_path / "study.key")


def test_prepare_then_rerun(tmp_path, key_file, capsys):
    source = small_source(tmp_path / "src")
    dst = tmp_path / "shared"
    args = ["prepare", str(source), str(dst), "--key-file", str(key_file), "--no-face-check"]
    assert run(args) == 0
    out = capsys.readouterr().out
    assert "1 participants (0 done before); audit: clean" in out
    assert (tmp_path / "shared_report" / "report.html").is_file()
    assert run(args) == 0
    assert "1 participants (1 done before)" in capsys.readouterr().out


def test_list_participants(tmp_path, key_file, capsys):
    source = small_source(tmp_path / "src", ("DEBOER*/*/005_*", "JANSEN*/20240422*/005_*"))
    assert run(["prepare", str(source), str(tmp_path / "x"), "--key-file", str(key_file),
                "--list-participants"]) == 0
    labels = capsys.readouterr().out.split()
    key = Key.from_file(key_file)
    assert labels == sorted([key.label("VUMC0047131"), key.label("VUMC0052288")])
    assert not (tmp_path / "x").exists()


def test_failed_inputs_exit_3(tmp_path, key_file, capsys):
    """A series whose pixel data are cut off fails; the other participant is prepared."""
    source = small_source(tmp_path / "src", ("JANSEN*/20240422*/005_*",))
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


@pytest.mark.parametrize(("extra", "message"), [
    (["--jobs", "0"], "--jobs needs"),
    (["--key-file", "/no/such.key"], "does not exist"),
    (["--participant-label", "abc"], "give --key-file"),
])
def test_usage_errors(tmp_path, extra, message, capsys):
    source = small_source(tmp_path / "src")
    with pytest.raises(SystemExit) as exit_info:
        run(["prepare", str(source), str(tmp_path / "shared"), *extra])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_destination_inside_source_exits_2(tmp_path, key_file):
    source = small_source(tmp_path / "src")
    result = subprocess.run(
        [sys.executable, "-m", "mrishare", "prepare", str(source), str(source / "out"),
         "--key-file", str(key_file)], capture_output=True, text=True, check=False)
    assert result.returncode == 2
    assert "inside the source" in result.stderr
    assert "JANSEN" not in result.stderr and "DEBOER" not in result.stderr
