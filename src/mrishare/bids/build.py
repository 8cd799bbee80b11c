"""From a DICOM study to a BIDS dataset: :func:`to_bids`, the step that ties the others.

Series are found (:mod:`~mrishare.bids.series`), mapped (:mod:`~mrishare.bids.mapping`),
converted (:mod:`~mrishare.bids.convert`), each image dcm2niix writes named
(:mod:`~mrishare.bids.outputs`: echoes, magnitude and phase, field maps), scrubbed
(:func:`mrishare.nifti.scrub_nifti`, :mod:`~mrishare.bids.sidecars`), its sidecar completed
from its session (:mod:`~mrishare.bids.session`: TaskName, SliceTiming, EchoTime1/2,
IntendedFor) and named from the key; the dataset files come from
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
from mrishare import readers
from mrishare._paths import check_destination, check_source, write_json
from mrishare.bids import convert, dataset, listing, mapping, outputs, schema, session, sidecars
from mrishare.bids.series import Problem, Series, find_series
from mrishare.bids.session import WrittenImage
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
    images : list of WrittenImage
        The same images with their datatype, suffix, entities and sidecar: ``prepare``
        defaces the ``anat`` ones and scrubs the others.
    series : list of SeriesRow
        Every series of the source with the rule it took (see
        :func:`mrishare.bids.listing.list_series`); :attr:`unmapped` those no rule took.
    skipped : list of Problem
        Series or files not converted on purpose (not MR images, derived maps, unknown
        series...).
    failed : list of Problem
        Series that could not be converted or scrubbed: exit status 3 on the command line.
    dropped_fields : dict
        Sidecar field name -> how many sidecars it was removed from.
    reproducible : bool
        False when a random key was used: the pseudonyms cannot be made again.
    """

    dataset: Path
    written: list[str] = field(default_factory=list)
    images: list[WrittenImage] = field(default_factory=list)
    series: list[listing.SeriesRow] = field(default_factory=list)
    skipped: list[Problem] = field(default_factory=list)
    failed: list[Problem] = field(default_factory=list)
    dropped_fields: dict[str, int] = field(default_factory=dict)
    reproducible: bool = True

    @property
    def unmapped(self) -> list[listing.SeriesRow]:
        """Return the series no description of the mapping took (not converted)."""
        return [row for row in self.series if row.unmapped]


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


@dataclass(frozen=True)
class _Stem:
    """Where a series' images go: session folder parts, datatype, entities (with run)."""

    parts: tuple[str, ...]
    datatype: str
    entities: tuple[tuple[str, str], ...]

    def path(self, output: outputs.Output) -> Path:
        order = schema.entity_order()
        pairs = sorted({**dict(self.entities), **dict(output.entities)}.items(),
                       key=lambda p: order.index(p[0]))
        labels = [f"{k}-{v}" for k, v in pairs]
        return Path(*self.parts, self.datatype,
                    "_".join([*self.parts, *labels, output.suffix]) + ".nii.gz")


def _stems(wanted: Sequence[_Wanted], key: Key, sessions: bool | None = None) -> list[_Stem]:
    """Return where each series to convert goes, in the order given (run-<n> on repeats)."""
    numbers = _dicom.number_sessions(item.series.study for item in wanted)
    several = max(numbers.values(), default=1) > 1
    if sessions is False and several:
        raise ValueError("sessions=False, but a participant has more than one session: "
                         "give sessions=True (or None to decide from the series).")
    use_sessions = several if sessions is None else sessions
    keys = []
    for item in wanted:
        record = item.series.study
        parts = [f"sub-{key.label(record.participant)}"]
        if use_sessions:
            parts.append(f"ses-{numbers[(record.participant, record.study_uid)]}")
        keys.append((tuple(parts), item.found.datatype, item.found.entities,
                     item.found.suffix))
    counts: dict[tuple, int] = defaultdict(int)
    for stem in keys:
        counts[stem] += 1
    seen: dict[tuple, int] = defaultdict(int)
    stems = []
    for stem in keys:
        parts, datatype, entities, _suffix = stem
        seen[stem] += 1
        run = (("run", str(seen[stem])),) if counts[stem] > 1 else ()
        stems.append(_Stem(parts, datatype, tuple(entities) + run))
    return stems


def _convert_problem(series: Series, converted: convert.Conversion) -> Problem:
    detail = f" (dcm2niix said: {converted.message})" if converted.message else ""
    return Problem(series.folder, f"dcm2niix could not convert this series{detail}. "
                   "Check that its files are complete MR images; the other series "
                   "were converted.")


def _write_series(item: _Wanted, converted: convert.Conversion, stem: _Stem, build: Path
                  ) -> tuple[list[WrittenImage] | Problem, list[str]]:
    """Scrub one converted series into the dataset (one job of the thread pool).

    Returns its images (or a Problem) and the sidecar fields dropped.
    """
    dropped: list[str] = []
    return _write_images(item, converted, stem, build, dropped), dropped


