"""Running dcm2niix: find the program, convert a study's series, say what it could not do.

:func:`convert_study` converts many series with one dcm2niix process per job (starting
dcm2niix once per series costs more than the conversion of a small series);
:func:`convert_series` converts one series alone, and is what a series the study's run
left without an image is given again, so that dcm2niix's reason is its own.

Examples
--------
>>> from pathlib import Path
>>> from mrishare.bids import convert
>>> Path(convert.dcm2niix_path()).name
'dcm2niix'
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Conversion", "convert_series", "convert_study", "dcm2niix_path", "dcm2niix_version",
           "run_dcm2niix"]

_REASONS = ("Error", "Warning: Unable to", "Unsupported", "No valid DICOM")
"""How the lines of dcm2niix's output that say why it converted nothing begin."""

_OPTIONS = ("-b", "y", "-ba", "y", "-z", "n", "-v", "0")
"""Uncompressed NIfTI with an anonymised BIDS sidecar: mrishare scrubs, then compresses."""


@dataclass
class Conversion:
    """What dcm2niix made of one series.

    Attributes
    ----------
    images : list of Path
        The NIfTI files written (each with a ``.json`` sidecar beside it).
    message : str
        dcm2niix's errors and warnings about what it could not convert ("" when none).
    """

    images: list[Path] = field(default_factory=list)
    message: str = ""


def dcm2niix_path() -> str:
    """Return the dcm2niix program: the one of the ``dcm2niix`` wheel, else on the PATH.

    Returns
    -------
    str

    Raises
    ------
    FileNotFoundError
        When dcm2niix is not installed, with the command that installs it.

    Examples
    --------
    >>> Path(dcm2niix_path()).name
    'dcm2niix'
    """
    try:
        import dcm2niix

        if Path(dcm2niix.bin).is_file():
            return str(dcm2niix.bin)
    except ImportError:
        pass
    found = shutil.which("dcm2niix")
    if found is None:
        raise FileNotFoundError("dcm2niix was not found. Install it with "
                                "'pip install dcm2niix' (the mrishare requirements do).")
    return found


def run_dcm2niix(src: str | Path, out: str | Path, *args: str) -> subprocess.CompletedProcess:
    """Run dcm2niix on a folder with its default options plus ``args``.

    Parameters
    ----------
    src : str or Path
        A folder of DICOM files.
    out : str or Path
        The output folder (created).
    *args : str
        More options, e.g. ``"-z", "n"``.

    Returns
    -------
    subprocess.CompletedProcess
        With ``stdout`` and ``stderr`` as text.

    Examples
    --------
    >>> import tempfile
    >>> from mrishare import data
    >>> out = Path(tempfile.mkdtemp())
    >>> series = sorted(data.sample_path("dicom_study").glob("DEBOER*/*/003_*"))[0]
    >>> _ = run_dcm2niix(series, out, "-z", "n", "-f", "t1")
    >>> sorted(p.name for p in out.iterdir())
    ['t1.json', 't1.nii']
    """
    Path(out).mkdir(parents=True, exist_ok=True)
    command = [dcm2niix_path(), *args, "-o", str(out), str(src)]
    return subprocess.run(command, capture_output=True, text=True, check=False)


@functools.cache
def dcm2niix_version() -> str:
    """Return dcm2niix's version, e.g. ``"v1.0.20240202"`` (``"unknown"`` if it does not say).

    Returns
    -------
    str

    Examples
    --------
    >>> dcm2niix_version().startswith("v1.")
    True
    """
    result = subprocess.run([dcm2niix_path(), "--version"], capture_output=True, text=True,
                            check=False)
    found = re.search(r"v\d+\.\d+\.\d+", result.stdout + result.stderr)
    return found.group(0) if found else "unknown"


def convert_series(files: Sequence[Path], work: Path) -> Conversion:
    """Convert one series: link its files into ``work/in`` and convert into ``work/out``.

    The output is uncompressed NIfTI with a BIDS sidecar, named ``image*``; the files
    are linked, never copied or changed.

    Parameters
    ----------
    files : sequence of Path
        The series' DICOM files.
    work : Path
        A new folder for this series.

    Returns
    -------
    Conversion

    Examples
    --------
    >>> import tempfile
    >>> from mrishare import data
    >>> folder = sorted(data.sample_path("dicom_study").glob("DEBOER*/*/003_*"))[0]
    >>> done = convert_series(sorted(folder.iterdir()), Path(tempfile.mkdtemp()) / "s")
    >>> [p.name for p in done.images]
    ['image.nii']
    """
    inputs = work / "in"
    _link(files, inputs)
    result = run_dcm2niix(inputs, work / "out", *_OPTIONS, "-f", "image")
    images = sorted((work / "out").glob("*.nii*"))
    lines = [line for line in (result.stdout + result.stderr).splitlines()
             if line.startswith(_REASONS)]
    return Conversion(images, "; ".join(lines)[:300])


