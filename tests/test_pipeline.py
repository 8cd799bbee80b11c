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
from mrishare.errors import DestinationError, SourceError
from mrishare.keys import Key

# Prepares the whole sample study: `make test` runs these, `make unit` leaves them out.
pytestmark = pytest.mark.slow

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
    # Face and profile checks ran; only the multi-echo slab holds no whole head to check.
    assert prepared.audit.not_checked, "the slab's face check should be named as not run"
    for note in prepared.audit.not_checked:
        assert note.startswith("face present: ") and "_MEGRE.nii.gz covers only" in note, note
    assert prepared.exit_status == 0
    assert [p.status for p in prepared.participants] == ["done", "done"]


def test_independent_audit_of_the_result_is_clean(prepared):
    report = audit.audit(prepared.dataset, against=data.sample_path("dicom_study",
                                                                    verify=False))
    assert report.clean, report.summary()
    assert report.searched["patient name"] > 10 and report.searched["uid"] > 400


def test_every_anatomical_image_defaced_and_checked(prepared):
    images = [image for _, image in prepared.images()]
    anatomical = [image for image in images if "/anat/" in image.path]
    assert sorted(image.suffix for image in anatomical) == (
        ["MEGRE"] * 6 + ["T1w"] * 3 + ["T2w"] * 4)
    for image in anatomical:
        assert isinstance(image, pipeline.ImageResult)
        assert image.qc is not None and image.qc.passed, image
        assert image.qc.summary.startswith("QC PASSED")
        assert (prepared.report.parent / "images" / image.renders[0]).is_file()
    t2 = [image for image in anatomical if image.suffix == "T2w"]
    assert all(image.defaced == "face region of the session's T1w, carried to this image"
               for image in t2)
    # The echoes and phase images of one multi-echo series share the first echo's voxels.
    megre = sorted((image for image in anatomical if image.suffix == "MEGRE"),
                   key=lambda image: image.path)
    assert megre[0].defaced == "face region of the session's T1w, carried to this image"
    assert all("(the same acquisition, on the same voxels)" in image.defaced
               for image in megre[1:])


def test_functional_diffusion_and_field_maps_are_carried_not_defaced(prepared):
    others = {image.suffix: image for _, image in prepared.images()
              if "/anat/" not in image.path}
    assert sorted(others) == ["bold", "dwi", "magnitude1", "magnitude2", "phasediff"]
    for suffix, image in others.items():
        assert image.qc is None and image.defaced.startswith("not defaced: "), suffix
        assert (prepared.dataset / image.path).is_file()
    assert (prepared.dataset / others["dwi"].path.replace(".nii.gz", ".bval")).is_file()


def test_prepared_dataset_passes_the_bids_validator(prepared):
    from mrishare import bids

    table = bids.validate(prepared.dataset)
    assert table[table["severity"] == "error"].empty, table


def test_a_bad_config_stops_prepare_before_any_work(tmp_path):
    from mrishare.errors import RuleFileError

    config = tmp_path / "mine.yaml"
    config.write_text("descriptions: [unclosed\n")
    with pytest.raises(RuleFileError, match="mine.yaml"):
        pipeline.prepare(study_subset(tmp_path / "src", TWO), tmp_path / "out", KEY,
                         config=config, progress=False)
    assert not list((tmp_path / "out").glob("sub-*"))


def test_to_frame_one_row_per_image(prepared):
    frame = prepared.to_frame()
    assert list(frame.columns) == list(pipeline.FRAME_COLUMNS)
    images = [image for _, image in prepared.images()]
    assert len(frame) == len(images) == 18
    labels = sorted(f"sub-{p.label}" for p in prepared.participants)
    assert sorted(set(frame["participant"])) == labels
    assert sorted(frame["session"]) == ["ses-1"] * 16 + ["ses-2"] * 2
    defaced = frame[frame["qc_passed"].notna()]
    assert len(defaced) == 13 and defaced["qc_passed"].tolist() == [True] * 13
    assert (defaced["brain_removed_ml"] == 0).all()
    assert (defaced["face_removed_share"] >= 0.95).all() and (defaced["head_fit"] >= 0.85).all()
    first = prepared.participants[0].images[0]
    row = frame.iloc[0]
    assert (row["path"], row["image"], row["defaced"]) == (first.path, first.suffix,
                                                          first.defaced)
    assert row["head_fit"] == first.qc.measures["head_fit"]


