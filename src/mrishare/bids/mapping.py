"""Which DICOM series become which BIDS files: the series mapping, read from a rule file.

The mapping is data (``mrishare/rules/series_mapping.yaml``), in the shape of a dcm2bids
configuration: a list of descriptions, each with ``criteria`` on header attributes and
either a BIDS ``datatype``, ``suffix`` and optional ``entities``, or ``skip: <reason>``.
This module holds its records and the matching; :mod:`~mrishare.bids.mapping_file` reads
and checks the file (:func:`load_mapping`), and puts a user's file before the shipped one
(:func:`~mrishare.bids.mapping_file.load_config`). :func:`classify` gives a series the
first description whose criteria hold; a series that meets none is ``"unknown"``: not
converted, reported with the nearest description it missed, never guessed. An entity
written ``<name>`` in a description takes its label from the series' name
(``rfMRI_REST_AP`` gives ``task-rest``, ``dir-AP``) by the patterns under
``labels_from_names``.

Examples
--------
>>> from mrishare.bids import mapping
>>> info = {"Modality": "MR", "SOPClassUID": "1.2.840.10008.5.1.4.1.1.4",
...         "SeriesDescription": "t1_mprage_sag", "EchoTime": "2.98"}
>>> found = mapping.classify(info)
>>> found.datatype, found.suffix, found.reason
('anat', 'T1w', 'named T1-weighted and short echo time')
"""

from __future__ import annotations

import fnmatch
import functools
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_MAPPING",
    "FIELDS",
    "Classification",
    "Criterion",
    "Description",
    "SeriesMapping",
    "classify",
    "default_mapping",
    "label_from_name",
    "load_mapping",
    "series_features",
]

FROM_NAME = "<name>"
"""An entity value that takes the label from the series' name (see :func:`label_from_name`)."""

DEFAULT_MAPPING = "series_mapping.yaml"
"""The shipped mapping, in :func:`mrishare.rules.folder`."""

FIELDS: dict[str, str] = {
    "SeriesDescription": "text", "ProtocolName": "text", "SequenceName": "text",
    "ImageType": "text", "ScanningSequence": "text", "SequenceVariant": "text",
    "ScanOptions": "text", "MRAcquisitionType": "text", "Modality": "text",
    "SOPClassUID": "text", "Manufacturer": "text", "Words": "text",
    "EchoTime": "number", "RepetitionTime": "number", "InversionTime": "number",
    "FlipAngle": "number", "EchoNumbers": "number", "ImageComments": "text",
}
"""The attributes criteria may test, and whether they hold text or a number.

``Words`` is made from the header: the words of SeriesDescription, ProtocolName and
SequenceName (see :func:`series_features`)."""

_WORD_SOURCES = ("SeriesDescription", "ProtocolName", "SequenceName")


@dataclass(frozen=True)
class Criterion:
    """One test on one attribute; every part given must hold.

    Attributes
    ----------
    field : str
        The attribute (a key of :data:`FIELDS`).
    match : tuple of str
        Shell-style patterns; one value must match one of them (empty: no such test).
    exclude : tuple of str
        Patterns no value may match (``not:`` in the file).
    bounds : tuple of (str, float) pairs
        Numeric tests such as ``("ge", 50.0)``; ``btw``/``btwe`` give two pairs.
    """

    field: str
    match: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    bounds: tuple[tuple[str, float], ...] = ()

    def holds(self, value: Any) -> bool:
        """Say whether a feature value (see :func:`series_features`) passes this test.

        Parameters
        ----------
        value : tuple of str, float or None
            The attribute's values (text) or number (None when missing).

        Returns
        -------
        bool

        Examples
        --------
        >>> Criterion("EchoTime", bounds=(("ge", 50.0), ("lt", 400.0))).holds(98.0)
        True
        >>> Criterion("ImageType", match=("derived",)).holds(("ORIGINAL", "PRIMARY"))
        False
        """
        if self.bounds:
            if value is None or isinstance(value, tuple):
                return False
            return all(_compare(op, value, limit) for op, limit in self.bounds)
        values = [v.lower() for v in value] if isinstance(value, tuple) else []
        if self.match and not any(fnmatch.fnmatchcase(v, p) for v in values
                                  for p in self.match):
            return False
        return not any(fnmatch.fnmatchcase(v, p) for v in values for p in self.exclude)


    def explain(self) -> str:
        """Return the test in words, e.g. ``"EchoTime >= 50 and < 400"``.

        Examples
        --------
        >>> Criterion("EchoTime", bounds=(("ge", 50.0), ("lt", 400.0))).explain()
        'EchoTime >= 50 and < 400'
        """
        if self.bounds:
            signs = {"lt": "<", "le": "<=", "gt": ">", "ge": ">=", "eq": "="}
            return f"{self.field} " + " and ".join(f"{signs[op]} {limit:g}"
                                                   for op, limit in self.bounds)
        parts = [f"matches {' or '.join(self.match)}"] if self.match else []
        parts += [f"matches none of {', '.join(self.exclude)}"] if self.exclude else []
        return f"{self.field} " + " and ".join(parts)


