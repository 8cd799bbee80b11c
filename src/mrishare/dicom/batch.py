"""De-identify a whole export: every file under a folder, named by pseudonyms, with a report.

Each file is read with :func:`mrishare.readers.read_dicom` (so files without a file meta
header are accepted, and refused files get the reader's reason), left out when
:func:`~mrishare.dicom.leave_out.leave_out_reason` says so, de-identified, and written into a
staging folder inside the destination. Once all are done, each is renamed to
``sub-<label>/ses-<n>/<series number>-<modality>/<instance number>.dcm``. The source is only
read.

Files that share a SOP Instance UID are never mixed: when their data sets are the same bytes
(file meta header aside) they are one object, written once, and the others are named as its
copies; when they differ, each is written with its own SOP Instance UID, derived from the key,
the original UID and a hash of its content (so the same files give the same UIDs again). The
report's mapping (:meth:`~mrishare.dicom.report.Report.save_mapping`) names for every output
the source it came from and for every source its fate.

Examples
--------
>>> import tempfile, pathlib
>>> from mrishare import data
>>> from mrishare.keys import Key
>>> out = pathlib.Path(tempfile.mkdtemp()) / "out"
>>> report = deidentify_folder(data.sample_path("pydicom_MR_small"), out, Key(bytes(32)))
>>> report.exit_status, report.series[0].files, report.series[0].modality
(0, 1, 'MR')
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import shutil
import struct
import warnings
from collections import Counter, defaultdict
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydicom.dataset import Dataset

from mrishare._paths import refuse_inside_source
from mrishare.dicom import validate as validator
from mrishare.dicom.actions import deidentify
from mrishare.dicom.leave_out import leave_out_reason
from mrishare.dicom.options import Options
from mrishare.dicom.people import StudyRecord, number_sessions, study_record
from mrishare.dicom.profile import load_profile
from mrishare.dicom.report import FileFate, Report, SkippedFile, WrittenSeries
from mrishare.dicom.values import text
from mrishare.errors import BadInputError, SourceError
from mrishare.keys import Key
from mrishare.readers import read_dicom

__all__ = ["STAGING", "FileResult", "Report", "SkippedFile", "WrittenSeries", "content_hash",
           "deidentify_folder"]

STAGING = ".mrishare-staging"
"""The folder inside the destination while a batch runs; removed at the end."""

_LONG_VRS = frozenset({b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN",
                       b"UR", b"UT", b"UV"})


@dataclass
class FileResult:
    """What happened to one source file.

    Parameters
    ----------
    source : str
        The file's path relative to the source folder.
    status : str
        ``"written"``, ``"left out"`` (on purpose: see :func:`leave_out_reason`) or
        ``"failed"`` (bad input).
    reason : str
        Why it was left out or failed.
    participant : str
        The participant label.
    study : StudyRecord, optional
        Original values: stays in memory, never written.
    series : str
        A keyed name of the series.
    series_number, instance : int, optional
        Series and instance numbers of the file.
    modality : str
        The modality, letters and digits only (``"OT"`` when missing).
    staged, output : str
        Its path in the staging folder, then in the destination.
    uid : str
        The original SOP Instance UID (in memory only, never written).
    content : str
        A hash of the data set as stored (file meta header aside): equal for copies; made
        only for files whose SOP Instance UID another file shares.
    name : str
        A keyed file name, used when instance numbers are missing or repeated.
    notes : list of str
        What the de-identification removed whole or decided without the standard's tables.
    """

    source: str
    status: str
    reason: str = ""
    participant: str = ""
    study: StudyRecord | None = field(default=None, repr=False)
    series: str = ""
    series_number: int | None = None
    modality: str = ""
    instance: int | None = None
    staged: str = ""
    output: str = ""
    uid: str = field(default="", repr=False)
    content: str = ""
    name: str = ""
    notes: list[str] = field(default_factory=list)


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def content_hash(data: bytes) -> str:
    r"""Return a hash of a file's data set: its bytes after the preamble and file meta header.

    Two files with the same hash hold the same object, encoded the same way; the file meta
    header (who sent it, with which program) does not count.

    Parameters
    ----------
    data : bytes
        The whole file.

    Returns
    -------
    str
        32 hexadecimal characters.

    Examples
    --------
    >>> content_hash(b"\0" * 128 + b"DICM" + b"rest") == content_hash(b"rest")
    True
    """
    start = 132 if data[128:132] == b"DICM" else 0
    while len(data) >= start + 8 and data[start:start + 2] == b"\x02\x00":  # group 0002
        vr = data[start + 4:start + 6]
        if vr in _LONG_VRS:
            (length,) = struct.unpack_from("<I", data, start + 8)
            start += 12 + length
        else:
            (length,) = struct.unpack_from("<H", data, start + 6)
            start += 8 + length
    return hashlib.blake2b(data[start:], digest_size=16).hexdigest()


def _read(source: Path) -> tuple[Dataset | None, str | None]:
    """Read a file; a file the reader refuses may still be one left out on purpose."""
    try:
        ds = read_dicom(source)
    except BadInputError:
        try:
            reason = leave_out_reason(source)  # e.g. a DICOMDIR: no SOP Instance UID
        except BadInputError:
            reason = None
        if reason:
            return None, reason
        raise
    return ds, leave_out_reason(ds)


def _process(source: Path, relative: str, staged: str, staging: Path, key: Key,
             options: Options) -> FileResult:
    """Read, check, de-identify and stage one file; never raise for bad input."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds, reason = _read(source)
            if ds is None or reason:
                return FileResult(relative, "left out", reason or "")
            record = study_record(ds)
            label = key.label(record.participant)
            series = key.label(text(ds, "SeriesInstanceUID", "none"), 12)
            uid = text(ds, "SOPInstanceUID")
            result = FileResult(
                relative, "written", participant=label, study=record, series=series,
                series_number=_int_or_none(ds.get("SeriesNumber")),
                modality=re.sub(r"[^A-Za-z0-9]", "", text(ds, "Modality")) or "OT",
                instance=_int_or_none(ds.get("InstanceNumber")), uid=uid,
                name=f"{key.label(uid, 16)}.dcm",
            )
            ds = deidentify(ds, key, options, copy=False, notes=result.notes)
            # Straight into the staging folder: it is emptied when a batch starts, and a
            # file reaches DST only by a rename once the whole batch is written.
            _write(ds, staging / staged)
            result.staged = staged
            return result
    except BadInputError as error:
        return FileResult(relative, "failed", str(error))
    except Exception as error:  # anything else: report it, and go on with the rest
        return FileResult(relative, "failed", f"could not be processed: "
                                              f"{type(error).__name__}: {error}")


