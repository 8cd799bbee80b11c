"""The face detector's result travels from QC into the records and report of ``prepare``."""

from __future__ import annotations

from mrishare import data, deface, qc
from mrishare.pipeline.records import ImageResult, ParticipantResult, QCResult


def test_detector_fields_are_recorded_and_read_back():
    result = deface.deface(data.sample_path("participant_T1w"))
    record = QCResult.from_report(qc.check(result))
    assert (record.face_before, record.face_after, record.detector) == (True, False, "passed")
    assert "face_share_disagreement" in record.measures
    assert "face found in renders before: yes, after: no" in record.line()
    image = ImageResult("sub-a/anat/sub-a_T1w.nii.gz", "T1w", defaced="template", qc=record)
    back = ParticipantResult.from_dict(ParticipantResult("a", images=[image]).to_dict())
    assert back.images[0].qc == record


def test_a_check_that_could_not_run_says_so():
    record = QCResult(True, "", {"face_removed_share": 1.0}, False, False, "could not run")
    assert "before: no, after: no (check could not run)" in record.line()


def test_records_without_a_detector_read_as_before():
    back = ParticipantResult.from_dict({"label": "a", "status": "done", "images": [
        {"path": "p", "suffix": "T1w", "qc": {"passed": True, "measures": {"head_fit": 0.9}}}]})
    qc_record = back.images[0].qc
    assert qc_record is not None
    assert (qc_record.face_before, qc_record.detector) == (None, "")
    assert "face found" not in qc_record.line()


def test_the_report_explains_the_detector(tmp_path):
    from pathlib import Path

    from mrishare.pipeline import report
    from mrishare.pipeline.records import PrepareResult

    record = QCResult(True, "", {"face_removed_share": 1.0}, True, False, "passed")
    image = ImageResult("sub-a/anat/sub-a_T1w.nii.gz", "T1w", defaced="template", qc=record)
    result = PrepareResult(Path("d"), Path("r"), participants=[
        ParticipantResult("a", images=[image])])
    for text in (report.render_markdown(result), report.render_html(result)):
        assert "face found in renders before: yes, after: no" in text
        assert "off-the-shelf face detector" in text
