"""Read an element's value as text straight from the bytes read, when that is safe.

pydicom reads a file's elements as bytes and converts each one the first time it is used
(into a UID, a person's name, a date...). De-identification needs a handful of values only as
text (who the file belongs to, its study, its UIDs), and most of them it replaces right
away: converting them first costs more than the rest of the work on them. :func:`text`
decodes a plain ASCII value from its bytes as pydicom would, and leaves pydicom to convert
anything else (several values, other character sets, numbers).

Examples
--------
>>> from pydicom.dataset import Dataset
>>> ds = Dataset()
>>> ds.PatientID = "P-0047"
>>> text(ds, "PatientID")
'P-0047'
>>> text(ds, "PatientName", "none")
'none'
"""

from __future__ import annotations

from typing import Any

from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset

__all__ = ["raw_text", "text"]

_TEXT_VRS = frozenset({"AE", "AS", "CS", "DA", "DT", "LO", "LT", "PN", "SH", "ST", "TM",
                       "UC", "UI", "UR", "UT"})
"""VRs whose single ASCII value pydicom turns into the text it holds, trailing spaces and
nulls removed (numbers, IS and DS, become numbers: left to pydicom)."""


def raw_text(element: Any) -> str | None:
    r"""Return a not-yet-converted element's single ASCII value as text, or None.

    None means "ask pydicom": the element was already converted, or its value is not one
    plain ASCII text (several values, escape sequences of other character sets, bytes
    outside ASCII, a number, a sequence).

    Parameters
    ----------
    element : pydicom.dataelem.RawDataElement or DataElement
        As :meth:`pydicom.Dataset.get_item` gives it.

    Returns
    -------
    str or None

    Examples
    --------
    >>> from pydicom.dataelem import RawDataElement
    >>> from pydicom.tag import Tag
    >>> raw_text(RawDataElement(Tag(0x00080018), "UI", 6, b"1.2.3\0", 0, False, True))
    '1.2.3'
    >>> raw_text(RawDataElement(Tag(0x00100010), "PN", 4, b"A\\B ", 0, False, True)) is None
    True
    """
    if not isinstance(element, RawDataElement):
        return None
    value = element.value
    if value is None:
        return None
    vr = element.VR
    if not vr:  # implicit VR: the dictionary's
        try:
            vr = dictionary_VR(element.tag)
        except KeyError:
            return None
    if vr not in _TEXT_VRS or not value.isascii() or b"\\" in value or b"\x1b" in value:
        return None
    return value.decode("ascii").rstrip("\0 ")


def text(ds: Dataset, tag: int | str, default: str = "") -> str:
    """Return an element's value as text: ``str(ds.get(tag) or default)``, made faster.

    Plain ASCII values are decoded from the bytes read, without pydicom converting them;
    any other value is converted by pydicom, so the text is the same either way.

    Parameters
    ----------
    ds : pydicom.Dataset
    tag : int or str
        A tag or a keyword.
    default : str
        When the element is missing or empty.

    Returns
    -------
    str

    Examples
    --------
    >>> ds = Dataset()
    >>> ds.Modality = "MR"
    >>> text(ds, 0x00080060)
    'MR'
    """
    number = tag_for_keyword(tag) if isinstance(tag, str) else tag
    if number is None:
        raise KeyError(f"{tag!r} is not a DICOM keyword")
    element = ds.get_item(number)
    if element is None:
        return default
    fast = raw_text(element)
    if fast is not None:
        return fast or default
    return str(ds[number].value or default)
