"""Small helpers several test modules share (imported as ``from helpers import ...``)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from mrishare import data


def tree_digest(folder: Path) -> dict[str, str]:
    """sha256 of every file below ``folder``, by relative path."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def study_subset(target: Path, patterns: tuple[str, ...]) -> Path:
    """Links to some series of the sample study (glob patterns), in the same layout."""
    source = data.sample_path("dicom_study", verify=False)
    for pattern in patterns:
        for folder in source.glob(pattern):
            for path in folder.iterdir():
                link = target / path.relative_to(source)
                link.parent.mkdir(parents=True, exist_ok=True)
                os.symlink(path, link)
    return target


def sample_study_images() -> tuple[int, int]:
    """The MR files and series of the sample study that de-identification writes.

    Counted from the shipped files, so that a test follows the samples when they grow: every
    file but the screenshot (a Secondary Capture, left out), and every series folder but its.
    """
    study = data.sample_path("dicom_study", verify=False)
    folders = [f for f in study.glob("*/*/*") if f.is_dir() and "Screen_capture" not in f.name]
    return sum(len(list(f.glob("*.dcm"))) for f in folders), len(folders)
