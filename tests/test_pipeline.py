"""Tests of mrishare.pipeline: prepare the sample study, prove it clean, re-run, fail safely.

The whole sample study is prepared once per module (the `prepared` fixture); the other tests
use a two-participant subset of it (one T2w series each) to stay quick.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from helpers import study_subset, tree_digest

from mrishare import audit, data, pipeline
from mrishare.keys import Key

KEY = Key(bytes(range(32)))
TWO = ("DEBOER*/*/005_*", "JANSEN*/20240422*/005_*")  # one T2w series of each person


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> pipeline.PrepareResult:
    out = tmp_path_factory.mktemp("prepared") / "shared"
    return pipeline.prepare(data.sample_path("dicom_study", verify=False), out, KEY, jobs=2,
                            progress=False)


def test_prepared_sample_study_audits_clean(prepared):
    assert prepared.audit is not None
    assert prepared.audit.clean, prepared.audit.summary()
    assert prepared.audit.not_checked == []  # face and profile checks both ran
    assert prepared.exit_status == 0
    assert [p.status for p in prepared.participants] == ["done", "done"]


def test_independent_audit_of_the_result_is_clean(prepared):
    report = audit.audit(prepared.dataset, against=data.sample_path("dicom_study",
                                                                    verify=False))
    assert report.clean, report.summary()
    assert report.searched["patient name"] > 10 and report.searched["uid"] > 400


def test_every_anatomical_image_defaced_and_checked(prepared):
    images = [image for p in prepared.participants for image in p.images]
    assert sorted(image["suffix"] for image in images) == ["T1w"] * 3 + ["T2w"] * 3
    for image in images:
        assert image["qc"]["passed"], image
        assert (prepared.report.parent / "images" / image["renders"][0]).is_file()
    t2 = [image for image in images if image["suffix"] == "T2w"]
    assert all("T1w" in image["defaced"] for image in t2)


def test_screenshot_skipped_with_reason(prepared):
    skipped = [item for p in prepared.participants for item in p.skipped]
    assert len(skipped) == 1 and "099_Screen_capture" in skipped[0]["source"]


def test_report_beside_the_dataset(prepared):
    report = prepared.report
    assert report.is_file() and (report.parent / "report.html").is_file()
    assert prepared.dataset not in report.parents
    text = report.read_text()
    for participant in prepared.participants:
        assert f"sub-{participant.label}" in text
    assert "Audit" in text and "Clean" in text
    html = (report.parent / "report.html").read_text()
    assert html.count("<img ") == 6 and "alt=''" not in html
    # the dataset holds no report, no state, no key
    names = {p.name for p in prepared.dataset.rglob("*")}
    assert not names & {"report.md", "report.html", "audit.json", "PRIVATE.txt", "state"}


def test_participants_table(prepared):
    lines = (prepared.dataset / "participants.tsv").read_text().splitlines()
    assert lines[0] == "participant_id\tage"
    assert sorted(line.split("\t")[1] for line in lines[1:]) == ["36", "44"]


def test_prepare_is_idempotent(prepared):
    before = tree_digest(prepared.dataset)
    again = pipeline.prepare(data.sample_path("dicom_study", verify=False), prepared.dataset,
                             KEY, progress=False, check_face=False)
    assert sorted(again.reused) == sorted(p.label for p in prepared.participants)
    assert tree_digest(prepared.dataset) == before
    assert again.exit_status == 0


def test_a_failing_participant_does_not_stop_the_others(tmp_path, monkeypatch):
    source = study_subset(tmp_path / "src", TWO)
    labels = pipeline.list_participants(source, KEY)
    assert len(labels) == 2
    real = pipeline._deface_session

    def broken(build, paths, renders, label):
        if label == labels[0]:
            raise RuntimeError("simulated crash while defacing")
        return real(build, paths, renders, label)

    monkeypatch.setattr(pipeline, "_deface_session", broken)
    dst = tmp_path / "shared"
    first = pipeline.prepare(source, dst, KEY, progress=False, check_face=False)
    status = {p.label: p.status for p in first.participants}
    assert status == {labels[0]: "failed", labels[1]: "done"}
    assert first.exit_status == 3
    assert not (dst / f"sub-{labels[0]}").exists()  # nothing half-written
    assert "simulated crash" in first.report.read_text()

    monkeypatch.setattr(pipeline, "_deface_session", real)
    second = pipeline.prepare(source, dst, KEY, progress=False, check_face=False)
    assert second.reused == [labels[1]]
    assert {p.label: p.status for p in second.participants} == dict.fromkeys(labels, "done")
    assert second.exit_status == 0
    assert len((dst / "participants.tsv").read_text().splitlines()) == 3


def test_participant_label_prepares_one(tmp_path):
    source = study_subset(tmp_path / "src", TWO)
    labels = pipeline.list_participants(source, KEY)
    result = pipeline.prepare(source, tmp_path / "shared", KEY, participant_labels=[
        f"sub-{labels[1]}"], progress=False, check_face=False)
    assert [p.label for p in result.participants] == [labels[1]]
    assert sorted(p.name for p in (tmp_path / "shared").glob("sub-*")) == [f"sub-{labels[1]}"]
    with pytest.raises(pipeline.PrepareError, match="no participant labelled"):
        pipeline.prepare(source, tmp_path / "shared", KEY, participant_labels=["nobody"])


@pytest.mark.parametrize("where", ["inside", "same"])
def test_destination_inside_source_is_refused(tmp_path, where):
    source = study_subset(tmp_path / "src", ("DEBOER*/*/005_*",))
    dst = source / "out" if where == "inside" else source
    with pytest.raises(pipeline.PrepareError, match="inside the source"):
        pipeline.prepare(source, dst, KEY)
    assert not (source / "out").exists()


def test_foreign_destination_is_refused(tmp_path):
    source = study_subset(tmp_path / "src", ("DEBOER*/*/005_*",))
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "thesis.docx").write_text("mine")
    with pytest.raises(pipeline.PrepareError, match="did not write"):
        pipeline.prepare(source, tmp_path / "other", KEY)


def test_random_key_cannot_resume(tmp_path):
    source = study_subset(tmp_path / "src", ("DEBOER*/*/005_*",))
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "dataset_description.json").write_text("{}")
    with pytest.raises(pipeline.PrepareError, match="same key file"):
        pipeline.prepare(source, tmp_path / "shared", Key(bytes(32), reproducible=False))


def test_report_dir_is_a_sibling():
    assert pipeline.report_dir_for("/data/shared") == Path("/data/shared_report")


def test_one_session_layout_for_the_whole_dataset(prepared):
    """de Boer has one session, Jansen two: everyone gets ses- folders (BIDS wants one layout)."""
    images = sorted(p.relative_to(prepared.dataset).as_posix()
                    for p in prepared.dataset.rglob("*.nii.gz"))
    assert len(images) == 6 and all(path.split("/")[1].startswith("ses-") for path in images)


def test_one_participant_job_uses_the_layout_of_the_whole_source(tmp_path):
    """A job array's single job decides the session level from the whole source too."""
    source = data.sample_path("dicom_study", verify=False)
    single = KEY.label("VUMC0052288")  # de Boer: one session
    pipeline.prepare(source, tmp_path / "shared", KEY, participant_labels=[single],
                     progress=False, check_face=False)
    assert [p.relative_to(tmp_path / "shared").parts[:2] for p in
            (tmp_path / "shared").rglob("*_T1w.nii.gz")] == [(f"sub-{single}", "ses-1")]


def test_qc_failure_exits_1_and_is_said_loudly(tmp_path, monkeypatch):
    from mrishare import qc

    real = qc.check

    def strict(result):  # as if the defacing had left brain voxels out
        report = real(result)
        report.measures[0] = dataclasses.replace(report.measures[0], passed=False)
        return report

    monkeypatch.setattr(qc, "check", strict)
    source = study_subset(tmp_path / "src", ("DEBOER*/*/005_*",))
    result = pipeline.prepare(source, tmp_path / "shared", KEY, progress=False,
                              check_face=False)
    assert result.exit_status == 1
    assert [Path(p).name for p in pipeline.qc_failures(result)] == [
        f"sub-{KEY.label('VUMC0052288')}_T2w.nii.gz"]
    text = result.report.read_text()
    assert "**QC FAILED** for 1 image(s)" in text and "NOT ready" in text
    assert "FAILED: brain removed 0.00 ml" in text
    assert "class='bad'>QC FAILED" in (result.report.parent / "report.html").read_text()