def _compare(op: str, value: float, limit: float) -> bool:
    return {"lt": value < limit, "le": value <= limit, "gt": value > limit,
            "ge": value >= limit, "eq": value == limit}[op]


@dataclass(frozen=True)
class Description:
    """One description of the mapping: criteria, and what a series meeting them becomes.

    Attributes
    ----------
    criteria : tuple of Criterion
        All must hold.
    datatype, suffix : str
        The BIDS datatype and suffix ("" for a description that skips).
    entities : tuple of (str, str) pairs
        BIDS entities for the file name, e.g. ``(("task", "rest"),)``; a value
        :data:`FROM_NAME` takes the label from the series' name.
    skip : str
        Why matching series are not converted ("" for a description that maps).
    reason : str
        Why a matching series is what the description says (shown in the report).
    id : str
        A short name.
    index : int
        Position in the file, from 1.
    line : int
        Line of the file where the description starts.
    source : str
        The file's name.
    """

    criteria: tuple[Criterion, ...]
    datatype: str = ""
    suffix: str = ""
    entities: tuple[tuple[str, str], ...] = ()
    skip: str = ""
    reason: str = ""
    id: str = ""
    index: int = 0
    line: int = 0
    source: str = ""

    @property
    def outcome(self) -> str:
        """Return the suffix, or ``"skip"``."""
        return "skip" if self.skip else self.suffix

    @property
    def name(self) -> str:
        """Return how the report names the description: ``file:id`` (or the number)."""
        return f"{self.source}:{self.id or self.index}"

    def holds(self, features: Mapping[str, Any]) -> bool:
        """Say whether every criterion holds for a series' features."""
        return all(c.holds(features.get(c.field)) for c in self.criteria)

    def missed(self, features: Mapping[str, Any]) -> list[Criterion]:
        """Return the numeric tests that fail when every text test holds, else ``[]``.

        A series named like this description whose echo time (or another number)
        disagrees: the report names the description it nearly met.
        """
        text = [c for c in self.criteria if not c.bounds]
        if not text or not all(c.holds(features.get(c.field)) for c in text):
            return []
        return [c for c in self.criteria if c.bounds and not c.holds(features.get(c.field))]


@dataclass(frozen=True)
class SeriesMapping:
    """A checked series mapping: descriptions in the order they are tried.

    Attributes
    ----------
    descriptions : tuple of Description
    source : str
        The file it was read from (its name), or the files joined by ``" + "``.
    labels : tuple of (str, tuple of str) pairs
        Entity to the regular expressions that find its label in a series' name, tried in
        order (``labels_from_names`` in the file).
    extends_default : bool
        For a user's file: True (the default) puts its descriptions before the shipped
        ones; False replaces the shipped mapping.
    """

    descriptions: tuple[Description, ...]
    source: str = DEFAULT_MAPPING
    labels: tuple[tuple[str, tuple[str, ...]], ...] = ()
    extends_default: bool = True


