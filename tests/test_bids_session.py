"""A whole research session of the sample study: func, dwi, fmap, long-TE T2w, multi-echo."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bids_study import KEY

from mrishare import bids, data


@pytest.fixture(scope="module")
def session(tmp_path_factory) -> tuple[Path, bids.BidsReport, Path]:
    out = tmp_path_factory.mktemp("out") / "bids"
    report = bids.to_bids(data.sample_path("dicom_study"), out, KEY)
    label = KEY.label("VUMC0047131")
    return out, report, out / f"sub-{label}" / "ses-1"


def sidecar(path: Path) -> dict:
    return json.loads(path.with_name(path.name.replace(".nii.gz", ".json")).read_text())


def test_every_series_of_the_research_session_is_written_with_its_datatype(session):
    out, report, ses = session
    names = sorted(p.relative_to(ses).as_posix().split("_ses-1_")[-1]
                   for p in ses.rglob("*.nii.gz"))
    assert names == sorted([
        "echo-1_part-mag_MEGRE.nii.gz", "echo-1_part-phase_MEGRE.nii.gz",
        "echo-2_part-mag_MEGRE.nii.gz", "echo-2_part-phase_MEGRE.nii.gz",
        "echo-3_part-mag_MEGRE.nii.gz", "echo-3_part-phase_MEGRE.nii.gz", "T1w.nii.gz",
        "run-1_T2w.nii.gz", "run-2_T2w.nii.gz", "dwi.nii.gz", "magnitude1.nii.gz",
        "magnitude2.nii.gz", "phasediff.nii.gz", "task-rest_dir-AP_bold.nii.gz"])
    kinds = {(i.datatype, i.suffix) for i in report.images if i.path.startswith(
        ses.relative_to(out).as_posix())}
    assert {d for d, _ in kinds} == {"anat", "func", "dwi", "fmap"}
    assert [i.path for i in report.images] == report.written
    for image in report.images:
        assert image.path.split("/")[-2] == image.datatype
        assert image.path.endswith(f"_{image.suffix}.nii.gz")


def test_the_long_echo_time_t2w_is_converted(session):
    _, _, ses = session
    echo_times = sorted(sidecar(p)["EchoTime"] for p in (ses / "anat").glob("*_T2w.nii.gz"))
    assert echo_times == [0.098, 0.408]


def test_func_sidecar_has_task_repetition_and_slice_timing_from_the_headers(session):
    _, _, ses = session
    bold = sidecar(next((ses / "func").glob("*_bold.nii.gz")))
    assert bold["TaskName"] == "rest" and bold["RepetitionTime"] == 2
    # interleaved: slices 0, 2, 4... first, then 1, 3, 5..., TR 2 s over 12 slices
    step = 2 / 12
    expected = [round((k // 2 + (6 if k % 2 else 0)) * step, 4) for k in range(12)]
    assert bold["SliceTiming"] == pytest.approx(expected, abs=1e-3)


def test_dwi_has_bval_and_bvec_from_the_standard_attributes(session):
    _, _, ses = session
    bval = next((ses / "dwi").glob("*_dwi.bval")).read_text().split()
    bvec = next((ses / "dwi").glob("*_dwi.bvec")).read_text().splitlines()
    assert bval == ["0"] + ["1000"] * 6 and len(bvec) == 3


def test_phasediff_has_both_echo_times_and_is_intended_for_func_and_dwi(session):
    out, _, ses = session
    phasediff = sidecar(next((ses / "fmap").glob("*_phasediff.nii.gz")))
    assert (phasediff["EchoTime1"], phasediff["EchoTime2"]) == (0.00492, 0.00738)
    targets = sorted(p.relative_to(out).as_posix() for p in ses.rglob("*.nii.gz")
                     if p.parent.name in ("func", "dwi"))
    assert phasediff["IntendedFor"] == [f"bids::{t}" for t in targets]
    assert "IntendedFor" not in sidecar(next((ses / "fmap").glob("*_magnitude1.nii.gz")))


def test_phase_images_say_their_units(session):
    _, _, ses = session
    for path in (ses / "anat").glob("*part-phase_MEGRE.nii.gz"):
        assert sidecar(path)["Units"] == "arbitrary"


def test_the_unknown_series_is_reported_with_a_snippet_and_not_converted(session):
    _, report, _ = session
    assert [row.description for row in report.unmapped] == ["neuromelanin_v3"]
    assert 'SeriesDescription: "neuromelanin_v3"' in report.unmapped[0].snippet
    assert "neuromelanin" not in " ".join(report.written)


def test_the_validator_finds_no_errors_in_the_whole_session(session):
    out, _, _ = session
    checked = bids.validate(out)
    assert checked.loc[checked.severity == "error", "count"].sum() == 0, checked
