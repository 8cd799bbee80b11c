"""Which DICOM series become which BIDS files: the series mapping, read from a rule file.

The mapping is data (``mrishare/rules/series_mapping.yaml``), in the shape of a dcm2bids
configuration: a list of descriptions, each with ``criteria`` on header attributes and
either a BIDS ``datatype``, ``suffix`` and optional ``entities``, or ``skip: <reason>``.
:func:`load_mapping` reads and checks such a file (an unknown attribute, a bad range, a
suffix BIDS does not know: :class:`~mrishare.errors.RuleFileError` naming the description
and its line). :func:`classify` gives a series the first description whose criteria hold;
a series that meets none is ``"unknown"``: skipped and reported, never guessed.

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

from mrishare import rules
from mrishare.bids import schema
from mrishare.errors import RuleFileError

__all__ = [
    "DEFAULT_MAPPING",
    "FIELDS",
    "Classification",
    "Criterion",
    "Description",
    "SeriesMapping",
    "classify",
    "default_mapping",
    "load_mapping",
    "series_features",
]

DEFAULT_MAPPING = "series_mapping.yaml"
"""The shipped mapping, in :func:`mrishare.rules.folder`."""

FIELDS: dict[str, str] = {
    "SeriesDescription": "text", "ProtocolName": "text", "SequenceName": "text",
    "ImageType": "text", "ScanningSequence": "text", "SequenceVariant": "text",
    "ScanOptions": "text", "MRAcquisitionType": "text", "Modality": "text",
    "SOPClassUID": "text", "Manufacturer": "text", "Words": "text",
    "EchoTime": "number", "RepetitionTime": "number", "InversionTime": "number",
    "FlipAngle": "number", "EchoNumbers": "number",
}
"""The attributes criteria may test, and whether they hold text or a number.

``Words`` is made from the header: the words of SeriesDescription, ProtocolName and
SequenceName (see :func:`series_features`)."""

_WORD_SOURCES = ("SeriesDescription", "ProtocolName", "SequenceName")
_NUMERIC = ("lt", "le", "gt", "ge", "btw", "btwe")
_DESCRIPTION_KEYS = {"id", "criteria", "datatype", "suffix", "entities", "skip", "reason"}
_WRITTEN_BY_MRISHARE = {"sub", "ses", "run"}


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
        BIDS entities for the file name, e.g. ``(("task", "rest"),)``.
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

    @property
    def outcome(self) -> str:
        """Return the suffix, or ``"skip"``."""
        return "skip" if self.skip else self.suffix

    def holds(self, features: Mapping[str, Any]) -> bool:
        """Say whether every criterion holds for a series' features."""
        return all(c.holds(features.get(c.field)) for c in self.criteria)


