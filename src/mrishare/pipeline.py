"""``prepare``: from a DICOM study to a shareable BIDS dataset, with proof.

:func:`prepare` composes the other modules, one participant at a time:

1. **classify and convert** the participant's series (:func:`mrishare.bids.to_bids`: series
   classified by its rule table, converted by dcm2niix, NIfTI headers, gzip headers and
   sidecars scrubbed, labels and date shifts from the secret key, screenshots and unknown
   series skipped with a reason);
2. **deface** each session's T1w image and carry the same face region to its other
   anatomical images (:mod:`mrishare.deface`), then measure the result (:mod:`mrishare.qc`)
   and draw before/after pictures (:mod:`mrishare.render`);
3. move the participant's folder into the dataset in one rename, and rebuild the
   dataset's shared files (``participants.tsv``, ``dataset_description.json``, README);
4. **audit** the whole dataset against the identifiers harvested from the source
   (:func:`mrishare.audit.audit`);
5. write a **report**: per participant and session what was done, the QC numbers, the
   pictures, what was skipped and why, and the audit's result.

The report names source folders and shows faces before defacing, so it is written *beside*
the dataset (``<DST>_report/``), never inside it. It also keeps each participant's state,
so that running :func:`prepare` again skips the participants already done: a cohort can be
prepared by many jobs, one participant each (``participant_labels``), as BIDS Apps do on a
cluster. The key is never written anywhere.

Examples
--------
>>> import tempfile, pathlib
>>> from mrishare import data, keys
>>> out = pathlib.Path(tempfile.mkdtemp()) / "shared"
>>> result = prepare(data.sample_path("dicom_study", verify=False), out, keys.Key(bytes(32)),
...                  progress=False)  # doctest: +SKIP
>>> result.exit_status  # doctest: +SKIP
0
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import html
import json
import logging
import os
import shutil
import tempfile
import time
import traceback
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mrishare import __version__
from mrishare._paths import inside
from mrishare.errors import PrepareError
from mrishare.keys import Key

__all__ = [
    "REPORT_SUFFIX",
    "ParticipantResult",
    "PrepareError",
    "PrepareResult",
    "list_participants",
    "prepare",
    "qc_failures",
    "report_dir_for",
]

log = logging.getLogger("mrishare")

REPORT_SUFFIX = "_report"
"""The private report folder sits beside the dataset: ``<DST>_report``."""

#: Anatomical suffixes defaced with the session's T1w transform (the T1w first).
ANATOMICAL = ("T1w", "T2w", "PDw", "T2starw", "FLAIR", "PD", "inplaneT1", "inplaneT2")



# ----------------------------------------------------------------------------- results


@dataclass
class ParticipantResult:
    """What happened to one participant (kept in the private report folder).

    Attributes
    ----------
    label : str
        The pseudonym (``sub-<label>``).
    status : {"done", "failed", "incomplete"}
        ``incomplete``: written, but some series failed (see ``failed``).
    images : list of dict
        One per image written: ``path`` (in the dataset), ``session``, ``suffix``,
        ``defaced`` (how), ``qc`` (numbers), ``renders`` (pictures, in the report folder).
    skipped : list of dict
        Source series left out on purpose: ``source`` (a folder of the source; private)
        and ``reason``.
    failed : list of dict
        Source series or steps that failed: ``source`` and ``reason``.
    row : dict
        This participant's ``participants.tsv`` values.
    seconds : float
        Time taken.
    """

    label: str
    status: str = "done"
    images: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)
    row: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    finished: str = ""

    @property
    def qc_passed(self) -> bool:
        """True when every defaced image passed its QC."""
        return all(image.get("qc", {}).get("passed", True) for image in self.images)


@dataclass
class PrepareResult:
    """The outcome of :func:`prepare`.

    Attributes
    ----------
    dataset : Path
        The BIDS dataset (shareable once the audit is clean).
    report : Path
        The report (Markdown); ``report.html`` sits next to it. Private: keep it out of
        the dataset.
    participants : list of ParticipantResult
        Every participant of the dataset, done now or before.
    reused : list of str
        Labels skipped because they were done by an earlier run.
    audit : mrishare.audit.AuditReport or None
    reproducible : bool
        False when a random key was used.
    """

    dataset: Path
    report: Path
    participants: list[ParticipantResult] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    audit: Any = None
    not_dicom: list[str] = field(default_factory=list)
    reproducible: bool = True
    seconds: float = 0.0

    @property
    def failed(self) -> list[ParticipantResult]:
        """Participants with a failed step or series."""
        return [p for p in self.participants if p.status != "done"]

    @property
    def exit_status(self) -> int:
        """1 when the audit found something or QC failed; else 3 when inputs failed; else 0.

        A leak outranks an incomplete dataset: either way the dataset is not ready, but a
        leak is the one that must never be shared.
        """
        if (self.audit is not None and not self.audit.clean) or not all(
            p.qc_passed for p in self.participants
        ):
            return 1
        return 3 if self.failed else 0


# ----------------------------------------------------------------------------- helpers


def report_dir_for(dst: str | Path) -> Path:
    """The private report folder of a dataset: a sibling named ``<DST>_report``.

    Examples
    --------
    >>> report_dir_for("/data/shared").as_posix()
    '/data/shared_report'
    """
    dst = Path(dst)
    return dst.parent / f"{dst.name}{REPORT_SUFFIX}"


def _check_paths(src: Path, dst: Path) -> None:
    if not src.is_dir():
        raise PrepareError(f"The source {src} is not a folder. Give the folder of the DICOM "
                           "study (it is only read).")
    if inside(dst, src):
        raise PrepareError(f"The destination {dst} is inside the source {src}. The source is "
                           "never written to: choose a destination outside it.")
    if inside(src, dst):
        raise PrepareError(f"The source {src} is inside the destination {dst}: the dataset "
                           "would hold the originals. Choose another destination.")
    if dst.exists() and any(dst.iterdir()) and not (dst / "dataset_description.json").exists():
        raise PrepareError(f"The destination {dst} holds files that mrishare did not write. "
                           "Choose a new or empty folder (re-running on a prepared dataset "
                           "is fine).")


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """An exclusive lock on ``folder/.lock``: jobs of one cohort update shared files in turn."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write_text(path: Path, text: str) -> None:
    from mrishare._paths import atomic_write

    with atomic_write(path, "w") as f:
        f.write(text)


