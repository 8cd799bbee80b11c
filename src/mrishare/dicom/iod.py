"""The type of an attribute in an object's IOD: what decides a combined action.

Table E.1-1 gives some attributes a combined action (``X/Z``, ``X/D``, ``Z/D``, ``X/Z/D``):
remove the attribute unless the object's IOD requires it (Type 2: then empty it; Type 1:
then give it a dummy value). The types come from the standard's IOD and module tables
(PS3.3), kept in ``mrishare/rules/iod_attribute_types.json``, which
``tools/make_iod_types.py`` derives from the tables the maintained package highdicom ships
(the file names its source and licence). Types ``1C`` and ``2C`` count as ``1`` and ``2``:
a combined action only applies to an attribute that is present.

An attribute listed in several modules of an IOD takes its strictest type there (1 before 2
before 3), so that no module the object may hold is made invalid.

Examples
--------
>>> from pydicom.datadict import tag_for_keyword
>>> types = attribute_types("1.2.840.10008.5.1.4.1.1.4.1")  # Enhanced MR Image
>>> types[()][tag_for_keyword("DeviceSerialNumber")], types[()][tag_for_keyword("ContentDate")]
(1, 1)
>>> attribute_types("1.2.3.4") is None  # not a SOP class of the standard
True
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from pydicom.datadict import tag_for_keyword

from mrishare import rules
from mrishare.errors import RuleFileError

__all__ = ["IOD_FILE", "IodTables", "attribute_types", "iod_of", "iod_tables"]

IOD_FILE = "iod_attribute_types.json"
_TYPES = {"1": 1, "1C": 1, "2": 2, "2C": 2, "3": 3}

Path = tuple[int, ...]
"""The tags of the sequences enclosing an attribute, outermost first (``()``: top level)."""


@dataclass(frozen=True)
class IodTables:
    """The content of ``iod_attribute_types.json``, checked.

    Parameters
    ----------
    source : str
        Where the tables come from (package and version), as the file says.
    sop_classes : dict of str to str
        SOP Class UID to IOD name.
    iods : dict of str to tuple of str
        IOD name to the modules (of interest) it holds.
    modules : dict of str to tuple of (path, tag, type)
        Module name to its attributes of interest: enclosing sequence tags, tag, type 1-3.
    """

    source: str
    sop_classes: Mapping[str, str]
    iods: Mapping[str, tuple[str, ...]]
    modules: Mapping[str, tuple[tuple[Path, int, int], ...]]


def _tag(keyword: str, name: str, where: str) -> int:
    tag = tag_for_keyword(keyword)
    if tag is None:
        raise RuleFileError(f"{name}: {where} names {keyword!r}, which is not a DICOM keyword.")
    return tag


@functools.cache
def iod_tables(name: str = IOD_FILE) -> IodTables:
    """Read and check ``iod_attribute_types.json`` (once).

    Parameters
    ----------
    name : str, default "iod_attribute_types.json"
        The shipped file, or a path to a file of the same form.

    Returns
    -------
    IodTables

    Raises
    ------
    RuleFileError
        When the file is not JSON, lacks a part, or names an unknown keyword, module or type.

    Examples
    --------
    >>> iod_tables().sop_classes["1.2.840.10008.5.1.4.1.1.4"]
    'mr-image'
    >>> iod_tables().source.startswith("highdicom")
    True
    """
    where = rules.path(name)
    try:
        content = json.loads(where.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise RuleFileError(f"{where.name}, line {error.lineno}: not JSON ({error.msg}).",
                            ) from None
    missing = [k for k in ("source", "sop_classes", "iods", "modules")
               if not isinstance(content, dict) or k not in content]
    if missing:
        raise RuleFileError(f"{where.name}: lacks {', '.join(missing)}; regenerate it with "
                            "tools/make_iod_types.py.")
    modules = {}
    for module, rows in content["modules"].items():
        parsed = []
        for row in rows:
            if not (isinstance(row, list) and len(row) == 3 and row[2] in _TYPES):
                raise RuleFileError(f"{where.name}: module {module} has a malformed row {row!r}"
                                    " (expected [path, keyword, type 1/1C/2/2C/3]).")
            path = tuple(_tag(k, where.name, f"module {module}")
                         for k in row[0].split("/") if k)
            parsed.append((path, _tag(row[1], where.name, f"module {module}"), _TYPES[row[2]]))
        modules[module] = tuple(parsed)
    iods = {}
    for iod, names in content["iods"].items():
        unknown = [m for m in names if m not in modules]
        if unknown:
            raise RuleFileError(f"{where.name}: IOD {iod} names unknown modules {unknown}.")
        iods[iod] = tuple(names)
    for uid, iod in content["sop_classes"].items():
        if iod not in iods:
            raise RuleFileError(f"{where.name}: SOP class {uid} names an unknown IOD {iod!r}.")
    return IodTables(str(content["source"]), MappingProxyType(dict(content["sop_classes"])),
                     MappingProxyType(iods), MappingProxyType(modules))


def iod_of(sop_class_uid: str) -> str | None:
    """Return the IOD of a SOP class (``"mr-image"``), or None when the tables lack it.

    Examples
    --------
    >>> iod_of("1.2.840.10008.5.1.4.1.1.481.2")
    'rt-dose'
    """
    return iod_tables().sop_classes.get(str(sop_class_uid).strip())


@functools.cache
def attribute_types(sop_class_uid: str) -> Mapping[Path, Mapping[int, int]] | None:
    """Return the types of the attributes of interest in a SOP class's IOD, by where they sit.

    Parameters
    ----------
    sop_class_uid : str

    Returns
    -------
    mapping or None
        Path of enclosing sequence tags (``()`` for the top level) to tag to type (1, 2 or
        3; the strictest where modules differ); None when the SOP class is not in the tables.
    """
    iod = iod_of(sop_class_uid)
    if iod is None:
        return None
    tables = iod_tables()
    found: dict[Path, dict[int, int]] = {}
    for module in tables.iods[iod]:
        for path, tag, kind in tables.modules[module]:
            types = found.setdefault(path, {})
            types[tag] = min(kind, types.get(tag, 3))
    return MappingProxyType({p: MappingProxyType(t) for p, t in found.items()})
