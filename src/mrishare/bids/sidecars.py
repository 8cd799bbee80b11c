"""JSON sidecars without identifiers: an allow-list from the BIDS schema, minus a deny list.

What a sidecar may hold is policy, kept as data in ``mrishare/rules/sidecar_fields.yaml``:
the BIDS schema's sidecar groups whose fields are allowed, the fields always removed (each
with its reason) and the fields mrishare writes itself. :func:`scrub_sidecar` keeps only
allowed fields whose values repeat no identifier of the source.

Examples
--------
>>> from mrishare.bids import sidecars
>>> sidecars.scrub_sidecar({"EchoTime": 0.003, "StationName": "MR3"})
({'EchoTime': 0.003}, ['StationName'])
>>> sidecars.SIDECAR_DENY["StationName"]
'identifies one scanner console, so one site'
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mrishare import __version__, rules
from mrishare.bids import schema
from mrishare.errors import RuleFileError

__all__ = [
    "SIDECAR_DENY",
    "SIDECAR_GROUPS",
    "WRITTEN_BY_MRISHARE",
    "SidecarRules",
    "deidentification_method",
    "scrub_sidecar",
    "sidecar_allowlist",
    "sidecar_rules",
]

_FILE = "sidecar_fields.yaml"
_KEYS = ("schema_groups", "removed", "written_by_mrishare")


@dataclass(frozen=True)
class SidecarRules:
    """The sidecar policy, as read from its rule file.

    Attributes
    ----------
    groups : tuple of str
        Sidecar rule groups of the BIDS schema whose fields are allowed.
    removed : dict
        Field name to the reason it is always removed.
    written_by_mrishare : dict
        Field name to what mrishare writes in it (removed from dcm2niix's sidecars).
    """

    groups: tuple[str, ...]
    removed: dict[str, str]
    written_by_mrishare: dict[str, str]

    @property
    def deny(self) -> dict[str, str]:
        """Return every field removed from dcm2niix's sidecars, with the reason."""
        return {**self.removed, **self.written_by_mrishare}


def _reasons(content: dict[str, Any], key: str, name: str, known: set[str]) -> dict[str, str]:
    table = content.get(key)
    if not isinstance(table, dict):
        raise RuleFileError(f"{name}: {key} must map field names to reasons.")
    for field_name, reason in table.items():
        if not isinstance(reason, str) or not reason.strip():
            raise RuleFileError(f"{name}, {key}: {field_name} needs a reason.")
        if field_name not in known:
            raise RuleFileError(f"{name}, {key}: {field_name!r} is not a BIDS sidecar field "
                                "(check the spelling).")
    return {str(k): str(v) for k, v in table.items()}


def sidecar_rules(path: str | Path = _FILE) -> SidecarRules:
    """Read and check the sidecar policy file.

    Parameters
    ----------
    path : str or Path, default ``"sidecar_fields.yaml"``
        The shipped file by name, or a path.

    Returns
    -------
    SidecarRules

    Raises
    ------
    RuleFileError
        A missing or unknown key, a schema group BIDS does not have, a field that is not a
        BIDS sidecar field, or a field without a reason.

    Examples
    --------
    >>> sidecar_rules().groups[:2]
    ('mri', 'anat')
    """
    where = rules.path(path)
    content = rules.read_yaml(where)
    if not isinstance(content, dict):
        raise RuleFileError(f"{where.name}: expected the keys {', '.join(_KEYS)}.")
    unknown = sorted(set(content) - set(_KEYS))
    missing = [k for k in _KEYS if k not in content]
    if unknown or missing:
        raise RuleFileError(f"{where.name}: expected the keys {', '.join(_KEYS)}; "
                            + (f"unknown: {unknown[0]}" if unknown else f"missing: {missing[0]}")
                            + ".")
    groups = content["schema_groups"]
    known_groups = set(schema.load().rules.sidecars.keys())
    if not isinstance(groups, list) or not groups:
        raise RuleFileError(f"{where.name}: schema_groups must be a list of group names.")
    for group in groups:
        if group not in known_groups:
            raise RuleFileError(f"{where.name}, schema_groups: the BIDS schema has no sidecar "
                                f"group {group!r}; known: {', '.join(sorted(known_groups))}.")
    fields = set(schema.load().objects.metadata.keys())
    return SidecarRules(tuple(groups), _reasons(content, "removed", where.name, fields),
                        _reasons(content, "written_by_mrishare", where.name, fields))


_RULES = sidecar_rules()

SIDECAR_GROUPS: tuple[str, ...] = _RULES.groups
"""Rule groups of the BIDS schema (``rules.sidecars.<group>``) whose fields are allowed."""

SIDECAR_DENY: dict[str, str] = _RULES.deny
"""Fields removed from every sidecar even though BIDS defines them, with the reason."""

WRITTEN_BY_MRISHARE: frozenset[str] = frozenset(_RULES.written_by_mrishare)
"""Fields mrishare writes itself (``DeidentificationMethod``...)."""


@functools.cache
def sidecar_allowlist() -> frozenset[str]:
    """Return the sidecar fields mrishare keeps: MRI fields of the BIDS schema, minus denied.

    Read from the BIDS schema installed with ``bidsschematools`` (no network), from the
    rule groups :data:`SIDECAR_GROUPS`, minus :data:`SIDECAR_DENY`.

    Returns
    -------
    frozenset of str

    Examples
    --------
    >>> allowed = sidecar_allowlist()
    >>> "EchoTime" in allowed, "InstitutionName" in allowed
    (True, False)
    """
    sidecars = schema.load().rules.sidecars
    names = set()
    for datatype in SIDECAR_GROUPS:
        for group in sidecars[datatype].values():
            names.update(name.split("__")[0] for name in group.fields.keys())
    return frozenset(names - set(SIDECAR_DENY))


def _contains_identifier(value: Any, identifiers: Iterable[str]) -> bool:
    text = json.dumps(value).lower()
    return any(token.lower() in text for token in identifiers)


def scrub_sidecar(sidecar: dict[str, Any], identifiers: Iterable[str] = ()
                  ) -> tuple[dict[str, Any], list[str]]:
    """Keep only allowed acquisition fields of a dcm2niix sidecar.

    Parameters
    ----------
    sidecar : dict
        The JSON sidecar as read.
    identifiers : iterable of str
        Identifying values of the source (names, IDs, dates); an allowed field whose value
        contains one is dropped too.

    Returns
    -------
    kept : dict
        The allowed fields, in the input's order.
    dropped : list of str
        The names of the fields dropped.

    Examples
    --------
    >>> kept, dropped = scrub_sidecar({"EchoTime": 0.003, "SequenceName": "tfl_Jansen"},
    ...                               identifiers=["Jansen"])
    >>> kept, dropped
    ({'EchoTime': 0.003}, ['SequenceName'])
    """
    allowed = sidecar_allowlist()
    identifiers = [i for i in identifiers if i]
    kept, dropped = {}, []
    for name, value in sidecar.items():
        if name in allowed and not _contains_identifier(value, identifiers):
            kept[name] = value
        else:
            dropped.append(name)
    return kept, dropped


def deidentification_method() -> list[str]:
    """Return the ``DeidentificationMethod`` value mrishare writes into each sidecar.

    Returns
    -------
    list of str

    Examples
    --------
    >>> deidentification_method()[0].startswith("mrishare ")
    True
    """
    return [
        f"mrishare {__version__}: converted from DICOM with dcm2niix; NIfTI header text "
        "fields (descrip, aux_file, intent_name, db_name) cleared and extensions removed; "
        "gzip headers without file name or time; sidecars limited to BIDS MRI acquisition "
        "fields (no institution, station, serial number, dates, times or free text); "
        "participant labels from a secret key; dates shifted to 1925 or earlier, one shift "
        "per participant",
    ]