def _group_participants(src: Path, key: Key) -> tuple[dict[str, list[Any]], list[str]]:
    """Series of the source by participant label (headers only), and non-DICOM files."""
    from mrishare import bids

    series, not_dicom = bids.find_series(src)
    groups: dict[str, list[Any]] = {}
    for one in series:
        groups.setdefault(key.label(one.info["_participant"]), []).append(one)
    return dict(sorted(groups.items())), [p.source for p in not_dicom]


def list_participants(src: str | Path, key: Key) -> list[str]:
    """The participant labels a source gives with this key (for a job array's list).

    Examples
    --------
    >>> from mrishare import data
    >>> len(list_participants(data.sample_path("dicom_study", verify=False), Key(bytes(32))))
    2
    """
    return list(_group_participants(Path(src), key)[0])


# ----------------------------------------------------------------------------- one participant


def _view(src: Path, files: Iterable[Path], folder: Path) -> Path:
    """A folder of links to one participant's files, at their paths relative to the source."""
    for path in files:
        link = folder / path.relative_to(src)
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(path.resolve())
    return folder


def _sessions(written: Iterable[str]) -> dict[str, list[str]]:
    """Image paths by session folder (``sub-x`` or ``sub-x/ses-n``), T1w first."""
    by_session: dict[str, list[str]] = {}
    for path in written:
        parts = Path(path).parts
        session = "/".join(parts[:2]) if len(parts) > 3 else parts[0]
        by_session.setdefault(session, []).append(path)
    order = {suffix: i for i, suffix in enumerate(ANATOMICAL)}
    for paths in by_session.values():
        paths.sort(key=lambda p: (order.get(_suffix(p), 99), p))
    return by_session