@dataclass(frozen=True)
class Classification:
    """What a series is, by the mapping.

    Attributes
    ----------
    outcome : str
        A BIDS suffix, ``"skip"``, or ``"unknown"`` when no description holds.
    reason : str
        Why, in words a reader understands.
    datatype : str
        The BIDS datatype ("" unless mapped).
    suffix : str
        The BIDS suffix ("" unless mapped).
    entities : tuple of (str, str) pairs
        Entities from the description.
    description : Description or None
        The description that decided; for ``"unknown"``, the one nearly met (named like
        it, a number or a label missing), or None.
    """

    outcome: str
    reason: str
    datatype: str = ""
    suffix: str = ""
    entities: tuple[tuple[str, str], ...] = ()
    description: Description | None = None

    @property
    def rule(self) -> str:
        """Return the deciding description's name (``"-"`` when unknown)."""
        if self.outcome == "unknown" or self.description is None:
            return "-"
        return self.description.name

    @property
    def target(self) -> str:
        """Return what the series becomes, e.g. ``"func/task-rest_bold"`` or ``"skip"``."""
        if not self.converted:
            return self.outcome
        labels = "".join(f"{k}-{v}_" for k, v in self.entities)
        return f"{self.datatype}/{labels}{self.suffix}"

    @property
    def converted(self) -> bool:
        """Return True when the series is converted (mapped to a datatype and suffix)."""
        return bool(self.suffix)


def load_mapping(path: str | Path = DEFAULT_MAPPING) -> SeriesMapping:
    """Read and check a series mapping file (see :func:`mrishare.bids.mapping_file.read`).

    Parameters
    ----------
    path : str or Path, default :data:`DEFAULT_MAPPING`
        A YAML file (a shipped file by name, or a path).

    Returns
    -------
    SeriesMapping

    Raises
    ------
    RuleFileError
        Naming the file, the description and its line.

    Examples
    --------
    >>> load_mapping().descriptions[0].skip
    'not MR (another modality)'
    """
    from mrishare.bids import mapping_file

    return mapping_file.read(path)


@functools.cache
def default_mapping() -> SeriesMapping:
    """Return the shipped series mapping (read and checked once).

    Returns
    -------
    SeriesMapping

    Examples
    --------
    >>> [d.suffix for d in default_mapping().descriptions if d.datatype == "func"]
    ['sbref', 'bold']
    """
    return load_mapping(DEFAULT_MAPPING)


# ----------------------------------------------------------------------------- matching


def _number(value: Any) -> float | None:
    try:
        number = float(value[0] if isinstance(value, list | tuple) else value)
    except (TypeError, ValueError, IndexError):
        return None
    return None if math.isnan(number) else number


def _values(value: Any) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    return tuple(str(value).split("\\"))


def series_features(info: Mapping[str, Any]) -> dict[str, Any]:
    """Return what the criteria test, from a series' DICOM attributes.

    Text attributes become tuples of values (a multi-valued attribute such as ImageType
    gives several), numbers become floats (None when missing), and ``Words`` holds the
    words of SeriesDescription, ProtocolName and SequenceName in lower case.

    Parameters
    ----------
    info : mapping
        DICOM keyword to value.

    Returns
    -------
    dict
        Attribute name (a key of :data:`FIELDS`) to tuple of str, or float or None.

    Examples
    --------
    >>> sorted(series_features({"SeriesDescription": "T1 MPRAGE sag"})["Words"])
    ['mprage', 'sag', 't1']
    """
    features: dict[str, Any] = {}
    for name, kind in FIELDS.items():
        value = info.get(name)
        features[name] = _number(value) if kind == "number" else _values(value)
    text = " ".join(str(info.get(k) or "") for k in _WORD_SOURCES)
    features["Words"] = tuple(w for w in re.split(r"[^a-z0-9]+", text.lower()) if w)
    return features


_UPPER_CASE_LABELS = frozenset({"dir"})


def _shown(value: Any) -> str:
    return "missing" if value is None else format(value, "g")