_REQUIRED_META = {0x00020002: "Media Storage SOP Class UID",
                  0x00020003: "Media Storage SOP Instance UID",
                  0x00020010: "Transfer Syntax UID"}


def _write(ds: Dataset, path: Path) -> None:
    """Write a valid Part 10 file: a preamble and a complete file meta header.

    :func:`deidentify` completes the header (made by the reader when the source had
    none); what it could not fill in makes the file fail, as it would in
    :func:`pydicom.dcmwrite` with ``enforce_file_format``, without that option's second
    pass over the header.
    """
    missing = [name for tag, name in _REQUIRED_META.items() if not text(ds.file_meta, tag)]
    if missing:
        raise BadInputError(f"no {' or '.join(missing)} for the file meta header")
    if not ds.preamble:
        ds.preamble = b"\0" * 128
    ds.save_as(path, enforce_file_format=False)


def _list_files(src: Path) -> list[Path]:
    if src.is_file():
        return [src]
    return sorted(p for p in src.rglob("*") if p.is_file())


_WORKER: dict[str, Any] = {}


def _init_worker(staging: Path, key: Key, options: Options) -> None:
    # pydicom logs what it finds odd with the value (a name, a UID): never echoed here
    logging.getLogger("pydicom").setLevel(logging.CRITICAL)
    _WORKER.update(staging=staging, key=key, options=options)


def _work(item: tuple[Path, str, str]) -> FileResult:
    return _process(*item, _WORKER["staging"], _WORKER["key"], _WORKER["options"])


