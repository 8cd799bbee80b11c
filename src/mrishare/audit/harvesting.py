"""Harvest what identifies the people of a source DICOM study, or read a list of values.

:func:`harvest` reads every DICOM file of a source tree (with
:func:`mrishare.readers.read_dicom`, the one reader of every command) and collects the values
of the attributes the identifiers table marks as harvested
(:func:`mrishare.identifiers.harvested_keywords`, :func:`~mrishare.identifiers.harvested_vrs`):
names, IDs, birth dates, addresses, staff, station, serial number, accession numbers, free
text typed at the console, dates, every original UID and the site's UID root, plus the
source's folder and file names. :func:`read_identifier_file` adds values you list yourself.

Examples
--------
>>> from mrishare import data
>>> ids = harvest(data.sample_path("dicom_study", verify=False))
>>> [m.kind for m in ids.find("Marieke")]
['patient name']
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from mrishare import identifiers as _table
from mrishare import readers
from mrishare.audit.elements import datasets, element_text, walk
from mrishare.audit.specificity import specificity
from mrishare.audit.values import VARIANT_KINDS, IdentifierSet
from mrishare.errors import BadInputError

__all__ = ["harvest", "harvest_kind", "read_identifier_file"]

log = logging.getLogger("mrishare")

_STANDARD_UID = re.compile(r"(ClassUID|TransferSyntaxUID)$")


def harvest_kind(keyword: str, vr: str) -> str | None:
    """Return the kind under which an element's values are harvested, or None.

    By keyword first (the identifiers table), else by value representation; an attribute
    the table lists as not harvested (``PatientSex``, ``StudyTime``...) is never harvested,
    whatever its VR.

    Parameters
    ----------
    keyword : str
        The element's keyword (``""`` for private elements).
    vr : str
        Its value representation.

    Returns
    -------
    str or None

    Examples
    --------
    >>> harvest_kind("PatientID", "LO"), harvest_kind("", "PN"), harvest_kind("PatientSex", "CS")
    ('patient id', 'person name', None)
    """
    if vr == "SQ":
        return None
    keywords = _table.harvested_keywords()
    if keyword in keywords:
        return keywords[keyword]
    if keyword and any(a.keyword == keyword for a in _table.attributes()):
        return None  # listed, and not harvested: the table says why
    return _table.harvested_vrs().get(vr)


def harvest(source: str | Path, identifiers: IdentifierSet | None = None) -> IdentifierSet:
    """Collect the identifiers of a source DICOM tree.

    Parameters
    ----------
    source : str or Path
        A folder of DICOM files (any depth), or one file. It is only read.
    identifiers : IdentifierSet, optional
        Add to this set rather than a new one.

    Returns
    -------
    IdentifierSet
        The values of every harvested attribute (see :func:`harvest_kind`), UIDs and the
        site's UID root, and the names of the source's folders and files.

    Examples
    --------
    >>> from mrishare import data
    >>> ids = harvest(data.sample_path("dicom_study", verify=False))
    >>> "1.2.999.4711" in ids.uid_roots
    True
    """
    source = Path(source)
    ids = identifiers if identifiers is not None else IdentifierSet()
    files = sorted(p for p in source.rglob("*") if p.is_file()) if source.is_dir() else [source]
    uids: list[str] = []
    generic_file = re.compile(specificity().generic_file_name)
    root = source if source.is_dir() else source.parent
    for path in files:
        for part in path.relative_to(root).parts[:-1]:
            ids.add_value(part, "source path name")
        stem = path.name.split(".")[0]
        if not generic_file.match(stem):
            ids.add_value(stem, "source path name")
        try:
            ds = readers.read_dicom(path, stop_before_pixels=True)
        except BadInputError as error:  # not DICOM, or damaged: nothing to harvest
            log.debug("not harvested (%s): %s", error, path.name)
            continue
        for _, dataset in datasets(ds):
            for _, elem in walk(dataset):
                kind = harvest_kind(elem.keyword or "", elem.VR or "")
                if not kind:
                    continue
                if kind == "uid":
                    if _STANDARD_UID.search(elem.keyword or ""):
                        continue
                    for uid in element_text(elem).split("\\"):
                        ids.add_uid(uid)
                        uids.append(uid.strip())
                    continue
                for value in element_text(elem).split("\\"):
                    ids.add_value(value, kind)
    root_uid = _common_root([u for u in uids if u and not u.startswith("1.2.840.10008.")])
    if root_uid:
        ids.add_uid_root(root_uid)
    return ids


def _common_root(uids: list[str]) -> str:
    if not uids:
        return ""
    split = [u.split(".") for u in uids]
    common: list[str] = []
    for parts in zip(*split, strict=False):
        if len(set(parts)) != 1:
            break
        common.append(parts[0])
    if len(common) == min(len(s) for s in split):  # one UID only: its parent is the root
        common = common[:-1]
    return ".".join(common)


def read_identifier_file(path: str | Path, identifiers: IdentifierSet | None = None
                         ) -> IdentifierSet:
    r"""Read values to search from a text file: one per line, ``#`` starts a comment.

    A line may give a kind after a tab (``Jansen^Marieke<TAB>patient name``) so that the
    value's variants are searched too; without one the value is searched as written.

    Parameters
    ----------
    path : str or Path
        The text file (UTF-8).
    identifiers : IdentifierSet, optional
        Add to this set rather than a new one.

    Returns
    -------
    IdentifierSet

    Raises
    ------
    FileNotFoundError
        When the file does not exist.

    Examples
    --------
    >>> import tempfile, os
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     p = os.path.join(tmp, "ids.txt")
    ...     _ = open(p, "w").write("# study codes\nPROJ-2024-117\n")
    ...     [m.kind for m in read_identifier_file(p).find("see PROJ-2024-117")]
    ['listed']
    """
    ids = identifiers if identifiers is not None else IdentifierSet()
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise FileNotFoundError(
            f"Identifier file {path} does not exist. Give a text file with one value per line."
        ) from None
    for line in lines:
        line = line.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        value, _, kind = line.partition("\t")
        kind = kind.strip()
        if kind == "uid":
            ids.add_uid(value)
        elif kind in VARIANT_KINDS:
            ids.add_value(value, kind)
        else:
            ids.add_value(value.strip(), "listed")
    return ids
