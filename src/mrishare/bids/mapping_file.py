"""Reading a series mapping file, and saying exactly where it is wrong.

The file is YAML in the shape of a dcm2bids configuration (see the comments at the top of
``mrishare/rules/series_mapping.yaml``). Every description is checked when the file is
read: the attributes its criteria test (:data:`~mrishare.bids.mapping.FIELDS`), the
comparisons and ranges, the datatype, suffix and entities against the installed BIDS schema
(:func:`mrishare.bids.schema.file_rules`). A mistake raises
:class:`~mrishare.errors.RuleFileError` naming the file, the description (from 1) and its
line, so a typo is found before a scan is processed.

Examples
--------
>>> from mrishare.bids import mapping_file
>>> [d.id for d in mapping_file.read("series_mapping.yaml").descriptions][:2]
['not-mr', 'not-mr-image']
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from mrishare import rules
from mrishare.bids import mapping, schema
from mrishare.bids.mapping import FIELDS, FROM_NAME, Criterion, Description, SeriesMapping
from mrishare.errors import RuleFileError

__all__ = ["combine", "load_config", "read"]

_NUMERIC = ("lt", "le", "gt", "ge", "btw", "btwe")
_DESCRIPTION_KEYS = {"id", "criteria", "datatype", "suffix", "entities", "skip", "reason"}
_TOP_KEYS = {"descriptions", "labels_from_names", "extends_default"}
_WRITTEN_BY_MRISHARE = {"sub", "ses", "run"}


def _lines(text: str) -> list[int]:
    """Return the line (from 1) of each item under ``descriptions:`` in a YAML text."""
    import yaml

    try:
        root = yaml.compose(text, Loader=rules.yaml_loader())
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
        if text == FROM_NAME:
            found[name] = text
            continue
        pattern = r"[0-9]+" if rule.formats.get(name) == "index" else r"[A-Za-z0-9]+"
        if not re.fullmatch(pattern, text):
            kind = "digits" if pattern == r"[0-9]+" else "letters and digits"
            raise RuleFileError(f"{where}: the {name} entity must be {kind} only (or "
                                f"{FROM_NAME} to take it from the series' name), got "
                                f"{label!r}.")
        found[name] = text
    missing = rule.required - set(found) - _WRITTEN_BY_MRISHARE - {"echo", "part"}
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
                           index=index, line=line, source=source)
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
                       reason=reason, id=str(entry.get("id", "")), index=index, line=line,
                       source=source)


def _labels(given: Any, source: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Check ``labels_from_names``: entity -> regular expressions with one group."""
    if given is None:
        return ()
    if not isinstance(given, dict):
        raise RuleFileError(f"{source}, labels_from_names: expected entity -> list of "
                            "patterns, e.g. {task: ['task-([a-z0-9]+)']}.")
    known = set(schema.entity_order()) - {"sub", "ses", "run"}
    found = []
    for entity, patterns in given.items():
        where = f"{source}, labels_from_names, {entity}"
        if entity not in known:
            raise RuleFileError(f"{where}: not an entity mrishare takes from names; known: "
                                f"{', '.join(sorted(known))}.")
        items = patterns if isinstance(patterns, list) else [patterns]
        for pattern in items:
            try:
                groups = re.compile(str(pattern)).groups
            except re.error as error:
                raise RuleFileError(f"{where}: {pattern!r} is not a regular expression "
                                    f"({error}).") from None
            if groups < 1:
                raise RuleFileError(f"{where}: {pattern!r} needs a group in parentheses "
                                    "around the label.")
        found.append((str(entity), tuple(str(p) for p in items)))
    return tuple(found)


def read(path: str | Path) -> SeriesMapping:
    """Read and check a series mapping file.

    Parameters
    ----------
    path : str or Path
        A YAML file: a shipped file by name (``"series_mapping.yaml"``), or a path.

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
    >>> read("series_mapping.yaml").descriptions[0].skip
    'not MR (another modality)'
    """
    where = rules.path(path)
    content = rules.read_yaml(where)
    if not isinstance(content, dict) or not isinstance(content.get("descriptions"), list):
        raise RuleFileError(f"{where.name}: expected a mapping with a list 'descriptions:'.")
    if set(content) - _TOP_KEYS:
        raise RuleFileError(f"{where.name}: unknown top-level key "
                            f"{sorted(set(content) - _TOP_KEYS)[0]!r}; known: "
                            f"{', '.join(sorted(_TOP_KEYS))}.")
    extends = content.get("extends_default", True)
    if not isinstance(extends, bool):
        raise RuleFileError(f"{where.name}: extends_default must be true or false.")
    lines, entries = _lines(where.read_text(encoding="utf-8")), content["descriptions"]
    return SeriesMapping(tuple(
        _description(entry, index, lines[index - 1] if index <= len(lines) else 0, where.name)
        for index, entry in enumerate(entries, start=1)), where.name,
        _labels(content.get("labels_from_names"), where.name), extends)


def combine(first: SeriesMapping, then: SeriesMapping) -> SeriesMapping:
    """Return one mapping that tries ``first``'s descriptions, then ``then``'s.

    Labels from names are joined the same way (``first``'s patterns tried first).

    Examples
    --------
    >>> shipped = mapping.default_mapping()
    >>> len(combine(shipped, shipped).descriptions) == 2 * len(shipped.descriptions)
    True
    """
    labels: dict[str, tuple[str, ...]] = {}
    for entity, patterns in (*first.labels, *then.labels):
        labels[entity] = labels.get(entity, ()) + patterns
    return SeriesMapping(first.descriptions + then.descriptions,
                         f"{first.source} + {then.source}", tuple(labels.items()))


def load_config(path: str | Path | None = None) -> SeriesMapping:
    """Return the mapping for a user's file: its descriptions first, then the shipped ones.

    Precedence: a series takes the first description that holds, and the user's
    descriptions come first, so they override the shipped ones; the shipped mapping
    still maps what the user's file does not mention. A file with
    ``extends_default: false`` replaces the shipped mapping instead.

    Parameters
    ----------
    path : str or Path, optional
        The user's YAML file (same shape as ``rules/series_mapping.yaml``). None: the
        shipped mapping alone.

    Returns
    -------
    SeriesMapping

    Raises
    ------
    RuleFileError
        When the file is wrong, naming the description and its line.

    Examples
    --------
    >>> load_config() is mapping.default_mapping()
    True
    """
    if path is None:
        return mapping.default_mapping()
    own = read(path)
    return combine(own, mapping.default_mapping()) if own.extends_default else own

