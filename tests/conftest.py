"""Shared test settings: where the repository and the built book are."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "_build" / "html"


@pytest.fixture(scope="session")
def built_book() -> Path:
    """The built book; fails (not skips) when it is missing, since `make test` builds it."""
    if not (BUILD / "index.html").is_file():
        pytest.fail(f"{BUILD} has no index.html: run `make book` first (make test does).")
    return BUILD