def label_from_name(entity: str, info: Mapping[str, Any],
                    mapping: SeriesMapping | None = None) -> str:
    """Return the label the series' name gives for an entity, or ``""``.

    The patterns of ``labels_from_names`` for the entity are tried in order on the
    SeriesDescription, then the ProtocolName, without regard to case; the first group a
    pattern captures is the label, reduced to letters and digits (upper case for ``dir``,
    lower case for the others).

    Parameters
    ----------
    entity : str
        An entity's short name (``task``, ``dir``, ``acq``...).
    info : mapping
        DICOM attributes of the series.
    mapping : SeriesMapping, optional
        Default: :func:`default_mapping`.

    Returns
    -------
    str

    Examples
    --------
    >>> label_from_name("task", {"SeriesDescription": "rfMRI_REST_AP"})
    'rest'
    >>> label_from_name("dir", {"SeriesDescription": "rfMRI_REST_AP"})
    'AP'
    >>> label_from_name("task", {"ProtocolName": "fMRI task-nBack run1"})
    'nback'
    """
    patterns = dict((mapping or default_mapping()).labels).get(entity, ())
    for field in ("SeriesDescription", "ProtocolName"):
        text = str(info.get(field) or "")
        for pattern in patterns:
            found = re.search(pattern, text, flags=re.IGNORECASE)
            label = re.sub(r"[^A-Za-z0-9]", "", found.group(1)) if found else ""
            if label:
                return label.upper() if entity in _UPPER_CASE_LABELS else label.lower()
    return ""


def _resolve(description: Description, info: Mapping[str, Any], mapping: SeriesMapping
             ) -> tuple[tuple[tuple[str, str], ...], str]:
    """Return the description's entities with labels from the name, and a missing one."""
    from mrishare.bids import schema

    required = schema.file_rules()[description.datatype][description.suffix].required
    resolved = []
    for entity, value in description.entities:
        if value == FROM_NAME:
            value = label_from_name(entity, info, mapping)
            if not value:
                if entity in required:
                    return (), entity
                continue
        resolved.append((entity, value))
    return tuple(resolved), ""


def classify(info: Mapping[str, Any], mapping: SeriesMapping | None = None) -> Classification:
    """Classify a series by the first description of the mapping whose criteria hold.

    A description whose entity ``<name>`` (required by BIDS, such as ``task``) finds no
    label in the series' name does not hold. A series no description takes is
    ``"unknown"``; its reason names the description it nearly met: named like it, but a
    number disagrees or a label is missing.

    Parameters
    ----------
    info : mapping
        DICOM attributes of the series (keywords as keys).
    mapping : SeriesMapping, optional
        Default: :func:`default_mapping`.

    Returns
    -------
    Classification
        ``outcome`` is a BIDS suffix, ``"skip"``, or ``"unknown"`` when no description
        holds.

    Examples
    --------
    >>> info = {"Modality": "MR", "SOPClassUID": "1.2.840.10008.5.1.4.1.1.4",
    ...         "SeriesDescription": "t2_tse_tra", "EchoTime": "98"}
    >>> found = classify(info)
    >>> found.outcome, found.reason
    ('T2w', 'named T2-weighted and long echo time (3D SPACE/CUBE/VISTA up to 650 ms)')
    >>> found = classify({**info, "EchoTime": "3"})
    >>> found.outcome, found.description.id
    ('unknown', 't2w-by-name')
    """
    mapping = mapping or default_mapping()
    features = series_features(info)
    near: tuple[Description, str] | None = None
    for description in mapping.descriptions:
        if description.holds(features):
            if description.skip:
                return Classification("skip", description.reason, description=description)
            entities, missing = _resolve(description, info, mapping)
            if not missing:
                return Classification(description.outcome, description.reason,
                                      description.datatype, description.suffix, entities,
                                      description)
            near = near or (description, f"meets description {description.name} "
                            f"({description.datatype}/{description.suffix}), but its name "
                            f"gives no {missing} label")
        elif near is None and description.suffix:
            failed = description.missed(features)
            if failed:
                values = "; ".join(f"{c.explain()} fails (it is "
                                   f"{_shown(features.get(c.field))})" for c in failed)
                near = (description, f"named like {description.datatype}/"
                        f"{description.suffix} (description {description.name}), but "
                        f"{values}")
    if near is None:
        return Classification("unknown", "no description of the series mapping holds: not "
                              "converted rather than guessed")
    return Classification("unknown", f"{near[1]}: not converted rather than guessed",
                          description=near[0])
