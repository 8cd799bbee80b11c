"""The `mrishare to-bids` command: exit statuses, refused destinations, named failures."""

from __future__ import annotations

import shutil

import pydicom
import pytest

from mrishare import cli, data
from mrishare.keys import Key


@pytest.fixture(scope="module")
def small_source(tmp_path_factory):
    """One T1w series of the sample study, and a copy with truncated pixel data."""
    root = tmp_path_factory.mktemp("cli") / "DEBOER_PIETER_19791130"
    series = sorted(data.sample_path("dicom_study").glob("DEBOER_*/*/003_*"))[0]
    shutil.copytree(series, root / "good_series")
    broken = root / "broken_series"
    broken.mkdir()
    for path in sorted((root / "good_series").glob("*.dcm")):
        ds = pydicom.dcmread(path)
        ds.SeriesInstanceUID = ds.SeriesInstanceUID + ".1"
        ds.PixelData = ds.PixelData[:64]
        ds.save_as(broken / path.name)
    return root


def test_good_study_exits_0_with_a_key_and_writes_bids(tmp_path, capsys, caplog):
    key = Key.generate().save(tmp_path / "study.key")
    source = data.sample_path("dicom_study")
    assert cli.run(["to-bids", str(source), str(tmp_path / "out"), "--key-file", str(key),
                    "--include-sex"]) == cli.EXIT_OK
    label = Key.from_file(key).label("VUMC0047131")
    assert (tmp_path / "out" / f"sub-{label}" / "ses-2" / "anat").is_dir()
    assert "\tsex" in (tmp_path / "out" / "participants.tsv").read_text()
    err = capsys.readouterr().err
    assert "099_Screen_capture" in err and "skipped" in err  # named for the operator
    assert "random key" not in caplog.text
    assert not any("VUMC" in p.as_posix() for p in (tmp_path / "out").rglob("*"))


def test_without_key_file_it_says_pseudonyms_are_not_reproducible(small_source, tmp_path,
                                                                   caplog):
    good = small_source / "good_series"
    assert cli.run(["to-bids", str(good), str(tmp_path / "out")]) == cli.EXIT_OK
    assert "random key" in caplog.text
    assert "random key" in (tmp_path / "out" / "README").read_text()


def test_a_series_that_fails_to_convert_is_named_and_exits_3(small_source, tmp_path, capsys):
    before = {p: data.sha256(p) for p in small_source.rglob("*") if p.is_file()}
    status = cli.run(["to-bids", str(small_source), str(tmp_path / "out")])
    assert status == cli.EXIT_FAILED_INPUTS
    err = capsys.readouterr().err
    assert "FAILED broken_series" in err and "could not convert" in err
    assert len(list((tmp_path / "out").rglob("*_T1w.nii.gz"))) == 1  # the rest was done
    assert {p: data.sha256(p) for p in small_source.rglob("*") if p.is_file()} == before


@pytest.mark.parametrize("where", ["same", "inside"])
def test_destination_equal_to_or_inside_source_is_a_usage_error(small_source, where, capsys):
    dst = small_source if where == "same" else small_source / "good_series" / "bids"
    with pytest.raises(SystemExit) as stop:
        cli.run(["to-bids", str(small_source), str(dst)])
    assert stop.value.code == cli.EXIT_USAGE
    assert "inside the source" in capsys.readouterr().err
    assert not (small_source / "good_series" / "bids").exists()


def test_a_bad_key_file_is_a_usage_error(small_source, tmp_path, capsys):
    (tmp_path / "bad.key").write_text("not hex")
    with pytest.raises(SystemExit) as stop:
        cli.run(["to-bids", str(small_source), str(tmp_path / "out"), "--key-file",
                 str(tmp_path / "bad.key")])
    assert stop.value.code == cli.EXIT_USAGE
    assert "hexadecimal" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_source_that_is_not_a_folder_is_a_usage_error(tmp_path, capsys):
    (tmp_path / "scan.dcm").write_bytes(b"not a folder")
    with pytest.raises(SystemExit) as stop:
        cli.run(["to-bids", str(tmp_path / "scan.dcm"), str(tmp_path / "out")])
    assert stop.value.code == cli.EXIT_USAGE
    assert "is not a folder" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_an_export_without_file_meta_header_converts_and_exits_0(tmp_path, capsys):
    from bids_study import write_bare

    series = sorted(data.sample_path("dicom_study").glob("DEBOER_*/*/005_*"))[0]
    write_bare(series, tmp_path / "src" / "old_export")
    assert cli.run(["to-bids", str(tmp_path / "src"), str(tmp_path / "out")]) == cli.EXIT_OK
    assert len(list((tmp_path / "out").rglob("*_T2w.nii.gz"))) == 1
    assert "skipped" not in capsys.readouterr().err
