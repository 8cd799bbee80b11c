"""Policy as data: the files in this folder, and the loaders that check them.

Every fact of policy mrishare applies lives in one data file here, read by one loader, used
everywhere. A data steward can read and change them without reading Python:

================================  ========================================================
file                              what it says (read by)
================================  ========================================================
``identifying_attributes.tsv``    DICOM attributes that identify someone, why, and whether
                                  the audit searches for their values
                                  (:mod:`mrishare.identifiers`)
``identifying_vrs.tsv``           value representations that identify whatever the
                                  keyword (:mod:`mrishare.identifiers`)
``dicom_profile_options.yaml``    the options of the DICOM confidentiality profile, the
                                  dummies and codes mrishare writes (:mod:`mrishare.dicom`)
``safe_private_tags.tsv``         private (vendor) attributes known to hold no identity
``left_out_sop_classes.tsv``      kinds of DICOM object never passed on (screenshots,
                                  reports, photographs)
``iod_attribute_types.json``      the type of each attribute in each kind of DICOM object
                                  (made by ``tools/make_iod_types.py`` from the standard)
``series_mapping.yaml``           which DICOM series becomes which BIDS file
                                  (:mod:`mrishare.bids`; ``--config`` adds your own)
``sidecar_fields.yaml``           what JSON sidecars may never carry
``deface_qc.yaml``                the targets defacing must meet (:mod:`mrishare.deface`)
``audit_specificity.yaml``        how specific a value must be before the audit searches
                                  for it as text (:mod:`mrishare.audit`)
``decision_tree.yaml``            the book's decision tree: may I share, and how?
                                  (:mod:`mrishare.lessons.decision`)
``repositories.tsv``              repositories for brain MRI, with sources and dates
                                  (:mod:`mrishare.lessons.repositories`)
================================  ========================================================

Tables may open with ``#`` lines that say what they are and where they come from.

A malformed file raises :class:`mrishare.errors.RuleFileError` naming the file, the line and
what is wrong, so a typo is found when the file is read, not when a scan is processed.

Examples
--------
>>> from mrishare import rules
>>> rows = rules.read_tsv("identifying_vrs.tsv", required=["vr", "kind", "harvest", "why"])
>>> rows[0]["vr"]
'PN'
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from importlib.resources import files
from pathlib import Path
from typing import Any

from mrishare.errors import RuleFileError

__all__ = ["folder", "path", "read_tsv", "read_tsv_numbered", "read_yaml", "yaml_loader"]


def folder() -> Path:
    """Return the folder of the shipped rule files.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> (folder() / "identifying_attributes.tsv").is_file()
    True
    """
    return Path(str(files("mrishare") / "rules"))


def path(name: str | Path) -> Path:
    """Return the path of a rule file: a shipped file by name, or any path given.

    Parameters
    ----------
    name : str or Path
        A file name in :func:`folder` (``"identifying_vrs.tsv"``) or a path to a file of the
        user's own.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    RuleFileError
        When the file does not exist.

    Examples
    --------
    >>> path("identifying_vrs.tsv").name
    'identifying_vrs.tsv'
    """
    candidate = Path(name)
    if not candidate.is_file():
        shipped = folder() / str(name)
        if shipped.is_file():
            return shipped
        raise RuleFileError(
            f"{name}: no such rule file. Give a path to a file, or one of the shipped files: "
            f"{', '.join(sorted(p.name for p in folder().iterdir() if p.suffix != '.py'))}."
        )
    return candidate


def read_tsv(
    name: str | Path,
    *,
    required: Sequence[str],
    choices: Mapping[str, Sequence[str]] | None = None,
    unique: str | None = None,
) -> list[dict[str, str]]:
    """Read a tab-separated rule table and check its columns and values.

    The same as :func:`read_tsv_numbered`, without the line numbers.

    Parameters
    ----------
    name : str or Path
        The table (see :func:`path`).
    required : sequence of str
        Columns the table must have; none of their cells may be empty.
    choices : mapping of str to sequence of str, optional
        Columns whose cells must be one of the given values.
    unique : str, optional
        A column whose values must not repeat.

    Returns
    -------
    list of dict
        One dict a row, column name to the cell's text (stripped).

    Raises
    ------
    RuleFileError
        Naming the file, the line and the column at fault.

    Examples
    --------
    >>> rows = read_tsv("identifying_attributes.tsv", required=["keyword", "tag"],
    ...                 unique="keyword")
    >>> rows[0]["keyword"]
    'PatientName'
    """
    return [row for _, row in read_tsv_numbered(name, required=required, choices=choices,
                                                 unique=unique)]


def read_tsv_numbered(
    name: str | Path,
    *,
    required: Sequence[str],
    choices: Mapping[str, Sequence[str]] | None = None,
    unique: str | None = None,
) -> list[tuple[int, dict[str, str]]]:
    """Read a tab-separated rule table, check it, and give each row its line number.

    Parameters
    ----------
    name : str or Path
        The table (see :func:`path`).
    required : sequence of str
        Columns the table must have; none of their cells may be empty.
    choices : mapping of str to sequence of str, optional
        Columns whose cells must be one of the given values.
    unique : str, optional
        A column whose values must not repeat.

    Returns
    -------
    list of (int, dict)
        The line number of each row in the file (for messages about its content), and the
        row: column name to the cell's text (stripped).

    Raises
    ------
    RuleFileError
        Naming the file, the line and the column at fault.

    Examples
    --------
    >>> line, row = read_tsv_numbered("identifying_attributes.tsv", required=["keyword"])[0]
    >>> line, row["keyword"]
    (2, 'PatientName')
    """
    where = path(name)
    lines = where.read_text(encoding="utf-8").splitlines()
    skip = next((i for i, text in enumerate(lines) if not text.startswith("#")), len(lines))
    reader = csv.DictReader(lines[skip:], delimiter="\t")
    columns = reader.fieldnames or []
    missing = [c for c in required if c not in columns]
    if missing:
        raise RuleFileError(
            f"{where.name}, line {skip + 1}: the header line must name the columns "
            f"{', '.join(required)}; missing: {', '.join(missing)}."
        )
    rows: list[tuple[int, dict[str, str]]] = []
    seen: dict[str, int] = {}
    for line, row in enumerate(reader, start=skip + 2):
        if None in row:
            raise RuleFileError(f"{where.name}, line {line}: more cells than columns.")
        cells = {k: (v or "").strip() for k, v in row.items()}
        for column in required:
            if not cells[column]:
                raise RuleFileError(f"{where.name}, line {line}: column {column} is empty.")
        for column, allowed in (choices or {}).items():
            if cells.get(column, "") not in allowed:
                raise RuleFileError(
                    f"{where.name}, line {line}: {column} is {cells.get(column)!r}; "
                    f"expected one of {', '.join(allowed)}."
                )
        if unique is not None:
            value = cells[unique]
            if value in seen:
                raise RuleFileError(
                    f"{where.name}, line {line}: {unique} {value!r} already stands on "
                    f"line {seen[value]}."
                )
            seen[value] = line
        rows.append((line, cells))
    return rows


def yaml_loader() -> Any:
    """Return PyYAML's safe loader: the one built on libyaml when there is one.

    Both give the same results; libyaml's is many times faster.

    Returns
    -------
    type
        ``yaml.CSafeLoader``, else ``yaml.SafeLoader``.

    Examples
    --------
    >>> import yaml
    >>> yaml.load("a: [1, 2]", Loader=yaml_loader())
    {'a': [1, 2]}
    """
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(name: str | Path) -> Any:
    r"""Read a YAML rule file, saying where it is malformed.

    Parameters
    ----------
    name : str or Path
        The file (see :func:`path`).

    Returns
    -------
    object
        What the file holds (usually a dict).

    Raises
    ------
    RuleFileError
        When the file is not valid YAML (with the line and column) or is empty.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     bad = pathlib.Path(tmp) / "bad.yaml"
    ...     _ = bad.write_text("rules: [unclosed\n")
    ...     try:
    ...         read_yaml(bad)
    ...     except RuleFileError as error:
    ...         print(str(error).split(":")[0])
    bad.yaml, line 2, column 1
    """
    import yaml

    where = path(name)
    try:
        # libyaml's parser where PyYAML has it (the same results, many times faster)
        content = yaml.load(where.read_text(encoding="utf-8"), Loader=yaml_loader())
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        place = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise RuleFileError(f"{where.name}{place}: not valid YAML ({problem}).") from None
    if content is None:
        raise RuleFileError(f"{where.name}: the file is empty.")
    return content