def _write_images(item: _Wanted, converted: convert.Conversion, stem: _Stem, build: Path,
                  dropped_fields: list[str]) -> list[WrittenImage] | Problem:
    """Scrub one converted series into the dataset; return its images or a Problem."""
    series = item.series
    if not converted.images:
        return _convert_problem(series, converted)
    try:
        named = outputs.name_outputs(converted.images, item.found.datatype, item.found.suffix)
    except BadInputError as error:
        return Problem(series.folder, f"{error}; the other series were converted.")
    written: list[WrittenImage] = []

    def undo(problem: Problem) -> Problem:  # leave nothing of a series that failed
        for done in written:
            (build / done.path).unlink(missing_ok=True)
        for path in (build / stem.path(o) for o in named):
            for ext in (".nii.gz", ".bval", ".bvec"):
                path.with_name(path.name.replace(".nii.gz", ext)).unlink(missing_ok=True)
        return problem

    for output in named:
        relative = stem.path(output)
        image, target = output.image, build / relative
        try:
            # Scrubbed uncompressed beside dcm2niix's file, then compressed.
            plain = image.with_name(f"{image.name.split('.')[0]}_scrubbed.nii")
            _nifti.scrub_nifti(image, plain)
            target.parent.mkdir(parents=True, exist_ok=True)
            readers.write_gzip(target, plain.read_bytes())
        except BadInputError as error:  # a damaged image, or a DICOM header in an extension
            return undo(Problem(series.folder,
                                f"{error}".replace(str(image), "the converted image")))
        base = image.name.split(".")[0]
        if stem.datatype == "dwi" and output.suffix == "dwi":
            gradients = [image.with_name(f"{base}{ext}") for ext in (".bval", ".bvec")]
            if not all(p.is_file() for p in gradients):
                return undo(Problem(series.folder, "dcm2niix wrote no .bval/.bvec for this "
                                    "diffusion series (the headers hold no b-values or "
                                    "gradient directions); BIDS requires them"))
            for path in gradients:
                shutil.copyfile(path, target.with_name(target.name.replace(
                    ".nii.gz", path.suffix)))
        sidecar_path = image.with_name(base + ".json")
        sidecar = json.loads(sidecar_path.read_text()) if sidecar_path.is_file() else {}
        kept, dropped = sidecars.scrub_sidecar(sidecar, series.identifiers())
        dropped_fields += dropped
        if stem.datatype == "func" and output.suffix == "bold" and "SliceTiming" not in kept:
            timing = _slice_timing(series, target, kept.get("RepetitionTime"))
            if timing:
                kept["SliceTiming"] = timing
        written.append(WrittenImage(relative.as_posix(), stem.datatype, output.suffix,
                                    tuple((k, v) for k, v in stem.entities)
                                    + output.entities, kept, series.folder))
    return written


def _slice_timing(series: Series, target: Path, repetition: object) -> list[float] | None:
    """Return SliceTiming from the DICOM headers (when dcm2niix wrote none), or None."""
    if not isinstance(repetition, int | float):
        return None
    import nibabel as nib

    try:
        affine = nib.Nifti1Image.from_filename(target).affine
        if affine is None:
            return None
        return session.slice_timing(series.files, affine, float(repetition))
    except (BadInputError, ValueError, TypeError):
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
        (:func:`~mrishare.bids.mapping.default_mapping`); a user's file on top of it:
        :func:`~mrishare.bids.load_config`.

    Returns
    -------
    BidsReport
        What was written (``images``: with datatype and suffix), the rule each series
        took, what was skipped, not mapped and failed; failures do not stop the others.

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
    >>> sorted({image.datatype for image in report.images})
    ['anat', 'dwi', 'fmap', 'func']
    >>> len(report.unmapped), len(report.failed)
    (1, 0)
    """
    src, dst = check_source(src), Path(dst)
    check_destination(src, dst)
    all_series, skipped = find_series(src, jobs)
    report = BidsReport(dst, skipped=skipped, reproducible=key.reproducible)
    wanted = []
    for series in sorted(all_series, key=_order):
        found = mapping.classify(series.info, series_mapping)
        report.series.append(listing.describe(series, found))
        if found.converted:
            wanted.append(_Wanted(series, found))
        else:
            why = found.reason if found.outcome == "skip" else f"not mapped: {found.reason}"
            report.skipped.append(Problem(series.folder, why))
    stems = _stems(wanted, key, sessions)

    dst.parent.mkdir(parents=True, exist_ok=True)
    build = Path(tempfile.mkdtemp(prefix=".mrishare-", dir=dst.parent))
    work = Path(tempfile.mkdtemp(prefix="mrishare-convert-"))
    try:
        conversions = convert.convert_study([(w.series.uid, w.series.files) for w in wanted],
                                            work, jobs)
        # zlib releases the GIL: threads scrub and compress series side by side.
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            results = list(pool.map(_write_series, wanted, conversions, stems,
                                    [build] * len(wanted)))
        by_session: dict[str, list[WrittenImage]] = defaultdict(list)
        scans: dict[Path, list[dict[str, str]]] = defaultdict(list)
        participants: dict[str, dict[str, str]] = {}
        for item, (done, dropped) in zip(wanted, results, strict=True):
            series = item.series
            for field_name in dropped:
                report.dropped_fields[field_name] = report.dropped_fields.get(field_name, 0) + 1
            if isinstance(done, Problem):
                report.failed.append(done)
                continue
            for image in done:
                by_session[image.session_folder].append(image)
                folder = Path(image.path).parents[1]  # sub-x or sub-x/ses-n
                scans[folder].append({
                    "filename": Path(image.path).relative_to(folder).as_posix(),
                    "acq_time": dataset.shift_datetime(key, series.participant, *series.first),
                })
            label = key.label(series.participant)
            if label not in participants:
                values = {"age": dataset.participant_age(series.info)}
                if include_sex:
                    values["sex"] = dataset.participant_sex(series.info)
                participants[label] = values
        for images in by_session.values():
            for image, problem in session.complete_session(images):
                report.failed.append(Problem(image.source, problem))
            for image in images:
                image.sidecar["DeidentificationMethod"] = sidecars.deidentification_method()
                write_json(build / image.path.replace(".nii.gz", ".json"), image.sidecar)
                report.images.append(image)
                report.written.append(image.path)
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
