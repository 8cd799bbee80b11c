"""From a DICOM study to a BIDS dataset: :func:`to_bids`, the step that ties the others.

Series are found (:mod:`~mrishare.bids.series`), mapped (:mod:`~mrishare.bids.mapping`),
converted (:mod:`~mrishare.bids.convert`), scrubbed (:func:`mrishare.nifti.scrub_nifti`,
:mod:`~mrishare.bids.sidecars`) and named from the key; the dataset files come from
:mod:`~mrishare.bids.dataset`. The dataset is built in a temporary folder next to the
destination and renamed into place when done.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from mrishare import dicom as _dicom
from mrishare import nifti as _nifti
from mrishare._paths import check_destination, check_source, write_json
from mrishare.bids import convert, dataset, mapping, schema, sidecars
from mrishare.bids.series import Problem, Series, find_series
from mrishare.errors import BadInputError
from mrishare.keys import Key

__all__ = ["BidsReport", "to_bids"]

log = logging.getLogger("mrishare")


@dataclass
class BidsReport:
    """What :func:`to_bids` did.

    Attributes
    ----------
    dataset : Path
        The BIDS dataset written.
    written : list of str
        Image files written, relative to ``dataset``.
    skipped : list of Problem
        Series or files not converted on purpose (not MR images, unknown series...).
    failed : list of Problem
        Series that could not be converted or scrubbed: exit status 3 on the command line.
    dropped_fields : dict
        Sidecar field name -> how many sidecars it was removed from.
    reproducible : bool
        False when a random key was used: the pseudonyms cannot be made again.
    """

    dataset: Path
    written: list[str] = field(default_factory=list)
    skipped: list[Problem] = field(default_factory=list)
    failed: list[Problem] = field(default_factory=list)
    dropped_fields: dict[str, int] = field(default_factory=dict)
    reproducible: bool = True


@dataclass(frozen=True)
class _Wanted:
    series: Series
    found: mapping.Classification


def _order(series: Series) -> tuple[tuple[str, str], float]:
    """Sort key: first acquisition (date, time), then series number."""
    try:
        number = float(series.info.get("SeriesNumber") or 0)
    except (TypeError, ValueError):
        number = 0.0
    return (series.first, number)


def _bids_names(wanted: Sequence[_Wanted], key: Key, sessions: bool | None = None
                ) -> list[Path]:
    """Return BIDS paths (relative) for the series to convert, in the order given."""
    numbers = _dicom.number_sessions(item.series.study for item in wanted)
    several = max(numbers.values(), default=1) > 1
    if sessions is False and several:
        raise ValueError("sessions=False, but a participant has more than one session: "
                         "give sessions=True (or None to decide from the series).")
    use_sessions = several if sessions is None else sessions
    stems = []
    for item in wanted:
        record = item.series.study
        parts = [f"sub-{key.label(record.participant)}"]
        if use_sessions:
            parts.append(f"ses-{numbers[(record.participant, record.study_uid)]}")
        stems.append((tuple(parts), item.found.datatype, item.found.entities,
                      item.found.suffix))
    counts: dict[tuple, int] = defaultdict(int)
    for stem in stems:
        counts[stem] += 1
    seen: dict[tuple, int] = defaultdict(int)
    order = schema.entity_order()
    names = []
    for stem in stems:
        parts, datatype, entities, suffix = stem
        seen[stem] += 1
        pairs = dict(entities)
        if counts[stem] > 1:
            pairs["run"] = str(seen[stem])
        labels = [f"{k}-{v}" for k, v in sorted(pairs.items(), key=lambda p: order.index(p[0]))]
        names.append(Path(*parts, datatype, "_".join([*parts, *labels, suffix]) + ".nii.gz"))
    return names


def _write_series(series: Series, converted: convert.Conversion, build: Path,
                  relative: Path, report: BidsReport) -> Problem | None:
    """Scrub one converted series into the dataset; return a Problem when it fails."""
    if not converted.images:
        detail = f" (dcm2niix said: {converted.message})" if converted.message else ""
        return Problem(series.folder, f"dcm2niix could not convert this series{detail}. "
                       "Check that its files are complete MR images; the other series "
                       "were converted.")
    if len(converted.images) > 1:
        return Problem(series.folder, f"dcm2niix split this series into "
                       f"{len(converted.images)} images (echoes, phases or mixed geometry); "
                       "mrishare converts single-image series only.")
    image = converted.images[0]
    target = build / relative
    try:
        _nifti.scrub_nifti(image, target)
    except BadInputError as error:  # a damaged image, or a DICOM header in an extension
        return Problem(series.folder, f"{error}".replace(str(image), "the converted image"))
    sidecar_path = image.parent / (image.name.split(".")[0] + ".json")
    sidecar = json.loads(sidecar_path.read_text()) if sidecar_path.is_file() else {}
    kept, dropped = sidecars.scrub_sidecar(sidecar, series.identifiers())
    for name in dropped:
        report.dropped_fields[name] = report.dropped_fields.get(name, 0) + 1
    kept["DeidentificationMethod"] = sidecars.deidentification_method()
    write_json(target.with_name(target.name.replace(".nii.gz", ".json")), kept)
    return None


def to_bids(src: str | Path, dst: str | Path, key: Key, *, include_sex: bool = False,
            license: str = "CC0", name: str = "De-identified MRI dataset",
            authors: Sequence[str] = (), jobs: int = 2,
            sessions: bool | None = None,
            series_mapping: mapping.SeriesMapping | None = None) -> BidsReport:
    """Convert a DICOM tree into a BIDS dataset with no identifiers.

    Parameters
    ----------
    src : str or Path
        The DICOM tree (read only).
    dst : str or Path
        A new or empty folder, not inside ``src``.
    key : mrishare.keys.Key
        The secret key of the study (the same as for the DICOM step).
    include_sex : bool, default False
        Write a ``sex`` column in ``participants.tsv``.
    license : str, default "CC0"
        The dataset's licence (``dataset_description.json``).
    name : str
        The dataset's name.
    authors : sequence of str
        The dataset's authors (``dataset_description.json``); the validator warns without.
    jobs : int, default 2
        Series converted at the same time.
    sessions : bool, optional
        Use ``ses-<n>`` folders (True) or not (False). Default: when any participant in
        ``src`` has more than one session (:func:`~mrishare.bids.uses_sessions`). A
        dataset converted in parts (one participant at a time) passes the choice made for
        the whole study, so that the layout is the same across the dataset.
    series_mapping : SeriesMapping, optional
        Which series become which files. Default: the shipped mapping
        (:func:`~mrishare.bids.mapping.default_mapping`).

    Returns
    -------
    BidsReport
        What was written, skipped and failed; failures do not stop the other series.

    Raises
    ------
    SourceError
        ``src`` is not a folder.
    DestinationError
        ``dst`` is inside ``src`` or is a folder that is not empty.

    Examples
    --------
    >>> from mrishare import data, keys
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "bids"
    >>> report = to_bids(data.sample_path("dicom_study"), out, keys.Key(bytes(32)))
    >>> len(report.written), len(report.skipped), len(report.failed)
    (6, 1, 0)
    """
    src, dst = check_source(src), Path(dst)
    check_destination(src, dst)
    all_series, skipped = find_series(src)
    report = BidsReport(dst, skipped=skipped, reproducible=key.reproducible)
    wanted = []
    for series in sorted(all_series, key=_order):
        found = mapping.classify(series.info, series_mapping)
        if found.converted:
            wanted.append(_Wanted(series, found))
        else:
            report.skipped.append(Problem(series.folder, found.reason))
    names = _bids_names(wanted, key, sessions)

    dst.parent.mkdir(parents=True, exist_ok=True)
    build = Path(tempfile.mkdtemp(prefix=".mrishare-", dir=dst.parent))
    work = Path(tempfile.mkdtemp(prefix="mrishare-convert-"))
    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            results = list(pool.map(
                lambda item: convert.convert_series(item[1].series.files, work / f"{item[0]:04d}"),
                enumerate(wanted)))
        scans: dict[Path, list[dict[str, str]]] = defaultdict(list)
        participants: dict[str, dict[str, str]] = {}
        for item, converted, relative in zip(wanted, results, names, strict=True):
            series = item.series
            problem = _write_series(series, converted, build, relative, report)
            if problem:
                report.failed.append(problem)
                continue
            report.written.append(relative.as_posix())
            folder = relative.parents[1]  # sub-x or sub-x/ses-n
            scans[folder].append({
                "filename": relative.relative_to(folder).as_posix(),
                "acq_time": dataset.shift_datetime(key, series.participant, *series.first),
            })
            label = key.label(series.participant)
            if label not in participants:
                values = {"age": dataset.participant_age(series.info)}
                if include_sex:
                    values["sex"] = dataset.participant_sex(series.info)
                participants[label] = values
        for folder, rows in scans.items():
            dataset.write_scans(build / folder / f"{'_'.join(folder.parts)}_scans.tsv", rows)
        dataset.write_dataset_files(build, participants, include_sex=include_sex,
                                    license=license, name=name, authors=authors,
                                    reproducible=key.reproducible)
        if dst.exists():
            dst.rmdir()  # empty, checked above
        os.replace(build, dst)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(build, ignore_errors=True)
    for problem in report.failed:
        log.debug("failed: %s", problem.message)  # no source path in logs
    return report
