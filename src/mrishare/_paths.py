"""Where and how outputs are written.

Never into the source, whose folder names can carry identities; and never half-written:
every file appears under its name only once it is complete.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from isal import igzip

from mrishare.errors import DestinationError, SourceError

__all__ = [
    "GZIP_LEVEL",
    "DestinationError",
    "atomic_write",
    "check_destination",
    "check_source",
    "inside",
    "refuse_inside_source",
    "write_gzip",
    "write_json",
    "write_text",
    "write_tsv",
]


def inside(path: str | Path, folder: str | Path) -> bool:
    """Say whether ``path`` is ``folder`` or lies inside it (after resolving links).

    Examples
    --------
    >>> inside("/data/study/out", "/data/study"), inside("/data/out", "/data/study")
    (True, False)
    """
    path, folder = Path(path).resolve(), Path(folder).resolve()
    return path == folder or folder in path.parents


def refuse_inside_source(src: str | Path, dst: str | Path) -> None:
    """Raise :class:`DestinationError` when ``dst`` is ``src`` or inside it."""
    if inside(dst, src):
        raise DestinationError(
            f"The destination {dst} is inside the source {src} (or is the source itself). "
            "The source is never written to: choose a destination outside it."
        )


@contextlib.contextmanager
def atomic_write(path: str | Path, mode: str = "wb") -> Iterator[IO[Any]]:
    """Open a temporary file next to ``path``; rename it to ``path`` only on success.

    A crash or an error leaves no half-written ``path`` behind (and removes the
    temporary file). Parent folders are created.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> with atomic_write(target, "w") as f:
    ...     _ = f.write("done")
    >>> target.read_text()
    'done'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=".part-", suffix=".tmp")
    try:
        encoding = None if "b" in mode else "utf-8"
        newline = None if "b" in mode else "\n"
        with os.fdopen(handle, mode, encoding=encoding, newline=newline) as f:
            yield f
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_text(path: str | Path, text: str) -> Path:
    r"""Write text atomically (see :func:`atomic_write`) and return the path.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> write_text(pathlib.Path(tempfile.mkdtemp()) / "README", "hello\n").read_text()
    'hello\n'
    """
    path = Path(path)
    with atomic_write(path, "w") as f:
        f.write(text)
    return path


def write_json(path: str | Path, content: Any) -> Path:
    r"""Write JSON atomically, indented by two spaces and ending in a newline.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> write_json(pathlib.Path(tempfile.mkdtemp()) / "a.json", {"a": 1}).read_text()
    '{\n  "a": 1\n}\n'
    """
    return write_text(path, json.dumps(content, indent=2) + "\n")


def write_tsv(path: str | Path, columns: Sequence[str], rows: Iterable[Mapping[str, Any]]
              ) -> Path:
    r"""Write a BIDS table atomically: a header line, then one line a row, ``n/a`` for gaps.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "participants.tsv"
    >>> write_tsv(out, ["participant_id", "age"], [{"participant_id": "sub-a"}]).read_text()
    'participant_id\tage\nsub-a\tn/a\n'
    """
    lines = ["\t".join(columns)]
    lines += ["\t".join(str(row.get(c, "n/a")) for c in columns) for row in rows]
    return write_text(path, "\n".join(lines) + "\n")


def check_source(src: str | Path) -> Path:
    """Return ``src`` as a Path, or raise :class:`SourceError` when it is not a folder.

    Examples
    --------
    >>> check_source("/no/such/folder")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    mrishare.errors.SourceError: The source /no/such/folder is not a folder. ...
    """
    src = Path(src)
    if not src.is_dir():
        raise SourceError(f"The source {src} is not a folder. Give the folder of the DICOM "
                          "study (it is only read).")
    return src


def check_destination(src: str | Path, dst: str | Path, *, reuse: str | None = None) -> Path:
    """Refuse a destination that would mix the output with the source or with other files.

    Parameters
    ----------
    src, dst : str or Path
        The source (read only) and the destination folder.
    reuse : str, optional
        A file name that marks a destination this command wrote before (e.g.
        ``"dataset_description.json"``): such a folder may be written again. Without it,
        the destination must be new or empty.

    Returns
    -------
    pathlib.Path
        ``dst``.

    Raises
    ------
    DestinationError
        When ``dst`` is or lies inside ``src``, holds ``src``, or holds other files.

    Examples
    --------
    >>> check_destination("/data/study", "/data/study/out")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    mrishare.errors.DestinationError: The destination /data/study/out is inside the source ...
    """
    dst = Path(dst)
    refuse_inside_source(src, dst)
    if inside(src, dst):
        raise DestinationError(f"The source {src} is inside the destination {dst}: the dataset "
                               "would hold the originals. Choose another destination.")
    if dst.exists() and (not dst.is_dir() or any(dst.iterdir())):
        if reuse is None or not (dst / reuse).exists():
            raise DestinationError(
                f"The destination {dst} exists and is not an empty folder. Choose a new "
                "folder (mrishare does not mix its output with other files)."
            )
    return dst


GZIP_LEVEL = 2
"""The compression level of every ``.gz`` mrishare writes (ISA-L's levels run from 0 to 3).

At level 2, ISA-L (the ``isal`` package) makes files about the size zlib's level 6 makes,
5 to 20 times faster than zlib at any level; any gzip reader reads them.
"""


def write_gzip(path: str | os.PathLike, payload: bytes | Iterable[bytes],
               level: int = GZIP_LEVEL) -> Path:
    r"""Write ``payload`` gzip-compressed, with no file name and modification time 0.

    The gzip header then says nothing about the original file or when it was made, and
    the same payload always gives the same bytes. Written atomically. ``payload`` may be
    bytes or an iterable of byte chunks (written one after the other, to save memory).

    Parameters
    ----------
    path : str or path-like
        The file to write.
    payload : bytes or iterable of bytes
        What to compress.
    level : int, default :data:`GZIP_LEVEL`
        ISA-L's compression level, 0 (fastest) to 3.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import gzip, tempfile, pathlib
    >>> path = write_gzip(pathlib.Path(tempfile.mkdtemp()) / "x.gz", b"abc")
    >>> raw = path.read_bytes()
    >>> gzip.decompress(raw), raw[3:8]  # flags (no file name) and mtime: zero
    (b'abc', b'\x00\x00\x00\x00\x00')
    """
    path = Path(path)
    with atomic_write(path) as f:
        with igzip.GzipFile(filename="", mode="wb", fileobj=f, mtime=0,
                            compresslevel=level) as gz:
            for chunk in [payload] if isinstance(payload, bytes) else payload:
                gz.write(chunk)
    return path
