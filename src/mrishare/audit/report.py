"""What an audit found: findings, each with its file, place and kind, and the report.

Findings never repeat a value: they carry a masked hint (``J…n (6 characters)``) so that an
audit report does not become a leak itself.

Examples
--------
>>> report = AuditReport([Finding("notes.txt", "bytes at offset 0", "staff name",
...                               "T…r (10 characters)")], files=1)
>>> report.clean, report.exit_status, report.by_kind()
(False, 1, {'staff name': 1})
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["AuditReport", "Finding"]


@dataclass(frozen=True)
class Finding:
    """Something identifying found in a dataset.

    Parameters
    ----------
    file : str
        Path relative to the audited folder (``"."`` for the folder itself).
    place : str
        Where in the file: a DICOM element, a header field, a JSON key, a TSV cell,
        ``"path name"``, ``"gzip header: file name"`` or ``"bytes at offset N"``.
    kind : str
        What was found: a kind of identifier (``"patient name"``, ``"uid"``, ...) or a
        risk (``"face present"``, ``"burned-in annotation"``, ``"profile attribute"``).
    detail : str
        A masked hint of the value, or what the risk is.
    level : {"error", "warning"}
        Errors make the dataset unshareable; warnings ask you to look.
    """

    file: str
    place: str
    kind: str
    detail: str
    level: str = "error"


@dataclass
class AuditReport:
    """The result of :func:`mrishare.audit.audit`: findings and what was searched.

    Parameters
    ----------
    findings : list of Finding
        Everything found, in the order of the files.
    files : int
        Number of files searched.
    searched : dict of str to int
        Number of values searched, per kind.
    not_checked : list of str
        Checks that could not run (and why).
    """

    findings: list[Finding] = field(default_factory=list)
    files: int = 0
    searched: dict[str, int] = field(default_factory=dict)
    not_checked: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        """True when nothing at all was found."""
        return not self.findings

    @property
    def exit_status(self) -> int:
        """0 when clean, 1 when anything was found (the ``mrishare audit`` status)."""
        return 0 if self.clean else 1

    def by_kind(self) -> dict[str, int]:
        """Return the number of findings per kind.

        Returns
        -------
        dict of str to int
        """
        return dict(sorted(Counter(f.kind for f in self.findings).items()))

    def to_dict(self) -> dict[str, Any]:
        """Return the report as plain data (what ``--json`` writes).

        Returns
        -------
        dict
        """
        return {
            "clean": self.clean,
            "files_searched": self.files,
            "values_searched": self.searched,
            "findings_by_kind": self.by_kind(),
            "findings": [asdict(f) for f in self.findings],
            "not_checked": self.not_checked,
        }

    def to_frame(self) -> Any:
        """Return the findings as a pandas DataFrame (one row each).

        Returns
        -------
        pandas.DataFrame
            Columns ``file``, ``place``, ``kind``, ``detail`` and ``level``.
        """
        import pandas as pd

        return pd.DataFrame([asdict(f) for f in self.findings],
                            columns=["file", "place", "kind", "detail", "level"])

    def summary(self, limit: int = 20) -> str:
        """Return a few lines for people: clean or not, and the first findings.

        Parameters
        ----------
        limit : int, default 20
            How many findings to list.

        Returns
        -------
        str
        """
        if self.clean:
            lines = [f"Clean: no identifier found in {self.files} files "
                     f"({sum(self.searched.values())} values searched)."]
        else:
            kinds = ", ".join(f"{n} {k}" for k, n in self.by_kind().items())
            lines = [f"Found {len(self.findings)} problems in {self.files} files: {kinds}."]
            for f in self.findings[:limit]:
                lines.append(f"  {f.file} | {f.place} | {f.kind} | {f.detail}")
            if len(self.findings) > limit:
                lines.append(f"  ... and {len(self.findings) - limit} more.")
        lines += [f"Not checked: {reason}" for reason in self.not_checked]
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:  # shown nicely in notebooks
        return "```text\n" + self.summary() + "\n```"
