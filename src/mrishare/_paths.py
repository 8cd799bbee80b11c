"""Where outputs may go: never into the source, whose folder names can carry identities."""

from __future__ import annotations

from pathlib import Path

__all__ = ["DestinationError", "inside", "refuse_inside_source"]


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
