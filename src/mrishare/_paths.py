"""Where and how outputs are written.

Never into the source, whose folder names can carry identities; and never half-written:
every file appears under its name only once it is complete.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

__all__ = ["DestinationError", "atomic_write", "inside", "refuse_inside_source"]


class DestinationError(ValueError):
    """A destination that would write into the source or mix with other files."""


def inside(path: str | Path, folder: str | Path) -> bool:
    """True when ``path`` is ``folder`` or lies inside it (after resolving links).

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
