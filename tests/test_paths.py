"""Tests of mrishare._paths: destinations outside the source, files never half-written."""

from __future__ import annotations

import pytest

from mrishare._paths import DestinationError, atomic_write, inside, refuse_inside_source


def test_atomic_write_leaves_nothing_when_writing_fails(tmp_path):
    target = tmp_path / "sub" / "file.bin"
    with pytest.raises(RuntimeError), atomic_write(target) as f:
        f.write(b"half")
        raise RuntimeError("disk full")
    assert list((tmp_path / "sub").iterdir()) == []


def test_atomic_write_replaces_only_when_complete(tmp_path):
    target = tmp_path / "report.txt"
    target.write_text("old")
    with atomic_write(target, "w") as f:
        f.write("new")
        assert target.read_text() == "old"
    assert target.read_text() == "new"


@pytest.mark.parametrize(("dst", "expected"), [("src", True), ("src/out", True),
                                                ("out", False), ("src-out", False)])
def test_inside(tmp_path, dst, expected):
    (tmp_path / "src").mkdir()
    assert inside(tmp_path / dst, tmp_path / "src") is expected


def test_inside_follows_links(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "src")
    with pytest.raises(DestinationError, match="inside the source"):
        refuse_inside_source(tmp_path / "src", tmp_path / "link" / "out")
