"""Tests of the ``mrishare deface`` command: exit status and what is (not) written."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest

from mrishare.cli import run
from mrishare.lessons import simulate


@pytest.fixture(scope="module")
def scans(tmp_path_factory):
    folder = tmp_path_factory.mktemp("in")
    t1 = simulate.simulate_scan(seed=71, zooms=(3.0, 3.0, 3.0), truth=False)
    t2 = simulate.simulate_scan(seed=71, contrast="T2w", zooms=(2.5, 2.5, 5.0), truth=False)
    nib.save(t1.image, folder / "sub-01_T1w.nii.gz")
    nib.save(t2.image, folder / "sub-01_T2w.nii.gz")
    return folder


def test_deface_writes_outputs(scans, tmp_path):
    out = tmp_path / "out"
    status = run(["deface", str(scans / "sub-01_T1w.nii.gz"), str(out / "T1w.nii.gz"),
                  "--mask-out", str(out / "defacemask.nii.gz"), "--qc-png", str(out / "qc.png"),
                  "--apply-to", str(scans / "sub-01_T2w.nii.gz"), str(out / "T2w.nii.gz")])
    assert status == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "T1w.nii.gz", "T2w.nii.gz", "defacemask.nii.gz", "qc.png"]
    mask = np.asarray(nib.load(out / "defacemask.nii.gz").dataobj)
    assert mask.dtype == np.uint8 and mask.sum() > 0
    import cv2

    picture = cv2.imread(str(out / "qc.png"))
    assert picture is not None and picture.shape[1] > 600


def test_the_qc_picture_needs_no_plotting_library(scans, tmp_path):
    """The picture is composed with OpenCV: the command never imports matplotlib."""
    import subprocess
    import sys

    code = ("import sys; from mrishare.cli import run; "
            f"status = run(['deface', {str(scans / 'sub-01_T1w.nii.gz')!r}, "
            f"{str(tmp_path / 'o.nii.gz')!r}, '--qc-png', {str(tmp_path / 'q.png')!r}]); "
            "print(status, sorted(m for m in sys.modules if m.startswith('matplotlib')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.split("\n")[-2] == "0 []"
    assert (tmp_path / "q.png").stat().st_size > 0


def test_quickshear_that_passes_qc_exits_0(scans, tmp_path, capsys):
    """On the T1w quickshear removes 95.7% of the face region: done and clean."""
    status = run(["deface", str(scans / "sub-01_T1w.nii.gz"), str(tmp_path / "o.nii.gz"),
                  "--method", "quickshear"])
    assert status == 0
    assert (tmp_path / "o.nii.gz").exists()
    assert "FAILED" not in capsys.readouterr().err


def test_quickshear_that_misses_a_target_exits_1_and_writes(scans, tmp_path, capsys):
    """On the thick-slice T2w quickshear's plane leaves 5.6% of the face region (94.4%
    removed, target 95%): QC failed, exit 1, the file written so it can be looked at."""
    status = run(["deface", str(scans / "sub-01_T2w.nii.gz"), str(tmp_path / "o.nii.gz"),
                  "--method", "quickshear"])
    assert status == 1
    assert (tmp_path / "o.nii.gz").exists()
    err = capsys.readouterr().err
    assert "QC FAILED (quickshear)" in err
    assert "face region (with tissue) removed" in err and "brain (template mask) removed" in err


def test_stricter_policy_fails_every_image_exits_1(scans, tmp_path, capsys, monkeypatch):
    """Targets come from the policy file: a head fit of 0.99 is missed by both images."""
    from mrishare import rules
    from mrishare.deface import targets

    strict = tmp_path / "strict.yaml"
    strict.write_text(rules.path(targets.QC_RULES).read_text()
                      .replace("value: 0.85", "value: 0.99"))
    policy = targets.load_targets(strict)
    monkeypatch.setattr(targets, "shipped", lambda: policy)
    out = tmp_path / "out"
    status = run(["deface", str(scans / "sub-01_T1w.nii.gz"), str(out / "T1w.nii.gz"),
                  "--apply-to", str(scans / "sub-01_T2w.nii.gz"), str(out / "T2w.nii.gz")])
    assert status == 1
    err = capsys.readouterr().err
    assert "image (T1w.nii.gz): QC FAILED" in err
    assert "--apply-to image 1 (T2w.nii.gz): QC FAILED" in err
    assert "template head overlap after registration" in err and "why: " in err
    assert sorted(p.name for p in out.iterdir()) == ["T1w.nii.gz", "T2w.nii.gz"]


def test_bad_input_writes_nothing(tmp_path, capsys):
    bad = tmp_path / "empty.nii.gz"
    nib.save(nib.Nifti1Image(np.zeros((30, 30, 30), np.int16), np.eye(4)), bad)
    out = tmp_path / "out"
    status = run(["deface", str(bad), str(out / "x.nii.gz"), "--mask-out", str(out / "m.nii")])
    assert status == 3
    assert not out.exists()
    assert "empty.nii.gz" in capsys.readouterr().err


def test_missing_file(tmp_path, capsys):
    assert run(["deface", str(tmp_path / "nope.nii"), str(tmp_path / "x.nii")]) == 3
    assert "nope.nii: no such file" in capsys.readouterr().err
    assert not (tmp_path / "x.nii").exists()


def test_unreadable_file_exits_3(tmp_path, capsys):
    bad = tmp_path / "broken.nii.gz"
    bad.write_bytes(b"not a nifti at all")
    assert run(["deface", str(bad), str(tmp_path / "x.nii.gz")]) == 3
    assert "broken.nii.gz" in capsys.readouterr().err
    assert not (tmp_path / "x.nii.gz").exists()


def test_4d_series_exits_3(tmp_path, capsys):
    series = tmp_path / "bold.nii.gz"
    nib.save(nib.Nifti1Image(np.ones((20, 20, 20, 3), np.int16), np.eye(4)), series)
    assert run(["deface", str(series), str(tmp_path / "x.nii.gz")]) == 3
    err = capsys.readouterr().err
    assert "expected one 3D volume" in err and "Split a 4D series first" in err
    assert not (tmp_path / "x.nii.gz").exists()


def test_output_equal_input_refused(scans):
    with pytest.raises(SystemExit) as stop:
        path = str(scans / "sub-01_T1w.nii.gz")
        run(["deface", path, path])
    assert stop.value.code == 2


@pytest.mark.parametrize(
    ("kind", "says"),
    [("skull_stripped", "looks like a brain without scalp and skull"),
     ("rodent", "does not look like a human head")],
)
def test_what_cannot_be_defaced_is_refused_and_named(kind, says, tmp_path, capsys):
    """A skull-stripped brain and a rodent-sized head: exit 3, what it looks like and what to
    do, nothing written."""
    from mrishare.deface import template_regions

    head, _, brain = template_regions()
    values = np.asarray(head.dataobj)
    affine = head.affine.copy()
    if kind == "skull_stripped":
        values = (values * brain).astype(np.int16)
    else:
        affine[:3, :3] *= 0.12  # a head of 2 cm
    source = tmp_path / "in.nii.gz"
    nib.save(nib.Nifti1Image(values, affine), source)
    out = tmp_path / "out"
    status = run(["deface", str(source), str(out / "o.nii.gz"), "--qc-png", str(out / "q.png")])
    assert status == 3
    err = capsys.readouterr().err
    assert says in err and "Nothing was written" in err
    assert not out.exists()


def test_the_face_detector_can_be_skipped(scans, tmp_path, monkeypatch):
    from mrishare import deface

    seen = []
    real = deface.deface_images

    def spy(*args, **kwargs):
        done = real(*args, **kwargs)
        seen.extend(d.qc.detector for d in done)
        return done

    monkeypatch.setattr(deface, "deface_images", spy)
    status = run(["deface", str(scans / "sub-01_T1w.nii.gz"), str(tmp_path / "o.nii.gz"),
                  "--no-face-detector"])
    assert status == 0
    assert seen == [None]
