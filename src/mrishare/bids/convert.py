"""Running dcm2niix: find the program, convert one series, say what it could not do.

Examples
--------
>>> from pathlib import Path
>>> from mrishare.bids import convert
>>> Path(convert.dcm2niix_path()).name
'dcm2niix'
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Conversion", "convert_series", "dcm2niix_path", "dcm2niix_version", "run_dcm2niix"]


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
    inputs.mkdir(parents=True)
    for number, path in enumerate(files):
        (inputs / f"{number:05d}.dcm").symlink_to(path.resolve())
    result = run_dcm2niix(inputs, work / "out", "-b", "y", "-ba", "y", "-z", "n",
                          "-f", "image", "-v", "0")
    images = sorted((work / "out").glob("*.nii*"))
    lines = [line for line in (result.stdout + result.stderr).splitlines()
             if line.startswith(("Error", "Warning: Unable to", "Unsupported"))]
    return Conversion(images, "; ".join(lines)[:300])
