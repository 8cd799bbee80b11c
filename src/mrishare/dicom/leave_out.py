"""Files not passed on: pixels that may show text or a face, documents and indexes.

The header profile cannot remove a name burned into a screenshot or a face in a photograph,
nor clean a report's free text. Such objects are left out of a shared copy, and the report
says why. The kinds left out are listed, with their reasons, in
``mrishare/rules/left_out_sop_classes.tsv``; a file whose Burned In Annotation is ``YES`` is
left out too.

Examples
--------
>>> ds = Dataset()
>>> ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
>>> leave_out_reason(ds)
'Secondary Capture (a screenshot): text may be burned in'
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass

from pydicom.dataset import Dataset

from mrishare import rules
from mrishare.dicom.people import as_dataset
from mrishare.dicom.values import text
from mrishare.errors import BadInputError, RuleFileError
from mrishare.readers import read_dicom

__all__ = ["LeftOutClass", "leave_out_reason", "left_out_classes"]

LEFT_OUT_FILE = "left_out_sop_classes.tsv"
BURNED_IN = "BurnedInAnnotation is YES: text is burned into the pixels"

_UID = re.compile(r"^[0-9]+(\.[0-9]+)+$")


@dataclass(frozen=True)
class LeftOutClass:
    """A kind of DICOM object (a SOP class, or a family of them) that is not passed on.

    Parameters
    ----------
    uid : str
        The SOP Class UID, or a prefix that covers every UID continuing with a dot.
    reason : str
        What the report says.
    """

    uid: str
    reason: str

    def covers(self, sop_class: str) -> bool:
        """Say whether a SOP Class UID is this one or one of its family.

        Examples
        --------
        >>> family = LeftOutClass("1.2.3", "x")
        >>> family.covers("1.2.3.4"), family.covers("1.2.34")
        (True, False)
        """
        return sop_class == self.uid or sop_class.startswith(self.uid + ".")


@functools.cache
def left_out_classes(name: str = LEFT_OUT_FILE) -> tuple[LeftOutClass, ...]:
    """Read and check ``left_out_sop_classes.tsv`` (once).

    Parameters
    ----------
    name : str, default "left_out_sop_classes.tsv"
        The shipped file, or a path to a file of the same form.

    Returns
    -------
    tuple of LeftOutClass

    Raises
    ------
    RuleFileError
        Naming the file and the line of a row that is not a UID, or a UID listed twice.

    Examples
    --------
    >>> [c.reason.split(":")[0] for c in left_out_classes()][-1]
    'DICOMDIR'
    """
    found: dict[str, int] = {}
    table = []
    for line, row in rules.read_tsv_numbered(name, required=["sop_class_uid", "reason"]):
        uid = row["sop_class_uid"]
        if not _UID.match(uid) or len(uid) > 64:
            raise RuleFileError(f"{name}, line {line}: {uid!r} is not a UID (digits and dots, "
                                "at most 64 characters).")
        if uid in found:
            raise RuleFileError(f"{name}, line {line}: {uid} already stands on line "
                                f"{found[uid]}.")
        found[uid] = line
        table.append(LeftOutClass(uid, row["reason"]))
    return tuple(table)


def _header(path: str | os.PathLike) -> Dataset:
    """Read a file's header; a DICOMDIR (no SOP Instance UID) only for what decides here."""
    try:
        return as_dataset(path)
    except BadInputError:
        try:
            return read_dicom(path, specific_tags=["SOPClassUID", "BurnedInAnnotation"])
        except BadInputError:
            pass
        raise


def leave_out_reason(ds: str | os.PathLike | Dataset) -> str | None:
    """Say why a file is not passed on (burned-in text, a photograph, a document), or None.

    Parameters
    ----------
    ds : path or pydicom.Dataset

    Returns
    -------
    str or None

    Raises
    ------
    BadInputError
        When a file given by its path cannot be read as DICOM.

    Examples
    --------
    >>> ds = Dataset()
    >>> ds.BurnedInAnnotation = "YES"
    >>> leave_out_reason(ds)
    'BurnedInAnnotation is YES: text is burned into the pixels'
    >>> leave_out_reason(Dataset()) is None
    True
    """
    if not isinstance(ds, Dataset):
        ds = _header(ds)
    if text(ds, "BurnedInAnnotation").upper() == "YES":
        return BURNED_IN
    meta = getattr(ds, "file_meta", None) or Dataset()
    sop = text(ds, "SOPClassUID") or text(meta, "MediaStorageSOPClassUID")
    for kind in left_out_classes():
        if kind.covers(sop):
            return kind.reason
    return None
