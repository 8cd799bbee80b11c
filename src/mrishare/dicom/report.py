"""What a batch did, file by file: the records, the report and the mapping of files.

The report and the mapping name source files (their paths can carry names): they are kept
next to the originals, never inside the shared output.

Examples
--------
>>> report = Report("a profile", [], "given")
>>> report.files.append(FileFate("IM1.dcm", "written", "sub-x/ses-1/003-MR/00001.dcm"))
>>> report.mapping_rows()[0]
{'source': 'IM1.dcm', 'fate': 'written', 'output': 'sub-x/ses-1/003-MR/00001.dcm', 'reason': ''}
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mrishare import __version__
from mrishare._paths import write_json, write_text, write_tsv

__all__ = ["FileFate", "Report", "SkippedFile", "WrittenSeries"]


@dataclass
class WrittenSeries:
    """One series written: where, and how many files.

    Parameters
    ----------
    participant : str
        ``sub-<label>``.
    session : int
        The session number.
    series : str
        The series folder, ``<number>-<modality>``.
    modality : str
    path : str
        The folder relative to the destination.
    files : int
    """

    participant: str
    session: int
    series: str
    modality: str
    path: str
    files: int = 0


@dataclass
class SkippedFile:
    """A source file not written, and why.

    Parameters
    ----------
    source : str
        Its path relative to the source folder (can carry names: the report stays private).
    reason : str
    """

    source: str
    reason: str


@dataclass
class FileFate:
    """What became of one source file: the row of the mapping.

    Parameters
    ----------
    source : str
        Its path relative to the source folder.
    fate : str
        ``"written"``, ``"copy"`` (the same object as a file written: same SOP Instance
        UID, same content), ``"left out"`` or ``"failed"``.
    output : str
        The output it became (for a copy: the output holding the same object).
    reason : str
        Why it was left out or failed; for a written file, what changed beyond the profile.
    notes : list of str
        What was removed whole (overlays, curves) or decided without the standard's tables.
    added_errors : list of str
        Errors the validator finds in the output and not in the source (when checked).
    """

    source: str
    fate: str
    output: str = ""
    reason: str = ""
    notes: list[str] = field(default_factory=list)
    added_errors: list[str] = field(default_factory=list)


@dataclass
class Report:
    """What a batch did: per series, what was left out and what failed, and why.

    The report names source files (their paths can carry names): keep it with the
    originals, out of the shared dataset.

    Parameters
    ----------
    profile : str
        The edition of the profile and where it came from.
    options : list of str
        The options switched on.
    key : str
        Whether the key was given (reproducible) or random.
    series : list of WrittenSeries
    left_out, failed : list of SkippedFile
    files : list of FileFate
        Every source file and what became of it.
    validation : str
        What the validator said, or why it did not run (empty when not asked for).
    version : str
        mrishare's version.
    """

    profile: str
    options: list[str]
    key: str
    series: list[WrittenSeries] = field(default_factory=list)
    left_out: list[SkippedFile] = field(default_factory=list)
    failed: list[SkippedFile] = field(default_factory=list)
    files: list[FileFate] = field(default_factory=list)
    validation: str = ""
    version: str = __version__

    @property
    def made_invalid(self) -> list[FileFate]:
        """Return the written files whose output has errors its source did not have."""
        return [f for f in self.files if f.added_errors]

    @property
    def exit_status(self) -> int:
        """Return 3 when some inputs failed; 1 when an output was made invalid; else 0."""
        return 3 if self.failed else 1 if self.made_invalid else 0

    def to_dict(self) -> dict[str, Any]:
        """Return the report as plain data (what :meth:`save` writes as JSON)."""
        return asdict(self)

    def summary(self) -> str:
        """Return a short text for people: what was written, left out and failed."""
        files = sum(s.files for s in self.series)
        people = len({s.participant for s in self.series})
        sessions = len({(s.participant, s.session) for s in self.series})
        lines = [
            f"mrishare {self.version} deidentify-dicom",
            f"profile: {self.profile}",
            f"options: {', '.join(self.options) or 'none (basic profile)'}",
            f"key: {self.key}",
            f"written: {files} files in {len(self.series)} series, {people} participants, "
            f"{sessions} sessions",
        ]
        lines += [f"  {s.path}: {s.files} file{'' if s.files == 1 else 's'} ({s.modality})"
                  for s in self.series]
        lines.append(f"left out on purpose: {len(self.left_out)}")
        lines += [f"  {r.source}: {r.reason}" for r in self.left_out]
        lines.append(f"failed: {len(self.failed)}")
        lines += [f"  {r.source}: {r.reason}" for r in self.failed]
        noted = [f for f in self.files if f.notes or (f.fate == "written" and f.reason)]
        lines.append(f"notes: {len(noted)} files")
        for f in noted:
            lines += [f"  {f.source}: {note}" for note in ([f.reason] if f.reason else [])
                      + f.notes]
        if self.validation:
            lines.append(f"validation: {self.validation}")
            for f in self.made_invalid:
                lines += [f"  {f.output} (from {f.source}): {e}" for e in f.added_errors]
        return "\n".join(lines) + "\n"

    def mapping_rows(self) -> list[dict[str, str]]:
        """Return one row per source file: source, fate, output, reason."""
        def cell(text: str) -> str:
            return " ".join(text.split("\t")).replace("\n", " ")

        return [{"source": cell(f.source), "fate": f.fate, "output": cell(f.output),
                 "reason": cell(f.reason)} for f in self.files]

    def save(self, path: str | os.PathLike) -> tuple[Path, Path]:
        """Write ``<path>.json`` and ``<path>.txt`` (atomic); return both paths.

        Parameters
        ----------
        path : str or path-like
            The report's path without suffix (next to the destination, not inside it).

        Returns
        -------
        tuple of Path
            The JSON and the text file.
        """
        base = Path(path)
        return (write_json(base.with_name(base.name + ".json"), self.to_dict()),
                write_text(base.with_name(base.name + ".txt"), self.summary()))

    def save_mapping(self, path: str | os.PathLike) -> Path:
        """Write the mapping (one row per source file) as a TSV file (atomic).

        Parameters
        ----------
        path : str or path-like
            The file, next to the destination (never inside it: it names source files).

        Returns
        -------
        Path
        """
        return write_tsv(Path(path), ["source", "fate", "output", "reason"],
                         self.mapping_rows())