@dataclass(frozen=True)
class SeriesMapping:
    """A checked series mapping: descriptions in the order they are tried.

    Attributes
    ----------
    descriptions : tuple of Description
    source : str
        The file it was read from (its name).
    """

    descriptions: tuple[Description, ...]
    source: str = DEFAULT_MAPPING


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
        The description that decided (None for ``"unknown"``).
    """

    outcome: str
    reason: str
    datatype: str = ""
    suffix: str = ""
    entities: tuple[tuple[str, str], ...] = ()
    description: Description | None = None

    @property
    def converted(self) -> bool:
        """Return True when the series is converted (mapped to a datatype and suffix)."""
        return bool(self.suffix)


# ----------------------------------------------------------------------------- reading


def _lines(text: str) -> list[int]:
    """Return the line (from 1) of each item under ``descriptions:`` in a YAML text."""
    import yaml

    try:
        root = yaml.compose(text)
    except yaml.YAMLError:
        return []
    if isinstance(root, yaml.MappingNode):
        for key, value in root.value:
            if key.value == "descriptions" and isinstance(value, yaml.SequenceNode):
                return [item.start_mark.line + 1 for item in value.value]
    return []


def _patterns(value: Any, where: str) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    if not items or any(isinstance(v, dict | list) or v is None or v == "" for v in items):
        raise RuleFileError(f"{where}: expected a pattern or a list of patterns, got {value!r}.")
    return tuple(str(v).lower() for v in items)


def _float(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise RuleFileError(f"{where}: expected a number, got {value!r}.")
    return float(value)


def _criterion(name: str, test: Any, where: str) -> Criterion:
    if name not in FIELDS:
        raise RuleFileError(f"{where}: unknown attribute {name!r}; known: "
                            f"{', '.join(sorted(FIELDS))}.")
    where = f"{where}, {name}"
    if FIELDS[name] == "number":
        if isinstance(test, int | float) and not isinstance(test, bool):
            return Criterion(name, bounds=(("eq", _float(test, where)),))
        if not isinstance(test, dict) or not test:
            raise RuleFileError(f"{where}: expected a number or a comparison such as "
                                f"{{ge: 50, lt: 400}}, got {test!r}.")
        bounds: list[tuple[str, float]] = []
        for op, limit in test.items():
            if op not in _NUMERIC:
                raise RuleFileError(f"{where}: unknown comparison {op!r}; known: "
                                    f"{', '.join(_NUMERIC)}.")
            if op in ("btw", "btwe"):
                if not isinstance(limit, list) or len(limit) != 2:
                    raise RuleFileError(f"{where}: {op} needs two numbers [low, high], "
                                        f"got {limit!r}.")
                low, high = _float(limit[0], where), _float(limit[1], where)
                if low >= high:
                    raise RuleFileError(f"{where}: the range {op} [{limit[0]}, {limit[1]}] is "
                                        "empty: give the lower bound first.")
                bounds += ([("gt", low), ("lt", high)] if op == "btw"
                           else [("ge", low), ("le", high)])
            else:
                bounds.append((op, _float(limit, where)))
        lows = [v for op, v in bounds if op in ("gt", "ge")]
        highs = [v for op, v in bounds if op in ("lt", "le")]
        if lows and highs and max(lows) >= min(highs):
            raise RuleFileError(f"{where}: no number is above {max(lows):g} and below "
                                f"{min(highs):g}: the range is empty.")
        return Criterion(name, bounds=tuple(bounds))
    if isinstance(test, dict):
        unknown = set(test) - {"match", "not"}
        if unknown or not test:
            raise RuleFileError(f"{where}: a text test takes patterns, or {{match: ...}} "
                                f"and {{not: ...}}; got {sorted(unknown) or test!r}.")
        return Criterion(name, match=_patterns(test["match"], where) if "match" in test else (),
                         exclude=_patterns(test["not"], where) if "not" in test else ())
    return Criterion(name, match=_patterns(test, where))


def _entities(given: Any, datatype: str, suffix: str, where: str) -> tuple[tuple[str, str], ...]:
    rule = schema.file_rules()[datatype][suffix]
    if given is None:
        given = {}
    if not isinstance(given, dict):
        raise RuleFileError(f"{where}: entities must be a mapping such as {{task: rest}}.")
    found = {}
    for name, label in given.items():
        name = str(name)
        if name in _WRITTEN_BY_MRISHARE:
            raise RuleFileError(f"{where}: the entity {name} is written by mrishare; leave "
                                "it out.")
        if name not in rule.entities:
            raise RuleFileError(f"{where}: BIDS does not allow the entity {name!r} for "
                                f"{datatype}/{suffix}; allowed: "
                                f"{', '.join(sorted(rule.entities - _WRITTEN_BY_MRISHARE))}.")
        text = str(label)
        pattern = r"[0-9]+" if rule.formats.get(name) == "index" else r"[A-Za-z0-9]+"
        if not re.fullmatch(pattern, text):
            kind = "digits" if pattern == r"[0-9]+" else "letters and digits"
            raise RuleFileError(f"{where}: the {name} entity must be {kind} only, got "
                                f"{label!r}.")
        found[name] = text
    missing = rule.required - set(found) - _WRITTEN_BY_MRISHARE
    if missing:
        raise RuleFileError(f"{where}: BIDS requires the entity {', '.join(sorted(missing))} "
                            f"for {datatype}/{suffix}: add it under entities.")
    order = schema.entity_order()
    return tuple(sorted(found.items(), key=lambda item: order.index(item[0])))


def _description(entry: Any, index: int, line: int, source: str) -> Description:
    where = f"{source}, description {index}" + (f" (line {line})" if line else "")
    if not isinstance(entry, dict):
        raise RuleFileError(f"{where}: expected a mapping with criteria and a suffix or skip.")
    unknown = set(entry) - _DESCRIPTION_KEYS
    if unknown:
        raise RuleFileError(f"{where}: unknown key {sorted(unknown)[0]!r}; known: "
                            f"{', '.join(sorted(_DESCRIPTION_KEYS))}.")
    criteria = entry.get("criteria")
    if not isinstance(criteria, dict) or not criteria:
        raise RuleFileError(f"{where}: criteria are missing (a description without criteria "
                            "would take every series).")
    tests = tuple(_criterion(str(k), v, where) for k, v in criteria.items())
    skip = str(entry.get("skip") or "")
    if skip:
        extra = {"datatype", "suffix", "entities"} & set(entry)
        if extra:
            raise RuleFileError(f"{where}: give either skip or datatype and suffix, not both "
                                f"(found skip and {sorted(extra)[0]}).")
        return Description(tests, skip=skip, reason=skip, id=str(entry.get("id", "")),
                           index=index, line=line)
    datatype, suffix = str(entry.get("datatype") or ""), str(entry.get("suffix") or "")
    if not suffix:
        raise RuleFileError(f"{where}: the suffix is missing (e.g. suffix: T1w), or give "
                            "skip: <reason>.")
    allowed = schema.file_rules()
    if datatype not in allowed:
        raise RuleFileError(f"{where}: datatype {datatype or '(missing)'!r} is not an MRI "
                            f"datatype; known: {', '.join(allowed)}.")
    if suffix not in allowed[datatype]:
        raise RuleFileError(f"{where}: BIDS has no suffix {suffix!r} in {datatype}; known: "
                            f"{', '.join(sorted(allowed[datatype]))}.")
    reason = str(entry.get("reason") or f"meets description {index} of {source}")
    return Description(tests, datatype, suffix, _entities(entry.get("entities"), datatype,
                                                          suffix, where),
                       reason=reason, id=str(entry.get("id", "")), index=index, line=line)


def load_mapping(path: str | Path = DEFAULT_MAPPING) -> SeriesMapping:
    """Read and check a series mapping file.

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
        Naming the file, the description (from 1) and its line: invalid YAML, an unknown
        key or attribute, a bad range, a missing or unknown datatype or suffix, entities BIDS
        does not allow.

    Examples
    --------
    >>> mapping = load_mapping()
    >>> mapping.descriptions[0].skip
    'not MR (another modality)'
    """
    where = rules.path(path)
    content = rules.read_yaml(where)
    if not isinstance(content, dict) or not isinstance(content.get("descriptions"), list):
        raise RuleFileError(f"{where.name}: expected a mapping with a list 'descriptions:'.")
    unknown = set(content) - {"descriptions"}
    if unknown:
        raise RuleFileError(f"{where.name}: unknown top-level key {sorted(unknown)[0]!r}; "
                            "only 'descriptions' is read.")
    lines = _lines(where.read_text(encoding="utf-8"))
    entries = content["descriptions"]
    return SeriesMapping(tuple(
        _description(entry, index, lines[index - 1] if index <= len(lines) else 0, where.name)
        for index, entry in enumerate(entries, start=1)), where.name)


@functools.cache
def default_mapping() -> SeriesMapping:
    """Return the shipped series mapping (read and checked once).

    Returns
    -------
    SeriesMapping

    Examples
    --------
    >>> [d.suffix for d in default_mapping().descriptions if d.suffix][:3]
    ['FLAIR', 'T1w', 'T2w']
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


def classify(info: Mapping[str, Any], mapping: SeriesMapping | None = None) -> Classification:
    """Classify a series by the first description of the mapping whose criteria hold.

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
    ('T2w', 'named T2-weighted and long echo time')
    >>> classify({**info, "EchoTime": "3"}).outcome
    'skip'
    """
    features = series_features(info)
    for description in (mapping or default_mapping()).descriptions:
        if description.holds(features):
            return Classification(description.outcome, description.reason, description.datatype,
                                  description.suffix, description.entities, description)
    return Classification("unknown", "no description of the series mapping holds: skipped "
                          "rather than guessed")