def _suffix(path: str) -> str:
    return Path(path).name.split(".")[0].rsplit("_", 1)[-1]


def _save_figure(figure: Any, path: Path) -> None:
    from mrishare._paths import atomic_write

    with atomic_write(path) as f:
        figure.savefig(f, format="png", dpi=72)


def _deface_session(build: Path, paths: list[str], renders: Path, label: str
                    ) -> list[dict[str, Any]]:
    """Deface a session's anatomical images in place: T1w first, the others via the T1w.

    The T1w is defaced by the template method (:func:`mrishare.deface.deface`), the
    session's other anatomical images by registering them to it
    (:func:`mrishare.deface.deface_other`); each result is measured (:func:`mrishare.qc.check`)
    and drawn before and after (:func:`mrishare.render.before_after`, into ``renders``).
    Nothing is written until every image of the session is defaced. Returns one record per
    image.
    """
    from mrishare import deface, nifti, qc, render

    records: list[dict[str, Any]] = []
    results = []
    reference = None  # the T1w's result: the other contrasts are carried through it
    for path in paths:
        suffix = _suffix(path)
        record: dict[str, Any] = {"path": path, "suffix": suffix,
                                  "session": _session_of(path)}
        records.append(record)
        if suffix not in ANATOMICAL:
            record["defaced"] = "not an anatomical image: left as converted"
            continue
        # Read fully into memory: the defaced image replaces the file, and an image read
        # lazily from it would then show the defaced voxels as "before".
        image = nifti.load_nifti(build / path)
        if reference is None:
            result = deface.deface(image, "template")
            record["defaced"] = "template face region carried by registration"
            if suffix == "T1w":
                reference = result
            else:
                record["defaced"] += " (no T1w in this session)"
        else:
            result = deface.deface_other(image, reference)
            record["defaced"] = "face region of the session's T1w, carried to this image"
        report = qc.check(result)
        record["qc"] = {**report.as_dict(), "passed": report.passed,
                        "summary": qc.summary(report)}
        picture = renders / f"{Path(path).name.split('.')[0]}_before_after.png"
        _save_figure(render.before_after(result.original, result.image,
                                         frame=result.registration.matrix), picture)
        record["renders"] = [picture.name]
        results.append((build / path, result))
    for target, result in results:
        nifti.save_nifti(result.image, target)
    return records


def _session_of(path: str) -> str:
    parts = Path(path).parts
    return parts[1] if len(parts) > 3 and parts[1].startswith("ses-") else ""


def _participant_job(src: str, files: list[str], dst: str, report: str, secret: bytes,
                     reproducible: bool, sessions: bool, label: str) -> ParticipantResult:
    """Prepare one participant. Never raises: a failure is recorded and returned.

    ``sessions``: use ``ses-`` folders (decided once for the whole source, so that every
    participant has the same layout).
    """
    from mrishare import bids

    start = time.perf_counter()
    key = Key(secret, reproducible=reproducible)
    src_path, dst_path, report_path = Path(src), Path(dst), Path(report)
    result = ParticipantResult(label)
    work = Path(tempfile.mkdtemp(prefix=f".work-{label}-", dir=report_path))
    try:
        view = _view(src_path, [Path(f) for f in files], work / "source")
        converted = bids.to_bids(view, work / "bids", key, jobs=1, sessions=sessions)
        result.skipped = [{"source": p.source, "reason": p.message} for p in converted.skipped]
        result.failed = [{"source": p.source, "reason": p.message} for p in converted.failed]
        if not converted.written:
            result.status = "failed"
            if not result.failed:
                result.failed.append({"source": "(all series)",
                                      "reason": "no series of this participant could be used"})
            return result
        renders = report_path / "images"
        renders.mkdir(parents=True, exist_ok=True)
        for paths in _sessions(converted.written).values():
            result.images += _deface_session(work / "bids", paths, renders, label)
        result.row = _participants_row(work / "bids" / "participants.tsv", label)
        _publish(work / "bids", dst_path, label)
        if result.failed:
            result.status = "incomplete"
    except Exception as error:  # one participant's failure must not stop the others
        result.status = "failed"
        result.failed.append({"source": "(participant)",
                              "reason": f"{type(error).__name__}: {error}"})
        log.debug("participant %s failed:\n%s", label, traceback.format_exc())
    finally:
        shutil.rmtree(work, ignore_errors=True)
        result.seconds = round(time.perf_counter() - start, 2)
        result.finished = dt.datetime.now().isoformat(timespec="seconds")
    return result


