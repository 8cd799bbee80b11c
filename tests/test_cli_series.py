"""`mrishare series`, `to-bids --dry-run`, `--config` and `--strict`: the mapping, seen first."""

from __future__ import annotations

import re
import shutil

import pytest

from mrishare import bids, cli, data
from mrishare.keys import Key

UNKNOWN = "012_neuromelanin_v3"


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """Two series of the sample study: one the mapping knows, one it does not."""
    root = tmp_path_factory.mktemp("cli") / "JANSEN_MARIEKE"
    study = data.sample_path("dicom_study")
    for name in ("009_gre_field_mapping", UNKNOWN):
        shutil.copytree(next(study.glob(f"JANSEN_*/*/{name}")), root / name)
    return root


def snippet_from(out: str) -> str:
    """Cut the printed YAML snippet out of the command's output."""
    text = out.split("A configuration that maps it (check the suffix):\n", 1)[1]
    return "\n".join(line for line in text.splitlines() if line.startswith(("descriptions:", "  ")))


def test_series_lists_every_series_with_its_rule_and_outcome(capsys):
    assert cli.run(["series", str(data.sample_path("dicom_study"))]) == cli.EXIT_OK
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["series", "description", "protocol"]
    rows = {line.split()[0]: line for line in lines[1:] if re.match(r"\d{3}_", line)}
    assert "func/task-rest_dir-AP_bold" in rows["007_rfMRI_REST_AP"]
    assert "func-bold" in rows["007_rfMRI_REST_AP"] and " 120 " in rows["007_rfMRI_REST_AP"]
    assert "anat/T2w" in rows["006_T2_SPACE_sag"] and " 408 " in rows["006_T2_SPACE_sag"]
    assert "unknown" in rows[UNKNOWN]
    assert 'SeriesDescription: "neuromelanin_v3"' in out
    assert err.strip().splitlines()[-1] == ("1 series not converted: 'neuromelanin_v3' "
                                            "(series 12); see 'mrishare series SRC'")


def test_strict_exits_1_when_a_series_is_not_mapped(source, capsys):
    assert cli.run(["series", str(source), "--strict"]) == cli.EXIT_FOUND
    assert cli.run(["to-bids", str(source), "--dry-run", "--strict"]) == cli.EXIT_FOUND
    assert "1 series not converted" in capsys.readouterr().err


def test_a_config_written_from_the_snippet_maps_the_series(source, tmp_path, capsys):
    cli.run(["series", str(source)])
    config = tmp_path / "my_scanner.yaml"
    config.write_text(snippet_from(capsys.readouterr().out).replace(
        "suffix: T2w", "suffix: T1w\n    entities: {acq: nm}"))
    assert cli.run(["series", str(source), "--config", str(config), "--strict"]) == cli.EXIT_OK
    row = next(line for line in capsys.readouterr().out.splitlines()
               if line.startswith(UNKNOWN))
    assert "neuromelanin-v3" in row and "anat/acq-nm_T1w" in row
    key = Key.generate().save(tmp_path / "k.key")
    assert cli.run(["to-bids", str(source), str(tmp_path / "out"), "--key-file", str(key),
                    "--config", str(config), "--strict"]) == cli.EXIT_OK
    written = sorted(p.name for p in (tmp_path / "out").rglob("*.nii.gz"))
    label = Key.from_file(key).label("VUMC0047131")
    assert written == [f"sub-{label}_acq-nm_T1w.nii.gz", f"sub-{label}_magnitude1.nii.gz",
                       f"sub-{label}_magnitude2.nii.gz"]


def test_user_descriptions_come_before_the_shipped_ones(tmp_path):
    config = tmp_path / "override.yaml"
    config.write_text("descriptions:\n  - id: mine\n    criteria:\n"
                      "      SeriesDescription: gre_field_mapping\n    skip: not used here\n")
    merged = bids.load_config(config)
    found = bids.classify({"Modality": "MR", "SOPClassUID": "1.2.840.10008.5.1.4.1.1.4",
                           "SeriesDescription": "gre_field_mapping", "EchoTime": "4.92"},
                          merged)
    assert (found.outcome, found.rule) == ("skip", "override.yaml:mine")
    assert len(merged.descriptions) == 1 + len(bids.default_mapping().descriptions)
    config.write_text("extends_default: false\n" + config.read_text())
    assert len(bids.load_config(config).descriptions) == 1


def test_a_broken_config_is_a_usage_error_naming_the_line(source, tmp_path, capsys):
    config = tmp_path / "bad.yaml"
    config.write_text("descriptions:\n  - criteria: {SeriesDescription: x}\n"
                      "    datatype: anat\n    suffix: T3w\n")
    with pytest.raises(SystemExit) as done:
        cli.run(["series", str(source), "--config", str(config)])
    assert done.value.code == cli.EXIT_USAGE
    assert "bad.yaml, description 1 (line 2)" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.run(["to-bids", str(source), "--config", str(tmp_path / "missing.yaml"),
                 "--dry-run"])
    assert "no such file" in capsys.readouterr().err


def test_to_bids_names_the_unmapped_series_in_one_summary_line(source, tmp_path, capsys):
    key = Key.generate().save(tmp_path / "k.key")
    assert cli.run(["to-bids", str(source), str(tmp_path / "out"), "--key-file",
                    str(key)]) == cli.EXIT_OK
    err = capsys.readouterr().err
    assert err.count("series not converted") == 1 and "neuromelanin_v3" in err
    assert cli.run(["to-bids", str(source), str(tmp_path / "out2"), "--key-file", str(key),
                    "--strict"]) == cli.EXIT_FOUND


def test_dry_run_writes_nothing(source, tmp_path, capsys):
    assert cli.run(["to-bids", str(source), str(tmp_path / "out"), "--dry-run"]) == cli.EXIT_OK
    assert not (tmp_path / "out").exists()
    assert "magnitude1" in capsys.readouterr().out


@pytest.mark.parametrize("package, folder", [("nibabel", "nicom/tests/data"),
                                             ("pydicom", "data/test_files")])
def test_series_does_not_crash_on_real_vendor_files(package, folder, capsys):
    import importlib

    root = importlib.import_module(package).__file__
    assert root is not None
    path = __import__("pathlib").Path(root).parent / folder
    assert cli.run(["series", str(path)]) == cli.EXIT_OK
    assert capsys.readouterr().out.startswith("series")