def _run(items: list[tuple[Path, str, str]], staging: Path, key: Key, options: Options,
         jobs: int, progress: bool) -> Iterator[FileResult]:
    if progress:
        from tqdm import tqdm

        bar: Any = tqdm(total=len(items), unit="file", desc="de-identifying", leave=False)
    else:  # no bar: tqdm is not even imported
        bar = contextlib.nullcontext()
        bar.update = lambda *_: None
    with bar:
        if jobs <= 1:
            _init_worker(staging, key, options)
            for item in items:
                yield _work(item)
                bar.update()
            return
        with ProcessPoolExecutor(jobs, initializer=_init_worker,
                                 initargs=(staging, key, options)) as pool:
            chunk = max(1, min(32, len(items) // jobs // 4))
            for result in pool.map(_work, items, chunksize=chunk):
                yield result
                bar.update()


def _separate_duplicates(results: list[FileResult], root: Path, staging: Path, key: Key,
                         ) -> None:
    """Name copies of one object as copies; give different objects sharing a UID their own.

    Files with the same SOP Instance UID and the same content hash are one object: the
    first (in source order) is written, the others become copies of it. Files with the same
    UID and different content are each written, under a new SOP Instance UID derived from
    the key, the original UID and the content hash, in the data set and the file meta.
    """
    shared: dict[str, list[FileResult]] = defaultdict(list)
    for r in results:
        if r.status == "written":
            shared[r.uid].append(r)
    by_uid: dict[str, dict[str, list[FileResult]]] = defaultdict(lambda: defaultdict(list))
    for uid, files in shared.items():
        for r in files if len(files) > 1 else ():
            r.content = content_hash((root / r.source).read_bytes())
            by_uid[uid][r.content].append(r)
    for uid, contents in by_uid.items():
        for copies in contents.values():
            for r in copies[1:]:
                r.status, r.reason = "copy", copies[0].source
                with contextlib.suppress(OSError):
                    (staging / r.staged).unlink()
        if len(contents) == 1:
            continue
        from pydicom import dcmread
        from pydicom.uid import UID

        for content, copies in contents.items():
            first = copies[0]
            new = UID(key.uid(f"{uid}/content:{content}"))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ds = dcmread(staging / first.staged)
                ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = new
                ds.save_as(staging / first.staged, enforce_file_format=True)
            first.name = f"{key.label(new, 16)}.dcm"
            first.reason = (f"its SOP Instance UID is shared by {len(contents) - 1} other "
                            "source file(s) holding other content: given its own UID")


def _final_paths(results: list[FileResult]) -> None:
    """Give staged files their final names: sub-<label>/ses-<n>/<NNN>-<modality>/<NNNNN>.dcm.

    Sessions are numbered by :func:`number_sessions`; a series folder is named by the series
    number and modality (plus a keyed suffix if two series share them); a file by its
    instance number (or its keyed name when numbers are missing or repeated).
    """
    written = [(r, r.study) for r in results if r.status == "written" and r.study]
    sessions = number_sessions(study for _, study in written)
    by_session: dict[tuple[str, int], dict[str, FileResult]] = defaultdict(dict)
    for r, study in written:
        session = sessions[(study.participant, study.study_uid)]
        by_session[(r.participant, session)].setdefault(r.series, r)
    folder_of = {}
    for (label, session), series in by_session.items():
        names = {s: (f"{r.series_number:03d}" if r.series_number is not None else "series")
                 + f"-{r.modality}" for s, r in series.items()}
        counts = Counter(names.values())
        for s, name in names.items():
            name = name if counts[name] == 1 else f"{name}-{s[:6]}"
            folder_of[s] = f"sub-{label}/ses-{session}/{name}"
    by_series: dict[str, list[FileResult]] = defaultdict(list)
    for r, _ in written:
        by_series[r.series].append(r)
    for series, members in by_series.items():
        counts = Counter(r.instance for r in members)
        for r in members:
            unique = r.instance is not None and counts[r.instance] == 1
            r.output = f"{folder_of[series]}/{f'{r.instance:05d}.dcm' if unique else r.name}"


def deidentify_folder(
    src: str | os.PathLike,
    dst: str | os.PathLike,
    key: Key,
    options: Options | None = None,
    *,
    jobs: int = 1,
    progress: bool = False,
    validate: bool = False,
) -> Report:
    """De-identify every DICOM file under ``src`` into ``dst``.

    Output paths are built from pseudonyms only:
    ``sub-<label>/ses-<n>/<series number>-<modality>/<instance number>.dcm``. Files that
    may show burned-in text (see :func:`leave_out_reason`) are left out; bad files (empty,
    truncated, not DICOM, with unreadable elements) are named in the report and the rest is
    still done. Files without a file meta header are accepted and written as valid DICOM
    Part 10 files. Files sharing a SOP Instance UID are never mixed (see the module's
    description). ``src`` is only read.

    Parameters
    ----------
    src : path
        A folder (searched recursively) or one file.
    dst : path
        The output folder; refused when it is ``src`` or inside it.
    key : mrishare.keys.Key
    options : Options, optional
    jobs : int, default 1
        Worker processes.
    progress : bool, default False
        Show a progress bar (on stderr).
    validate : bool, default False
        Check every output and its source with dciodvfy (:mod:`mrishare.dicom.validate`)
        and report, per file, the errors the de-identification added; when dciodvfy is not
        installed the report says so.

    Returns
    -------
    Report
        Save it with :meth:`Report.save` (and the mapping with :meth:`Report.save_mapping`)
        next to the originals, not in ``dst``.

    Raises
    ------
    SourceError
        When ``src`` does not exist.
    DestinationError
        When ``dst`` is ``src`` or inside it.
    """
    options = options or Options()
    src, dst = Path(src), Path(dst)
    if not src.exists():
        raise SourceError(f"The source {src} does not exist.")
    refuse_inside_source(src, dst)
    root = src if src.is_dir() else src.parent
    items = [(p, p.relative_to(root).as_posix(), f"{i:07d}.dcm")
             for i, p in enumerate(_list_files(src))]
    staging = dst / STAGING
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    quiet = logging.getLogger("pydicom")
    level = quiet.level
    try:
        results = list(_run(items, staging, key, options, jobs, progress))
    finally:
        quiet.setLevel(level)
    _separate_duplicates(results, root, staging, key)
    _final_paths(results)
    output_of = {}
    folders: set[Path] = set()
    for r in results:
        if r.status != "written":
            continue
        target = dst / r.output
        if target.parent not in folders:
            target.parent.mkdir(parents=True, exist_ok=True)
            folders.add(target.parent)
        os.replace(staging / r.staged, target)
        output_of[r.source] = r.output
    with contextlib.suppress(OSError):
        shutil.rmtree(staging)
    report = _report(results, output_of, key, options)
    if validate:
        _validate(report, root, dst, jobs)
    return report


def _validate(report: Report, root: Path, dst: Path, jobs: int) -> None:
    """Run dciodvfy on every output and its source; note the errors that were added."""
    tool = validator.available()
    if tool is None:
        report.validation = validator.NOT_INSTALLED
        return
    written = [f for f in report.files if f.fate == "written"]

    def check(fate: FileFate) -> list[str]:
        return validator.check_pair(root / fate.source, dst / fate.output, tool)

    with ThreadPoolExecutor(max(1, jobs)) as pool:
        for fate, added in zip(written, pool.map(check, written), strict=True):
            fate.added_errors = added
    bad = len(report.made_invalid)
    report.validation = (f"dciodvfy checked {len(written)} outputs against their sources: "
                         f"{bad} with errors the de-identification added")


def _report(results: list[FileResult], output_of: dict[str, str], key: Key,
            options: Options) -> Report:
    report = Report(
        profile=load_profile(options.edition).describe(),
        options=options.chosen(),
        key="given (the same key gives the same pseudonyms)" if key.reproducible else
        "random (no key file): these pseudonyms cannot be made again",
    )
    series: dict[str, WrittenSeries] = {}
    for r in results:
        fate = FileFate(r.source, r.status, r.output, r.reason, r.notes)
        if r.status == "written":
            folder = r.output.rsplit("/", 1)[0]
            row = series.setdefault(folder, WrittenSeries(
                participant=f"sub-{r.participant}", session=int(folder.split("/")[1][4:]),
                series=folder.rsplit("/", 1)[1], modality=r.modality, path=folder))
            row.files += 1
        elif r.status == "copy":
            fate.output = output_of[r.reason]
            fate.reason = (f"a copy of {r.reason} (same SOP Instance UID, same content): "
                           "written once")
            report.left_out.append(SkippedFile(r.source, fate.reason))
        elif r.status == "left out":
            report.left_out.append(SkippedFile(r.source, r.reason))
        else:
            report.failed.append(SkippedFile(r.source, r.reason))
        report.files.append(fate)
    report.series = sorted(series.values(), key=lambda s: s.path)
    return report