def _participants_row(table: Path, label: str) -> dict[str, str]:
    lines = table.read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    for line in lines[1:]:
        values = dict(zip(header, line.split("\t"), strict=False))
        if values.get("participant_id") == f"sub-{label}":
            return values
    return {"participant_id": f"sub-{label}"}


_SHARED_FILES = ("dataset_description.json", "participants.json")


def _publish(build: Path, dst: Path, label: str) -> None:
    """Move ``sub-<label>`` into the dataset in one rename (an older copy is replaced)."""
    dst.mkdir(parents=True, exist_ok=True)
    for name in _SHARED_FILES:
        if not (dst / name).exists():
            _write_text(dst / name, (build / name).read_text(encoding="utf-8"))
    target = dst / f"sub-{label}"
    staging = dst.parent / f".{dst.name}-incoming-{label}"
    shutil.rmtree(staging, ignore_errors=True)
    shutil.move(str(build / f"sub-{label}"), staging)  # same filesystem as dst from here
    if target.exists():
        old = dst.parent / f".{dst.name}-old-{label}"
        shutil.rmtree(old, ignore_errors=True)
        os.replace(target, old)
        os.replace(staging, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(staging, target)


# ----------------------------------------------------------------------------- state


def _state_path(report: Path, label: str) -> Path:
    return report / "state" / f"{label}.json"


def _load_state(report: Path, label: str) -> ParticipantResult | None:
    path = _state_path(report, label)
    if not path.is_file():
        return None
    try:
        return ParticipantResult(**json.loads(path.read_text(encoding="utf-8")))
    except (json.JSONDecodeError, TypeError):
        return None


def _save_state(report: Path, result: ParticipantResult) -> None:
    _write_text(_state_path(report, result.label), json.dumps(asdict(result), indent=2) + "\n")


def _done(report: Path, dst: Path, label: str) -> ParticipantResult | None:
    state = _load_state(report, label)
    if state is not None and state.status == "done" and (dst / f"sub-{label}").is_dir():
        return state
    return None


_README = """\
# De-identified MRI dataset

Prepared by mrishare {version} (`mrishare prepare`) from a DICOM study.

- Participant labels are pseudonyms made with a secret key; the key is not part of
  this dataset.{random_key}
- Dates in `scans.tsv` are shifted back to 1925 or earlier, by one shift per
  participant, so intervals between sessions are true.
- NIfTI headers hold no free text and no extensions; gzip headers hold no file name or
  time; JSON sidecars hold only BIDS MRI acquisition fields.
- Faces were removed from every anatomical image: the face region of a template head,
  carried to each T1w image by registration (and, through a registration to that T1w,
  to the session's other anatomical images), was set to zero and checked.
- After preparation the whole dataset was searched for every identifier of the source
  study (names, IDs, dates, addresses, UIDs, folder names) and for faces left behind.

Removing names and faces is pseudonymisation, not anonymisation: share this dataset only
in the way your ethics approval, your participants' consent and your data protection
officer allow.
"""


def _rebuild_shared_files(dst: Path, report: Path, reproducible: bool) -> list[ParticipantResult]:
    """participants.tsv from every participant's state; README. Call under the lock."""
    states = []
    for path in sorted((report / "state").glob("*.json")):
        state = _load_state(report, path.stem)
        if state is not None and (dst / f"sub-{state.label}").is_dir():
            states.append(state)
    columns = ["participant_id"]
    for state in states:
        columns += [c for c in state.row if c not in columns]
    lines = ["\t".join(columns)]
    for state in states:
        row = {"participant_id": f"sub-{state.label}", **state.row}
        lines.append("\t".join(str(row.get(c, "n/a")) for c in columns))
    if states:
        _write_text(dst / "participants.tsv", "\n".join(lines) + "\n")
    note = "" if reproducible else (
        "\n- A random key was used: these pseudonyms cannot be made again.")
    _write_text(dst / "README", _README.format(version=__version__, random_key=note))
    return states


# ----------------------------------------------------------------------------- prepare


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
        Prepare only these participants (labels without ``sub-``; see
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

    Returns
    -------
    PrepareResult
        ``result.exit_status`` is the command's exit status.

    Raises
    ------
    PrepareError
        A destination inside the source, files in the destination that mrishare did not
        write, or a participant label the source does not give with this key.
    """
    from mrishare import audit as _audit
    from mrishare import bids

    start = time.perf_counter()
    src, dst = Path(src), Path(dst)
    _check_paths(src, dst)
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
    report.mkdir(parents=True, exist_ok=True)
    _write_text(report / "PRIVATE.txt", "This folder names the source study's folders and "
                "shows faces before defacing. Keep it private: never share it with the "
                "dataset.\n")
    result = PrepareResult(dst, report / "report.md", not_dicom=not_dicom,
                           reproducible=key.reproducible)

    todo = {}
    for label, series in groups.items():
        if _done(report, dst, label) is not None:
            result.reused.append(label)
        else:
            todo[label] = sorted(str(f) for one in series for f in one.files)
    fresh = _run_jobs(todo, src, dst, report, key, sessions, jobs, progress)
    with _locked(report):
        for one in fresh:
            _save_state(report, one)
        states = _rebuild_shared_files(dst, report, key.reproducible) if dst.exists() else []
    by_label = {s.label: s for s in states}
    by_label.update({one.label: one for one in fresh})
    result.participants = [by_label[label] for label in sorted(by_label)]

    if dst.exists():
        result.audit = _audit.audit(dst, against=src, check_face=check_face)
        _write_text(report / "audit.json", json.dumps(result.audit.to_dict(), indent=2) + "\n")
    result.seconds = round(time.perf_counter() - start, 1)
    _write_text(result.report, render_markdown(result))
    _write_text(report / "report.html", render_html(result))
    return result


def _run_jobs(todo: dict[str, list[str]], src: Path, dst: Path, report: Path, key: Key,
              sessions: bool, jobs: int, progress: bool | None) -> list[ParticipantResult]:
    from tqdm.auto import tqdm

    if not todo:
        return []
    args = (str(src), str(dst), str(report), key.secret, key.reproducible, sessions)
    bar = tqdm(total=len(todo), unit="participant", desc="prepare",
               disable=(None if progress is None else not progress))
    results = []
    try:
        if jobs <= 1 or len(todo) == 1:
            for label, files in todo.items():
                results.append(_participant_job(args[0], files, *args[1:], label))
                bar.update()
            return results
        with ProcessPoolExecutor(max_workers=min(jobs, len(todo))) as pool:
            futures = {pool.submit(_participant_job, args[0], files, *args[1:], label): label
                       for label, files in todo.items()}
            for future in as_completed(futures):
                try:
                    results.append(future.result())
                except BrokenProcessPool as error:  # a worker died (out of memory, killed)
                    results.append(ParticipantResult(
                        futures[future], status="failed",
                        failed=[{"source": "(participant)",
                                 "reason": f"the worker process died: {error}"}]))
                bar.update()
        return results
    finally:
        bar.close()


# ----------------------------------------------------------------------------- report


def _qc_text(qc: dict[str, Any]) -> str:
    """``passed: brain removed 0.00 ml, face removed 100%, head fit 0.98 Dice``."""
    from mrishare.qc import TARGETS

    if not qc:
        return ""
    shown = []
    for name, (_, _, unit, _) in TARGETS.items():
        if isinstance(qc.get(name), int | float):
            what = name.removesuffix("_ml").removesuffix("_share").replace("_", " ")
            value = qc[name]
            shown.append(f"{what} {value:.0%}" if unit == "share" else
                         f"{what} {value:.2f} {unit}")
    return ("passed: " if qc.get("passed", True) else "FAILED: ") + ", ".join(shown)


def qc_failures(result: PrepareResult) -> list[str]:
    """Dataset paths of the images whose defacing missed a QC target.

    Examples
    --------
    >>> image = {"path": "sub-a/anat/sub-a_T1w.nii.gz", "qc": {"passed": False}}
    >>> qc_failures(PrepareResult(Path("d"), Path("r"),
    ...                           participants=[ParticipantResult("a", images=[image])]))
    ['sub-a/anat/sub-a_T1w.nii.gz']
    """
    return [image["path"] for p in result.participants for image in p.images
            if not image.get("qc", {}).get("passed", True)]


def _summary_lines(result: PrepareResult) -> list[str]:
    done = sum(p.status == "done" for p in result.participants)
    audit = result.audit
    verdict = {0: "ready to share (as far as the checks go)",
               1: "NOT ready: the audit found identifiers or QC failed",
               3: "incomplete: some inputs failed"}[result.exit_status]
    lines = [
        f"- Verdict: **{verdict}** (exit status {result.exit_status})",
        f"- Participants: {len(result.participants)} ({done} done, "
        f"{len(result.reused)} reused from an earlier run, {len(result.failed)} with problems)",
        f"- Time: {result.seconds} s",
        "- Key: " + ("from a key file" if result.reproducible
                     else "random (pseudonyms cannot be made again)"),
    ]
    failures = qc_failures(result)
    if failures:
        lines.append(f"- **QC FAILED** for {len(failures)} image(s): "
                     + ", ".join(f"`{path}`" for path in failures)
                     + ". The face may still be there or brain was removed: look at the "
                     "pictures below, and do not share these images as they are.")
    if audit is not None:
        state = "clean" if audit.clean else f"{len(audit.findings)} findings"
        lines.append(f"- Audit: {state}; {audit.files} files searched for "
                     f"{sum(audit.searched.values())} values harvested from the source")
    if result.not_dicom:
        lines.append(f"- Source files that are not DICOM images (ignored): "
                     f"{len(result.not_dicom)}")
    return lines


def render_markdown(result: PrepareResult) -> str:
    """The report as Markdown (private: it names source folders)."""
    lines = ["# mrishare prepare: report", "",
             f"mrishare {__version__}, {dt.datetime.now():%Y-%m-%d %H:%M}. "
             "**Private**: this report names folders of the source study and shows faces "
             "before defacing. Never share it with the dataset.", "",
             "## Summary", "", *_summary_lines(result), ""]
    for p in result.participants:
        lines += [f"## sub-{p.label}", "",
                  f"Status: **{p.status}**" + (" (from an earlier run)" if p.label in
                                               result.reused else "") +
                  f"; {p.seconds} s.", ""]
        if p.images:
            lines += ["| session | image | defacing | QC |", "|---|---|---|---|"]
            for image in p.images:
                lines.append(f"| {image.get('session') or '-'} | `{image['path']}` | "
                             f"{image.get('defaced', '')} | {_qc_text(image.get('qc', {}))} |")
            lines.append("")
            for image in p.images:
                for picture in image.get("renders", []):
                    lines += [f"![Before and after defacing: {image['suffix']} of sub-{p.label}"
                              f" {image.get('session', '')}](images/{picture})", ""]
        for title, items in (("Skipped on purpose", p.skipped), ("Failed", p.failed)):
            if items:
                lines += [f"**{title}:**", ""]
                lines += [f"- `{item['source']}`: {item['reason']}" for item in items]
                lines.append("")
    lines += ["## Audit", ""]
    if result.audit is None:
        lines.append("Not run: no participant was written.")
    else:
        lines += ["```text", result.audit.summary(limit=50), "```"]
    lines += ["", "## Before you share", "",
              "Read the checklist before sharing (the chapter *Checklist* of the mrishare "
              "book): consent, agreements, the repository, and what else travels with the "
              "data.", ""]
    return "\n".join(lines)


def render_html(result: PrepareResult) -> str:
    """The report as one HTML page (pictures linked from ``images/``)."""
    esc = html.escape
    parts = ["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
             "<title>mrishare prepare: report</title><style>",
             "body{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:1.4}",
             "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .5em}",
             ".bad{color:#b00;font-weight:bold}.ok{color:#070;font-weight:bold}",
             "img{max-width:100%}pre{background:#f6f6f6;padding:1em;overflow:auto}",
             "</style></head><body>",
             "<h1>mrishare prepare: report</h1>",
             f"<p>mrishare {esc(__version__)}. <strong>Private</strong>: this report names "
             "folders of the source study and shows faces before defacing. Never share it "
             "with the dataset.</p><h2>Summary</h2><ul>"]
    for line in _summary_lines(result):
        text = esc(line[2:]).replace("**", "").replace("`", "")
        loud = " class='bad'" if "FAILED" in line or "NOT ready" in line else ""
        parts.append(f"<li{loud}>{text}</li>")
    parts.append("</ul>")
    for p in result.participants:
        cls = "ok" if p.status == "done" else "bad"
        parts.append(f"<h2>sub-{esc(p.label)}</h2><p>Status: <span class='{cls}'>"
                     f"{esc(p.status)}</span>; {p.seconds} s.</p>")
        if p.images:
            parts.append("<table><tr><th>session</th><th>image</th><th>defacing</th>"
                         "<th>QC</th></tr>")
            for image in p.images:
                parts.append(f"<tr><td>{esc(image.get('session') or '-')}</td>"
                             f"<td><code>{esc(image['path'])}</code></td>"
                             f"<td>{esc(image.get('defaced', ''))}</td>"
                             f"<td>{esc(_qc_text(image.get('qc', {})))}</td></tr>")
            parts.append("</table>")
            for image in p.images:
                for picture in image.get("renders", []):
                    alt = (f"Before and after defacing: {image['suffix']} of sub-{p.label} "
                           f"{image.get('session', '')}")
                    parts.append(f"<p><img src='images/{esc(picture)}' alt='{esc(alt)}'></p>")
        for title, items in (("Skipped on purpose", p.skipped), ("Failed", p.failed)):
            if items:
                parts.append(f"<p><strong>{title}:</strong></p><ul>")
                parts += [f"<li><code>{esc(i['source'])}</code>: {esc(i['reason'])}</li>"
                          for i in items]
                parts.append("</ul>")
    parts.append("<h2>Audit</h2>")
    if result.audit is None:
        parts.append("<p>Not run: no participant was written.</p>")
    else:
        parts.append(f"<pre>{esc(result.audit.summary(limit=50))}</pre>")
    parts.append("<h2>Before you share</h2><p>Read the checklist of the mrishare book: "
                 "consent, agreements, the repository, and what else travels with the "
                 "data.</p></body></html>\n")
    return "\n".join(parts)