def test_state_files_read_back_into_the_records(prepared):
    from mrishare.pipeline import state

    report = prepared.report.parent
    for participant in prepared.participants:
        assert state.load_state(report, participant.label) == participant


def test_screenshot_and_unmapped_series_skipped_with_reason(prepared):
    skipped = {item.source.rsplit("/", 1)[-1]: item.reason
               for p in prepared.participants for item in p.skipped}
    assert sorted(skipped) == ["012_neuromelanin_v3", "099_Screen_capture"], skipped
    assert skipped["012_neuromelanin_v3"].startswith("not mapped")
    assert skipped["099_Screen_capture"].startswith("not MR")


def test_report_beside_the_dataset(prepared):
    report = prepared.report
    assert report.is_file() and (report.parent / "report.html").is_file()
    assert prepared.dataset not in report.parents
    text = report.read_text()
    for participant in prepared.participants:
        assert f"sub-{participant.label}" in text
    assert "Audit" in text and "Clean" in text
    html = (report.parent / "report.html").read_text()
    assert html.count("<img ") == 13 and "alt=''" not in html  # one per defaced image
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
    from mrishare import deface

    source = study_subset(tmp_path / "src", TWO)
    labels = pipeline.list_participants(source, KEY)
    assert len(labels) == 2
    real = deface.deface_images
    calls = []

    def broken(reference, others=None, method="template"):
        calls.append(method)
        if len(calls) == 1:  # one job, participants in label order: the first one crashes
            raise RuntimeError("simulated crash while defacing")
        return real(reference, others, method)

    monkeypatch.setattr(deface, "deface_images", broken)
    dst = tmp_path / "shared"
    first = pipeline.prepare(source, dst, KEY, progress=False, check_face=False)
    status = {p.label: p.status for p in first.participants}
    assert status == {labels[0]: "failed", labels[1]: "done"}
    assert first.failed[0].failed == [pipeline.SourceNote(
        "(participant)", "RuntimeError: simulated crash while defacing")]
    assert first.exit_status == 3
    assert not (dst / f"sub-{labels[0]}").exists()  # nothing half-written
    assert "simulated crash" in first.report.read_text()
    # a session with a T2w only: the T2w is the reference, and the report says so
    assert [image.defaced for _, image in first.images()] == [
        "template face region carried by registration (no T1w in this session)"]

    monkeypatch.setattr(deface, "deface_images", real)
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
    with pytest.raises(DestinationError, match="inside the source"):
        pipeline.prepare(source, dst, KEY)
    assert not (source / "out").exists()


def test_foreign_destination_is_refused(tmp_path):
    source = study_subset(tmp_path / "src", ("DEBOER*/*/005_*",))
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "thesis.docx").write_text("mine")
    with pytest.raises(DestinationError, match="not an empty folder"):
        pipeline.prepare(source, tmp_path / "other", KEY)
    assert [p.name for p in (tmp_path / "other").iterdir()] == ["thesis.docx"]


def test_source_that_is_not_a_folder_is_refused(tmp_path):
    with pytest.raises(SourceError, match="not a folder"):
        pipeline.prepare(tmp_path / "nothing", tmp_path / "shared", KEY)
    assert not (tmp_path / "shared").exists()


def test_damaged_state_file_stops_with_a_clear_message(tmp_path):
    source = study_subset(tmp_path / "src", ("DEBOER*/*/005_*",))
    label = pipeline.list_participants(source, KEY)[0]
    state_file = tmp_path / "shared_report" / "state" / f"{label}.json"
    state_file.parent.mkdir(parents=True)
    state_file.write_text('{"label": "' + label + '", "status": "done", "images": [')
    with pytest.raises(pipeline.PrepareError, match=r"state file .* is damaged.*Delete it"):
        pipeline.prepare(source, tmp_path / "shared", KEY, progress=False)
    assert not (tmp_path / "shared").exists()


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
    assert len(images) == 18 and all(path.split("/")[1].startswith("ses-") for path in images)


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