def _link(files: Sequence[Path], where: Path) -> None:
    """Make ``where`` a folder dcm2niix reads ``files`` from; nothing is copied or changed.

    When the files are exactly the contents of one folder (the usual export: a folder per
    series), ``where`` is a link to that folder; otherwise a new folder of links, one per
    file (a link costs a write to the disk, and some disks are slow at them).
    """
    parents = {path.parent for path in files}
    if len(parents) == 1:
        folder = parents.pop()
        with os.scandir(folder) as entries:
            inside = {entry.name for entry in entries}
        if inside == {path.name for path in files} and len(inside) == len(files):
            where.parent.mkdir(parents=True, exist_ok=True)
            where.symlink_to(folder.resolve(), target_is_directory=True)
            return
    where.mkdir(parents=True)
    for number, path in enumerate(files):
        (where / f"{number:05d}.dcm").symlink_to(path.resolve())


def _groups(sizes: Sequence[int], jobs: int) -> list[list[int]]:
    """Split series (by their file counts) into at most ``jobs`` groups of similar size."""
    groups: list[list[int]] = [[] for _ in range(max(1, min(jobs, len(sizes))))]
    totals = [0] * len(groups)
    for index in sorted(range(len(sizes)), key=lambda i: -sizes[i]):
        smallest = totals.index(min(totals))
        groups[smallest].append(index)
        totals[smallest] += sizes[index]
    return [sorted(g) for g in groups if g]


def _convert_group(series: Sequence[tuple[str, Sequence[Path]]], indices: list[int],
                   work: Path) -> dict[int, Conversion]:
    """Convert the series ``indices`` in one dcm2niix run (files named by Series UID).

    Each output is moved to ``work/<index>/out`` under the name :func:`convert_series`
    gives (``image`` plus dcm2niix's postfix, such as ``_e2_ph``), so what follows cannot
    tell the two apart. Series left without an image are not in the result.
    """
    inputs, out = work / f"in-{indices[0]:04d}", work / f"out-{indices[0]:04d}"
    for index in indices:
        _link(series[index][1], inputs / f"{index:04d}")
    result = run_dcm2niix(inputs, out, *_OPTIONS, "-f", "%j")
    if result.returncode < 0:  # killed: what it wrote may be incomplete
        return {}
    by_uid = {series[i][0]: i for i in indices}
    moved: dict[int, list[Path]] = {}
    for path in sorted(out.iterdir()):
        stem = path.name.split(".nii")[0] if ".nii" in path.name else path.stem
        uid = max((u for u in by_uid if stem.startswith(u)), key=len, default=None)
        if uid is None:  # not named after a series given: not trusted, nor used
            continue
        target = work / f"{by_uid[uid]:04d}" / "out" / path.name.replace(uid, "image", 1)
        target.parent.mkdir(parents=True, exist_ok=True)
        path.rename(target)
        if ".nii" in target.name:
            moved.setdefault(by_uid[uid], []).append(target)
    return {index: Conversion(sorted(images)) for index, images in moved.items()}


def convert_study(series: Sequence[tuple[str, Sequence[Path]]], work: Path, jobs: int = 1
                  ) -> list[Conversion]:
    """Convert many series: one dcm2niix run per job, a series alone only when it failed.

    The series are split into ``jobs`` groups of similar size, each converted by one
    dcm2niix process (the processes run side by side). A series that its group's run left
    without an image is converted again alone (:func:`convert_series`), so its
    :attr:`Conversion.message` is dcm2niix's own reason for that series.

    Parameters
    ----------
    series : sequence of (str, sequence of Path)
        Each series' Series Instance UID and DICOM files.
    work : Path
        A new folder; series ``i`` is written to ``work/<i>/out`` (4 digits).
    jobs : int, default 1
        dcm2niix processes at the same time.

    Returns
    -------
    list of Conversion
        One per series, in the order given; the images are named as by
        :func:`convert_series`.

    Examples
    --------
    >>> import tempfile
    >>> from mrishare import bids, data
    >>> found = sorted(bids.find_series(data.sample_path("dicom_study"))[0],
    ...                key=lambda s: s.folder)[:3]
    >>> done = convert_study([(s.uid, s.files) for s in found], Path(tempfile.mkdtemp()))
    >>> [len(c.images) for c in done]
    [1, 1, 1]
    """
    work.mkdir(parents=True, exist_ok=True)
    groups = _groups([len(files) for _, files in series], jobs)
    with ThreadPoolExecutor(max_workers=max(1, len(groups))) as pool:
        done: dict[int, Conversion] = {}
        for result in pool.map(lambda g: _convert_group(series, g, work), groups):
            done.update(result)
    return [done[i] if i in done else convert_series(files, work / f"{i:04d}-alone")
            for i, (_, files) in enumerate(series)]
