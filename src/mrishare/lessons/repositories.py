"""Where to share: a table of repositories for brain MRI, and a filter for it.

The table lives in ``mrishare/rules/repositories.tsv`` (edit it there, by hand: it is the
source, not generated). One row per repository; its columns are:

``name``, ``url``
    The repository and its home page.
``data_location``
    Where the files are stored, as far as its documentation says.
``in_eea``
    ``yes`` (stored in the EU/EEA), ``no``, or ``choice`` (you can choose an EU location).
``access``
    Access models, separated by ``;``: ``open`` (anyone), ``registered`` (anyone with an
    account who accepts terms), ``restricted`` (approved requests), ``embargoed``,
    ``private`` (invited collaborators only).
``dua``
    Whether and how a data use agreement can be attached.
``processing_agreement``
    Whether the repository signs a processing agreement (GDPR Art. 28) when it holds personal
    data for you, as far as its documentation says.
``defacing``, ``size_limit``, ``cost``
    As documented, in words.
``outcomes``
    Which outcomes of :mod:`mrishare.lessons.decision` the repository suits (``public``,
    ``restricted``, ``derived``), separated by ``;``.
``notes``
    Anything a reader should know before choosing it.
``source``
    The documentation pages the row was taken from.
``documented_on``
    The date the source gives for its information (``undated`` if none).
``read_on``
    When the row was last checked against its source (``YYYY-MM-DD``, or ``YYYY-MM`` for rows
    not re-checked since).
``verified``
    ``yes`` (every fact from the provider's own pages), ``partly`` (some facts from
    other sources or not found; the row says which), ``no`` (not checked against
    documentation).

Repositories change their rules, prices and limits: check the ``source`` before you rely
on a row, and tell us when a row is out of date.

Examples
--------
>>> from mrishare.lessons import repositories
>>> names = [r.name for r in repositories.filter_repositories("restricted",
...                                                           must_stay_in_eu=True)]
>>> "Public-nEUro" in names and "OpenNeuro" not in names
True
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from mrishare import rules
from mrishare.errors import RuleFileError
from mrishare.lessons.decision import OUTCOMES, Decision

__all__ = [
    "ACCESS_MODELS",
    "EEA_VALUES",
    "VERIFIED_VALUES",
    "Repository",
    "RepositoryTableError",
    "filter_repositories",
    "load_repositories",
    "table",
]

ACCESS_MODELS = ("open", "registered", "restricted", "embargoed", "private")
EEA_VALUES = ("yes", "no", "choice")
VERIFIED_VALUES = ("yes", "partly", "no")


class RepositoryTableError(RuleFileError):
    """A repository table that does not have the expected columns or values."""


@dataclass(frozen=True)
class Repository:
    """One row of the repository table (see the module docstring for the columns)."""

    name: str
    url: str
    data_location: str
    in_eea: str
    access: tuple[str, ...]
    dua: str
    processing_agreement: str
    defacing: str
    size_limit: str
    cost: str
    outcomes: tuple[str, ...]
    notes: str
    source: str
    documented_on: str
    read_on: str
    verified: str

    @property
    def keeps_data_in_eu(self) -> bool:
        """Return True when the data stay in the EU/EEA or can be made to (yes or choice)."""
        return self.in_eea in ("yes", "choice")


_COLUMNS = tuple(f.name for f in fields(Repository))
_SHARING_OUTCOMES = tuple(k for k in OUTCOMES if k != "support")
_LISTS = {"access": ACCESS_MODELS, "outcomes": _SHARING_OUTCOMES}
_CHOICES = {"in_eea": EEA_VALUES, "verified": VERIFIED_VALUES}
_DATE = re.compile(r"\d{4}-\d{2}(-\d{2})?")
RULE_FILE = "repositories.tsv"


def load_repositories(path: str | Path | None = None) -> list[Repository]:
    """Read the repository table and check every row.

    Parameters
    ----------
    path : str or Path, optional
        A TSV file with the columns of :class:`Repository` (lines starting with ``#`` are
        comments). Default: the table shipped with mrishare.

    Returns
    -------
    list of Repository

    Raises
    ------
    RepositoryTableError
        If a column is missing or unknown, a row has the wrong number of fields, a value
        is not one of those allowed, or ``read_on`` is not a date; the message names the
        file, the line and the allowed values.

    Examples
    --------
    >>> repos = load_repositories()
    >>> "OpenNeuro" in [r.name for r in repos]
    True
    """
    path = rules.path(RULE_FILE if path is None else path)
    with path.open(encoding="utf-8", newline="") as handle:
        numbered = [(n, line) for n, line in enumerate(handle, start=1)
                    if not line.startswith("#")]
    reader = csv.DictReader([line for _, line in numbered], delimiter="\t")
    header = tuple(reader.fieldnames or ())
    missing = [c for c in _COLUMNS if c not in header]
    extra = [c for c in header if c not in _COLUMNS]
    if missing or extra:
        raise RepositoryTableError(
            f"{path}: the header should have the columns {', '.join(_COLUMNS)}; "
            f"missing: {', '.join(missing) or 'none'}; unknown: {', '.join(extra) or 'none'}."
        )
    repos = []
    for row in reader:
        line = numbered[reader.line_num - 1][0]  # the line number in the file
        if None in row or any(v is None for v in row.values()):
            raise RepositoryTableError(
                f"{path}: line {line} ({row.get('name')!r}) does not have {len(_COLUMNS)} "
                "tab-separated fields."
            )
        values: dict[str, Any] = {k: v.strip() for k, v in row.items()}
        for column, allowed in _CHOICES.items():
            if values[column] not in allowed:
                raise RepositoryTableError(
                    f"{path}: line {line} ({values['name']!r}) has {column}="
                    f"{values[column]!r}; expected one of {', '.join(allowed)}."
                )
        for column, allowed in _LISTS.items():
            items = tuple(v.strip() for v in values[column].split(";") if v.strip())
            bad = [v for v in items if v not in allowed]
            if bad or not items:
                raise RepositoryTableError(
                    f"{path}: line {line} ({values['name']!r}) has {column}="
                    f"{values[column]!r}; expected values from {', '.join(allowed)}, "
                    "separated by ';'."
                )
            values[column] = items
        if not _DATE.fullmatch(values["read_on"]):
            raise RepositoryTableError(
                f"{path}: line {line} ({values['name']!r}) has read_on="
                f"{values['read_on']!r}; expected a date, YYYY-MM-DD (or YYYY-MM)."
            )
        repos.append(Repository(**values))
    return repos


def filter_repositories(
    outcome: str | Decision | None = None,
    must_stay_in_eu: bool = False,
    repositories: list[Repository] | None = None,
) -> list[Repository]:
    """Return the repositories that suit an outcome and, if asked, keep data in the EU.

    Parameters
    ----------
    outcome : str or Decision, optional
        ``"public"``, ``"restricted"`` or ``"derived"``, or a result of
        :func:`mrishare.lessons.decision.evaluate`. None keeps every outcome; ``"support"``
        keeps none (find support before you choose).
    must_stay_in_eu : bool, default False
        Keep only repositories whose storage is in the EU/EEA or can be chosen to be.
    repositories : list of Repository, optional
        The table to filter; default :func:`load_repositories`.

    Returns
    -------
    list of Repository
        In the order of the table.

    Raises
    ------
    ValueError
        If ``outcome`` is not one of the outcome keys.

    Examples
    --------
    >>> [r.name for r in filter_repositories("derived", must_stay_in_eu=True)][:2]
    ['DANS Data Station Life Sciences', 'DataverseNL']
    """
    if isinstance(outcome, Decision):
        outcome = outcome.outcome.key
    if outcome is not None and outcome not in OUTCOMES:
        raise ValueError(
            f"Unknown outcome {outcome!r}; expected one of {', '.join(OUTCOMES)} "
            "(or a Decision from mrishare.lessons.decision.evaluate)."
        )
    repos = load_repositories() if repositories is None else repositories
    return [
        r for r in repos
        if (outcome is None or outcome in r.outcomes)
        and (not must_stay_in_eu or r.keeps_data_in_eu)
    ]


def table(repositories: list[Repository] | None = None, columns: list[str] | None = None) -> Any:
    """Return the repositories as a pandas DataFrame, lists joined by commas, for display.

    Parameters
    ----------
    repositories : list of Repository, optional
        Default: the whole table.
    columns : list of str, optional
        Which columns to show, in order. Default: all.

    Examples
    --------
    >>> table(columns=["name", "in_eea"]).shape[1]
    2
    """
    import pandas as pd

    repos = load_repositories() if repositories is None else repositories
    cols = list(_COLUMNS) if columns is None else columns
    unknown = [c for c in cols if c not in _COLUMNS]
    if unknown:
        raise ValueError(f"Unknown column(s) {unknown}; expected some of {', '.join(_COLUMNS)}.")
    rows = []
    for r in repos:
        row = {}
        for c in cols:
            v = getattr(r, c)
            row[c] = ", ".join(v) if isinstance(v, tuple) else v
        rows.append(row)
    return pd.DataFrame(rows, columns=cols)
