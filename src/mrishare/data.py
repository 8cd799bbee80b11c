"""The sample data shipped with mrishare.

Every sample is a row of ``data_samples/MANIFEST.tsv`` (name, relative path, licence,
source, one-line description) and every file of a sample has its sha256 in
``data_samples/CHECKSUMS.tsv``. Both tables are written by ``tools/make_samples.py``;
``data_samples/PROVENANCE.md`` tells the same in prose.

Two more samples are real vendor headers that ship inside installed packages (pydicom's
``MR_small.dcm`` and nibabel's Siemens mosaic); they are looked up where those packages
keep them rather than copied.

Examples
--------
>>> from mrishare import data
>>> "participant_T1w" in data.list_samples()["name"].tolist()
True
>>> img = data.load_sample("participant_T1w")
>>> img.ndim
3
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mrishare.errors import ChecksumError, SampleNotFoundError

if TYPE_CHECKING:  # pandas is imported only where a table is made: finding a sample is cheap
    import pandas as pd

__all__ = [
    "OPEN_DATASETS",
    "ChecksumError",
    "Sample",
    "SampleNotFoundError",
    "data_dir",
    "fetch_open_dataset",
    "list_samples",
    "load_sample",
    "sample_path",
    "sha256",
    "verify_sample",
]


@dataclass(frozen=True)
class Sample:
    """One sample: a file or a folder of files.

    Parameters
    ----------
    name : str
        Short name used in code, e.g. ``"participant_T1w"``.
    path : str
        Path relative to the data folder, or ``"pkg:<package>:<relative path>"`` for a
        file that ships inside an installed package.
    kind : str
        ``"nifti"``, ``"dicom"`` (one file), ``"dicom-folder"`` or ``"table"``.
    licence : str
        Licence of the data.
    source : str
        Where the data come from.
    description : str
        One line for readers.
    """

    name: str
    path: str
    kind: str
    licence: str
    source: str
    description: str


def data_dir() -> Path:
    """Return the folder that holds the shipped samples.

    An installed wheel carries them as ``mrishare/_samples``; a source checkout (or an
    editable install) has them in ``data_samples/`` at the top of the repository.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> (data_dir() / "MANIFEST.tsv").is_file()
    True
    """
    here = Path(__file__).resolve().parent
    for candidate in (here / "_samples", here.parents[1] / "data_samples"):
        if (candidate / "MANIFEST.tsv").is_file():
            return candidate
    raise SampleNotFoundError(
        "The mrishare sample data were not found next to the package. Install mrishare "
        "from its repository (pip install 'mrishare @ git+<repository address>') or run "
        "from a clone of the repository."
    )


def _read_tsv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def _manifest() -> dict[str, Sample]:
    rows = _read_tsv(data_dir() / "MANIFEST.tsv")
    return {row["name"]: Sample(**row) for row in rows}


def _checksums() -> dict[str, str]:
    return {row["path"]: row["sha256"] for row in _read_tsv(data_dir() / "CHECKSUMS.tsv")}


def list_samples() -> pd.DataFrame:
    """List the samples with their kind, licence and a one-line description.

    Returns
    -------
    pandas.DataFrame
        One row per sample.

    Examples
    --------
    >>> table = list_samples()
    >>> {"name", "kind", "licence", "description"} <= set(table.columns)
    True
    """
    import pandas as pd

    rows = [vars(s) for s in _manifest().values()]
    return pd.DataFrame(rows, columns=["name", "kind", "description", "licence", "source", "path"])


def _get(name: str) -> Sample:
    samples = _manifest()
    if name not in samples:
        known = ", ".join(sorted(samples))
        raise SampleNotFoundError(f"No sample called {name!r}. Known samples: {known}.")
    return samples[name]


def _resolve(sample: Sample) -> Path:
    if sample.path.startswith("pkg:"):
        _, package, relative = sample.path.split(":", 2)
        module = __import__(package)
        path = Path(module.__file__).resolve().parent / relative
    else:
        path = data_dir() / sample.path
    if not path.exists():
        raise SampleNotFoundError(
            f"Sample {sample.name!r} should be at {path}, but nothing is there. "
            "Reinstall mrishare, or run tools/make_samples.py in a clone of the repository."
        )
    return path


def _files(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]


def sha256(path: str | Path) -> str:
    """Return the sha256 of a file's bytes as hex.

    Examples
    --------
    >>> len(sha256(data_dir() / "MANIFEST.tsv"))
    64
    """
    digest = hashlib.sha256()
    with Path(path).open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_sample(name: str) -> Path:
    """Check every file of a sample against its shipped sha256.

    Parameters
    ----------
    name : str
        A sample name from :func:`list_samples`.

    Returns
    -------
    pathlib.Path
        The sample's path, once every file matched.

    Raises
    ------
    ChecksumError
        When a file's bytes differ from the shipped checksum, or a file is missing.

    Examples
    --------
    >>> verify_sample("template_head").name
    'template_head.nii.gz'
    """
    sample = _get(name)
    path = _resolve(sample)
    sums = _checksums()
    root = data_dir()
    if sample.path.startswith("pkg:"):
        expected = {sample.path: sums.get(sample.path)}
        actual = {sample.path: path}
    else:
        prefix = sample.path.rstrip("/")
        expected = {p: s for p, s in sums.items() if p == prefix or p.startswith(prefix + "/")}
        actual = {f.relative_to(root).as_posix(): f for f in _files(path)}
    for rel, digest in expected.items():
        if rel not in actual:
            raise ChecksumError(f"Sample {name!r}: file {rel} is missing. Reinstall mrishare.")
        got = sha256(actual[rel])
        if digest is not None and got != digest:
            raise ChecksumError(
                f"Sample {name!r}: {actual[rel]} has sha256 {got[:12]}..., expected "
                f"{digest[:12]}.... The file was changed or damaged; restore it with "
                "'git checkout data_samples' or reinstall mrishare."
            )
    extra = sorted(set(actual) - set(expected))
    if extra:
        raise ChecksumError(f"Sample {name!r}: files not shipped with mrishare: {extra[:3]}")
    return path


def sample_path(name: str, verify: bool = True) -> Path:
    """Return the path of a sample, checking its checksum first.

    Parameters
    ----------
    name : str
        A sample name from :func:`list_samples`.
    verify : bool, default True
        Check the sha256 of every file (a folder of DICOM files takes a moment).

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> sample_path("participant_T1w").suffixes
    ['.nii', '.gz']
    """
    return verify_sample(name) if verify else _resolve(_get(name))


def _load_nifti(path: Path) -> Any:
    from mrishare import readers  # the one NIfTI loader, with its checks and messages

    return readers.load_nifti(path)


def _load_dicom(path: Path) -> Any:
    from mrishare import readers  # the one DICOM reader

    return readers.read_dicom(path)


def _load_folder(path: Path) -> Path:
    return path


def _load_table(path: Path) -> Any:
    import pandas as pd

    return pd.read_csv(path)


_LOADERS: dict[str, Callable[[Path], Any]] = {
    "nifti": _load_nifti,
    "dicom": _load_dicom,
    "dicom-folder": _load_folder,
    "table": _load_table,
}


def load_sample(name: str, verify: bool = True) -> Any:
    """Load a sample: a nibabel image, a pydicom dataset, or a folder path.

    Parameters
    ----------
    name : str
        A sample name from :func:`list_samples`.
    verify : bool, default True
        Check the checksum first.

    Returns
    -------
    nibabel.Nifti1Image or pydicom.Dataset or pathlib.Path or pandas.DataFrame
        Depends on the sample's kind.

    Examples
    --------
    >>> load_sample("pydicom_MR_small").Modality
    'MR'
    """
    sample = _get(name)
    return _LOADERS[sample.kind](sample_path(name, verify=verify))


# Optional downloads for readers with internet: bigger, real open data.
# Never used by the book build or the tests. The checksum is pinned: a changed file is refused.
OPEN_DATASETS: dict[str, dict[str, str]] = {
    "stanford_t1": {
        "url": "https://stacks.stanford.edu/file/druid:yx282xq2090/t1.nii.gz",
        "hash": "md5:a6a140da6a947d4131b2368752951b0a",
        "description": "A real volunteer's T1-weighted scan from the Stanford HARDI data "
        "(Rokem et al. 2015, PLoS ONE 10:e0123272), about 10 MB",
        "licence": "as stated on its Stanford Digital Repository page; read it before reuse",
    },
}


def fetch_open_dataset(name: str, cache: str | Path | None = None) -> Path:
    """Download a bigger real open dataset (needs internet; optional).

    Parameters
    ----------
    name : str
        A key of :data:`OPEN_DATASETS`.
    cache : str or Path, optional
        Where to keep the download (pooch's cache folder by default).

    Returns
    -------
    pathlib.Path
        The downloaded file, its checksum verified.

    Raises
    ------
    ConnectionError
        When there is no internet: the book and the tests never need this.

    Examples
    --------
    >>> path = fetch_open_dataset("stanford_t1")  # doctest: +SKIP
    """
    import pooch

    if name not in OPEN_DATASETS:
        raise SampleNotFoundError(
            f"No open dataset called {name!r}. Known: {', '.join(sorted(OPEN_DATASETS))}."
        )
    entry = OPEN_DATASETS[name]
    try:
        return Path(
            pooch.retrieve(
                url=entry["url"],
                known_hash=entry["hash"],
                path=cache or pooch.os_cache("mrishare"),
                progressbar=False,
            )
        )
    except Exception as error:  # pooch raises requests' errors, which we do not import
        if "Connection" in type(error).__name__ or "resolve" in str(error).lower():
            raise ConnectionError(
                f"Downloading {name!r} needs internet, and none was reached. The book and "
                "the shipped samples work offline; this download is optional."
            ) from error
        raise
