"""Shared test settings: where the repository and the built book are.

Tests that read the built book (``_build/html``) are marked ``book`` and take the
``built_book`` fixture. Without a build they skip, saying to run ``make book``, so that
``make unit`` is a fast loop that never builds the book. ``make test`` builds the book first
and sets ``MRISHARE_REQUIRE_BOOK=1``: then a missing build fails instead of skipping, so the
book's tests can never pass by not running.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BOOK_ROOT = Path(os.environ.get("MRISHARE_BOOK_ROOT", ROOT)).resolve()
BUILD = BOOK_ROOT / "_build" / "html"
REQUIRE_BOOK = os.environ.get("MRISHARE_REQUIRE_BOOK", "") == "1"


def missing_book_message(build: Path = BUILD) -> str:
    """Say that the book is not built and how to build it."""
    return f"the book is not built: {build} has no index.html (run `make book`)"


@pytest.fixture(scope="session")
def built_book() -> Path:
    """Return the built book; skip without it, or fail when MRISHARE_REQUIRE_BOOK=1."""
    if not (BUILD / "index.html").is_file():
        if REQUIRE_BOOK:
            pytest.fail(missing_book_message() + "; MRISHARE_REQUIRE_BOOK=1 (make test) "
                        "needs the build", pytrace=False)
        pytest.skip(missing_book_message())
    return BUILD
