"""The workshop plan (book/teaching.md) and the chapters' headers state the same reading times."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
PLAN_ROW = re.compile(r"^\| \{doc\}`(?:\.\./)?([\w/]+)` \| (\d+) minutes \|", re.MULTILINE)
HEADER_TIME = re.compile(r"(?:\| Time \| |about )(\d+) minutes")


def _plan() -> dict[str, int]:
    text = (ROOT / "book" / "teaching.md").read_text(encoding="utf-8")
    return {name: int(minutes) for name, minutes in PLAN_ROW.findall(text)}


def _header(name: str) -> str:
    if name.startswith("notebooks/"):
        return nbformat.read(ROOT / f"{name}.ipynb", as_version=4).cells[0].source
    return (ROOT / "book" / f"{name}.md").read_text(encoding="utf-8").split("\n## ")[0]


def test_the_plan_lists_every_notebook():
    planned = set(_plan())
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        assert f"notebooks/{path.stem}" in planned, path.name


@pytest.mark.parametrize("name", sorted(_plan()))
def test_header_time_equals_the_plans(name):
    found = HEADER_TIME.search(_header(name))
    assert found, f"{name}: its header states no reading time"
    assert int(found.group(1)) == _plan()[name], f"{name}: header and teaching plan disagree"
