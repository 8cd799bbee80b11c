"""The BIDS schema installed with ``bidsschematools``: names, entities and sidecar fields.

Read offline from the copy that comes with the package, once. The series mapping checks its
datatypes, suffixes and entities against it (:func:`file_rules`), file names put entities in
its order (:func:`entity_order`), and the sidecar allow-list comes from its metadata rules.

Examples
--------
>>> from mrishare.bids import schema
>>> "T1w" in schema.file_rules()["anat"]
True
>>> [name for name in schema.entity_order() if name in ("run", "task", "ses", "sub")]
['sub', 'ses', 'task', 'run']
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import Any

__all__ = ["MRI_DATATYPES", "SuffixRule", "bids_version", "entity_order", "file_rules", "load"]

MRI_DATATYPES = ("anat", "func", "dwi", "fmap", "perf")
"""The BIDS datatypes of MRI data, the ones a series can be mapped to."""


@dataclass(frozen=True)
class SuffixRule:
    """What the schema allows for one datatype and suffix.

    Attributes
    ----------
    entities : frozenset of str
        Entities (short names, e.g. ``"task"``, ``"acq"``) a file name may carry.
    required : frozenset of str
        Entities a file name must carry, besides ``sub``.
    formats : dict
        Entity short name to ``"label"`` (letters and digits) or ``"index"`` (digits).
    """

    entities: frozenset[str]
    required: frozenset[str]
    formats: dict[str, str]


@functools.cache
def load() -> Any:
    """Return the BIDS schema installed with ``bidsschematools`` (read once, no network).

    Returns
    -------
    bidsschematools.types.Namespace

    Examples
    --------
    >>> "EchoTime" in load().objects.metadata
    True
    """
    from bidsschematools import schema

    # The copy installed with bidsschematools (offline); it announces that at INFO level.
    logging.getLogger("bidsschematools").setLevel(logging.WARNING)
    return schema.load_schema()


def bids_version() -> str:
    """Return the BIDS version of the installed schema.

    Returns
    -------
    str

    Examples
    --------
    >>> bids_version().count(".")
    2
    """
    return str(load().bids_version)


@functools.cache
def entity_order() -> tuple[str, ...]:
    """Return the entities' short names in the order BIDS file names give them.

    Returns
    -------
    tuple of str

    Examples
    --------
    >>> order = entity_order()
    >>> order.index("acq") < order.index("dir") < order.index("run") < order.index("echo")
    True
    """
    objects = load().objects.entities
    return tuple(str(objects[key]["name"]) for key in load().rules.entities)


@functools.cache
def file_rules() -> dict[str, dict[str, SuffixRule]]:
    """Return, for each MRI datatype, the suffixes BIDS allows for images and their entities.

    Returns
    -------
    dict
        Datatype to suffix to :class:`SuffixRule`.

    Examples
    --------
    >>> rule = file_rules()["func"]["bold"]
    >>> sorted(rule.required), "dir" in rule.entities
    (['task'], True)
    """
    schema = load()
    names = {key: str(value["name"]) for key, value in schema.objects.entities.items()}
    formats = {str(value["name"]): str(value.get("format", "label"))
               for value in schema.objects.entities.values()}
    found: dict[str, dict[str, SuffixRule]] = {datatype: {} for datatype in MRI_DATATYPES}
    for group in schema.rules.files.raw.values():
        for rule in group.values():
            if ".nii.gz" not in rule.get("extensions", []):
                continue
            entities = {names[key]: level for key, level in rule["entities"].items()}
            allowed = frozenset(entities) - {"sub"}
            required = frozenset(k for k, v in entities.items() if v == "required") - {"sub"}
            for datatype in rule.get("datatypes", []):
                if datatype in found:
                    for suffix in rule["suffixes"]:
                        found[datatype][str(suffix)] = SuffixRule(
                            allowed, required, {k: formats[k] for k in allowed})
    return found
