"""``prepare``: check the paths, split the source by participant, run the jobs, audit, report.

Examples
--------
>>> report_dir_for("/data/shared").as_posix()
'/data/shared_report'
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from mrishare._paths import check_destination, check_source, write_json, write_text
from mrishare.errors import PrepareError
from mrishare.keys import Key
from mrishare.pipeline import state
from mrishare.pipeline.participant import prepare_participant
from mrishare.pipeline.records import ParticipantResult, PrepareResult, SourceNote
from mrishare.pipeline.report import render_html, render_markdown

__all__ = ["REPORT_SUFFIX", "list_participants", "prepare", "report_dir_for"]

REPORT_SUFFIX = "_report"
"""The private report folder sits beside the dataset: ``<DST>_report``."""

_PRIVATE = ("This folder names the source study's folders and shows faces before defacing. "
            "Keep it private: never share it with the dataset.\n")


def report_dir_for(dst: str | Path) -> Path:
    """Return the private report folder of a dataset: a sibling named ``<DST>_report``.

    Parameters
    ----------
    dst : str or Path
        The dataset.

    Returns
    -------
    Path
    """
    dst = Path(dst)
    return dst.parent / f"{dst.name}{REPORT_SUFFIX}"


def _group_participants(src: Path, key: Key) -> tuple[dict[str, list[Any]], list[str]]:
    """Series of the source by participant label (headers only), and non-DICOM files."""
    from mrishare import bids

    series, not_dicom = bids.find_series(src)
    groups: dict[str, list[Any]] = {}
    for one in series:
        groups.setdefault(key.label(one.participant), []).append(one)
    return dict(sorted(groups.items())), [p.source for p in not_dicom]


def list_participants(src: str | Path, key: Key) -> list[str]:
    """Return the participant labels a source gives with this key (for a job array's list).

    Parameters
    ----------
    src : str or Path
        The DICOM study.
    key : mrishare.keys.Key

    Returns
    -------
    list of str
        Sorted labels, without ``sub-``.

    Examples
    --------
    >>> from mrishare import data
    >>> len(list_participants(data.sample_path("dicom_study", verify=False), Key(bytes(32))))
    2
    """
    return list(_group_participants(Path(src), key)[0])


def prepare(
    src: str | Path,
    dst: str | Path,
    key: Key,
    *,
    participant_labels: Sequence[str] | None = None,
    jobs: int = 1,
    report_dir: str | Path | None = None,
    check_face: bool = True,
    progress: bool | None = None,
    config: str | Path | None = None,
) -> PrepareResult:
    """Turn a DICOM study into a defaced, de-identified BIDS dataset, audited, with a report.

    Parameters
    ----------
    src : str or Path
        The DICOM study (any layout). It is only read.
    dst : str or Path
        The dataset to write: a new or empty folder, or one written by an earlier run
        (participants already done are skipped).
    key : mrishare.keys.Key
        The study's secret key (:func:`mrishare.keys.load_or_random_key`).
    participant_labels : sequence of str, optional
        Prepare only these participants (labels with or without ``sub-``; see
        :func:`list_participants`). One label per job runs a cohort as a job array.
    jobs : int, default 1
        Participants prepared at the same time, each in its own process.
    report_dir : str or Path, optional
        Where the private report goes; default :func:`report_dir_for` (beside ``dst``).
    check_face : bool, default True
        Let the audit register the template to every anatomical image again and look for
        a face (independent of the defacing step's own QC).
    progress : bool, optional
        Show a progress bar (default: when the terminal is interactive).
    config : str or Path, optional
        A series mapping of the user's (``--config``), tried before the shipped one; read
        and checked before any participant starts.

    Returns
    -------
    PrepareResult
        ``result.exit_status`` is the command's exit status.

    Raises
    ------
    SourceError
        The source is not a folder.
    DestinationError
        The destination is or lies inside the source, holds it, or holds files that
        mrishare did not write.
    PrepareError
        A report folder inside the dataset, a random key on a prepared dataset, a
        participant label the source does not give with this key, or a damaged state file.
    """
    from mrishare import audit as _audit
    from mrishare import bids

    start = time.perf_counter()
    src = check_source(src)
    dst = check_destination(src, dst, reuse="dataset_description.json")
    report = Path(report_dir) if report_dir else report_dir_for(dst)
    if report.resolve() == dst.resolve() or dst.resolve() in report.resolve().parents:
        raise PrepareError("The report names the source's folders: it must not go inside "
                           "the dataset. Choose a report folder outside it.")
    if not key.reproducible and (dst / "dataset_description.json").exists():
        raise PrepareError("The destination was prepared before. Give the same key file as "
                           "then: a random key would add the same people again under new "
                           "labels.")
    if participant_labels and not key.reproducible:
        raise PrepareError("Participant labels come from the key: give --key-file to choose "
                           "participants by label.")
    groups, not_dicom = _group_participants(src, key)
    # One layout for the whole dataset: ses- folders when anyone in SRC has two sessions
    # (decided from the whole source, also when a job prepares one participant).
    sessions = bids.uses_sessions(one for series in groups.values() for one in series)
    if participant_labels:
        labels = [label.removeprefix("sub-") for label in participant_labels]
        unknown = [label for label in labels if label not in groups]
        if unknown:
            raise PrepareError(
                f"The source gives no participant labelled {', '.join(unknown)} with this key "
                f"({len(groups)} participants; list them with --list-participants)."
            )
        groups = {label: groups[label] for label in labels}
    if config is not None:
        from mrishare import bids

        bids.load_config(config)  # a broken file stops here, before any work
    before = {s.label: s for s in state.load_states(report)}  # a damaged state stops here
    write_text(report / "PRIVATE.txt", _PRIVATE)
    result = PrepareResult(dst, report / "report.md", not_dicom=not_dicom,
                           reproducible=key.reproducible)

    todo = {}
    for label, series in groups.items():
        earlier = before.get(label)
        if earlier is not None and earlier.status == "done" and (dst / f"sub-{label}").is_dir():
            result.reused.append(label)
        else:
            todo[label] = sorted(str(f) for one in series for f in one.files)
    job = functools.partial(prepare_participant, src=str(src), dst=str(dst),
                            report=str(report), secret=key.secret,
                            reproducible=key.reproducible, sessions_level=sessions,
                            config=None if config is None else str(config))
    fresh = _run_jobs(todo, job, jobs, progress)
    with state.lock(report):
        for one in fresh:
            state.save_state(report, one)
        states = (state.update_shared_files(dst, report, key.reproducible)
                  if dst.exists() else [])
    by_label = {s.label: s for s in states}
    by_label.update({one.label: one for one in fresh})
    result.participants = [by_label[label] for label in sorted(by_label)]

    if dst.exists():
        result.audit = _audit.audit(dst, against=src, check_face=check_face)
        write_json(report / "audit.json", result.audit.to_dict())
    result.seconds = round(time.perf_counter() - start, 1)
    write_text(result.report, render_markdown(result))
    write_text(report / "report.html", render_html(result))
    return result


def _run_jobs(todo: dict[str, list[str]], job: Callable[..., ParticipantResult], jobs: int,
              progress: bool | None) -> list[ParticipantResult]:
    """Run ``job`` (:func:`prepare_participant`) for each label, ``jobs`` processes at a time."""
    from tqdm.auto import tqdm

    if not todo:
        return []
    bar = tqdm(total=len(todo), unit="participant", desc="prepare",
               disable=(None if progress is None else not progress))
    results = []
    try:
        if jobs <= 1 or len(todo) == 1:
            for label, files in todo.items():
                results.append(job(files=files, label=label))
                bar.update()
            return results
        with ProcessPoolExecutor(max_workers=min(jobs, len(todo))) as pool:
            futures = {pool.submit(job, files=files, label=label): label
                       for label, files in todo.items()}
            for future in as_completed(futures):
                try:
                    results.append(future.result())
                except BrokenProcessPool as error:  # a worker died (out of memory, killed)
                    results.append(ParticipantResult(
                        futures[future], status="failed",
                        failed=[SourceNote("(participant)",
                                           f"the worker process died: {error}")]))
                bar.update()
        return results
    finally:
        bar.close()
