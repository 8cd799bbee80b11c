"""Tests of mrishare.pipeline's records and state: JSON round trips, damaged files, the lock."""

from __future__ import annotations

import json
import multiprocessing
import time
from pathlib import Path

import pytest

from mrishare import pipeline
from mrishare.pipeline import state

QC = pipeline.QCResult(passed=False, summary="QC FAILED (template)",
                       measures={"brain_removed_ml": 1.5, "face_removed_share": 0.97,
                                 "head_fit": 0.91})


def participant(label: str, age: str = "36") -> pipeline.ParticipantResult:
    anat = f"sub-{label}/ses-1/anat/sub-{label}_ses-1"
    return pipeline.ParticipantResult(
        label, images=[
            pipeline.ImageResult(f"{anat}_T1w.nii.gz", "T1w", "ses-1", "template", QC,
                                 [f"sub-{label}_ses-1_T1w_before_after.png"]),
            pipeline.ImageResult(f"sub-{label}/ses-1/func/x_bold.nii.gz", "bold", "ses-1",
                                 "not an anatomical image: left as converted"),
        ],
        skipped=[pipeline.SourceNote("SRC/099_Screen_capture", "not MR (another modality)")],
        row={"participant_id": f"sub-{label}", "age": age}, seconds=1.5)


def test_state_round_trip(tmp_path):
    record = participant("a")
    path = state.save_state(tmp_path, record)
    assert path == tmp_path / "state" / "a.json"
    assert json.loads(path.read_text())["images"][0]["qc"]["measures"]["head_fit"] == 0.91
    assert state.load_state(tmp_path, "a") == record
    assert state.load_state(tmp_path, "nobody") is None


def test_state_of_an_earlier_version_is_read(tmp_path):
    """Earlier versions kept the QC measures beside ``passed`` in one flat object."""
    old = {"label": "a", "status": "done", "images": [
        {"path": "sub-a/anat/sub-a_T1w.nii.gz", "suffix": "T1w", "session": "",
         "defaced": "template", "renders": ["x.png"],
         "qc": {"brain_removed_ml": 0.0, "face_removed_share": 1.0, "head_fit": 0.98,
                "passed": True, "summary": "QC PASSED"}}],
        "skipped": [], "failed": [{"source": "s", "reason": "r"}], "row": {}, "seconds": 1.0,
        "finished": ""}
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "a.json").write_text(json.dumps(old))
    record = state.load_state(tmp_path, "a")
    assert record is not None and record.images[0].qc == pipeline.QCResult(
        True, "QC PASSED", {"brain_removed_ml": 0.0, "face_removed_share": 1.0,
                            "head_fit": 0.98})
    assert record.failed == [pipeline.SourceNote("s", "r")]


@pytest.mark.parametrize(("content", "reason"), [
    ('{"label": "a", "status": ', "Expecting value"),
    ('["a"]', "expected an object"),
    ('{"label": "a", "status": "finished"}', "status is 'finished'"),
    ('{"label": "a", "status": "done", "images": [{"suffix": "T1w"}]}', "KeyError"),
    ('{"label": "b", "status": "done"}', "about participant b"),
])
def test_damaged_state_file_is_named(tmp_path, content, reason):
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "a.json").write_text(content)
    with pytest.raises(pipeline.PrepareError, match="a.json") as error:
        state.load_states(tmp_path)
    assert reason in str(error.value) and "Delete it" in str(error.value)


def test_qc_line_and_pass(tmp_path):
    record = participant("a")
    assert QC.line() == "FAILED: brain removed 1.50 ml, face removed 97%, head fit 0.91 Dice"
    assert not record.qc_passed and record.images[1].qc_passed
    result = pipeline.PrepareResult(tmp_path / "d", tmp_path / "r", participants=[record])
    assert result.exit_status == 1
    assert pipeline.qc_failures(result) == [record.images[0].path]


def test_to_frame_of_records(tmp_path):
    result = pipeline.PrepareResult(tmp_path / "d", tmp_path / "r",
                                    participants=[participant("a"), participant("b")])
    frame = result.to_frame()
    assert list(frame.columns) == list(pipeline.FRAME_COLUMNS)
    assert frame["participant"].tolist() == ["sub-a", "sub-a", "sub-b", "sub-b"]
    assert frame["qc_passed"].tolist() == [False, None, False, None]
    assert frame.loc[0, "brain_removed_ml"] == 1.5 and frame["head_fit"].isna().tolist() == [
        False, True, False, True]


def test_report_escapes_html(tmp_path):
    record = participant("a")
    record.failed = [pipeline.SourceNote("<script>alert(1)</script>", "a & b")]
    result = pipeline.PrepareResult(tmp_path / "d", tmp_path / "r", participants=[record])
    html = pipeline.render_html(result)
    assert "<script>" not in html and "&lt;script&gt;" in html and "a &amp; b" in html
    assert "class='bad'>QC FAILED" in html
    markdown = pipeline.render_markdown(result)
    assert "- `<script>alert(1)</script>`: a & b" in markdown
    assert "| ses-1 | `sub-a/ses-1/anat/sub-a_ses-1_T1w.nii.gz` | template | FAILED: " in markdown


# ----------------------------------------------------------------------------- the lock


def _record_in_turn(report: str, dst: str, label: str) -> None:
    """What a job does at its end: save its state and rebuild the shared files, locked."""
    with state.lock(report):
        state.save_state(report, participant(label, age=str(30 + len(label))))
        state.update_shared_files(dst, report, reproducible=True)


def _dataset(tmp_path: Path, labels: list[str]) -> tuple[Path, Path]:
    dst, report = tmp_path / "shared", tmp_path / "shared_report"
    for label in labels:
        (dst / f"sub-{label}").mkdir(parents=True)
    return dst, report


def test_two_jobs_update_participants_tsv_in_turn(tmp_path):
    labels = ["a", "bb", "ccc", "dddd"]
    dst, report = _dataset(tmp_path, labels)
    context = multiprocessing.get_context("spawn")
    jobs = [context.Process(target=_record_in_turn, args=(str(report), str(dst), label))
            for label in labels]
    for job in jobs:
        job.start()
    for job in jobs:
        job.join(60)
        assert job.exitcode == 0
    lines = (dst / "participants.tsv").read_text().splitlines()
    assert lines == ["participant_id\tage", "sub-a\t31", "sub-bb\t32", "sub-ccc\t33",
                     "sub-dddd\t34"]
    assert "pseudonyms" in (dst / "README").read_text()


def test_a_job_waits_for_the_lock(tmp_path):
    dst, report = _dataset(tmp_path, ["a"])
    context = multiprocessing.get_context("spawn")
    job = context.Process(target=_record_in_turn, args=(str(report), str(dst), "a"))
    with state.lock(report):
        job.start()
        time.sleep(3)
        assert job.is_alive() and not (dst / "participants.tsv").exists()
    job.join(60)
    assert job.exitcode == 0
    assert (dst / "participants.tsv").read_text().splitlines()[1] == "sub-a\t31"
