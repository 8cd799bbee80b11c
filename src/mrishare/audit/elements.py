"""Walk a DICOM data set for the audit: every element, nested ones and the file meta.

Both halves of the audit read DICOM the same way: :func:`mrishare.audit.harvest` collects the
values of a source, :func:`mrishare.audit.audit` searches an output. Files are read by
:func:`mrishare.readers.read_dicom`, the one reader every command uses (files without a file
meta header included).

Examples
--------
>>> from mrishare import data, readers
>>> ds = readers.read_dicom(data.sample_path("pydicom_MR_small"), stop_before_pixels=True)
>>> places = [place for _, dataset in datasets(ds) for place, _ in walk(dataset)]
>>> places[0].startswith("(0002,")
True
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

__all__ = ["datasets", "element_name", "element_text", "walk"]

_BINARY_LIMIT = 1 << 20  # bytes of one binary DICOM element searched as text
_PIXEL_TAGS = {0x7FE00010, 0x7FE00008, 0x7FE00009}


def element_name(elem: Any) -> str:
    """Return a readable name of an element: its tag and keyword, or its private creator.

    Parameters
    ----------
    elem : pydicom.dataelem.DataElement

    Returns
    -------
    str
        ``"(0010,0010) PatientName"`` or ``"(0029,1010) private [ACME]"``.
    """
    tag = f"({elem.tag.group:04X},{elem.tag.element:04X})"
    if elem.tag.is_private:
        creator = getattr(elem, "private_creator", None)
        return f"{tag} private" + (f" [{creator}]" if creator else "")
    return f"{tag} {elem.keyword or elem.name}"


def walk(ds: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Yield every element of a data set, nested sequences included, with its place.

    Parameters
    ----------
    ds : pydicom.dataset.Dataset
    prefix : str, default ""
        Put before every place (the path of the enclosing sequence item).

    Yields
    ------
    tuple of (str, DataElement)
        ``"(0032,1064) RequestedProcedureCodeSequence[0] > (0008,0100) CodeValue"`` and the
        element.
    """
    for elem in ds:
        place = prefix + element_name(elem)
        yield place, elem
        if elem.VR == "SQ" and elem.value is not None:
            for i, item in enumerate(elem.value):
                yield from walk(item, f"{place}[{i}] > ")


def element_text(elem: Any) -> str:
    r"""Return an element's value as searchable text (binary values decoded byte for byte).

    Pixel data and sequences give ``""``; multiple values are joined by ``\``.

    Parameters
    ----------
    elem : pydicom.dataelem.DataElement

    Returns
    -------
    str
    """
    if elem.tag in _PIXEL_TAGS or elem.VR == "SQ" or elem.value is None:
        return ""
    value = elem.value
    if isinstance(value, bytes | bytearray):
        return bytes(value[:_BINARY_LIMIT]).decode("latin-1")
    if isinstance(value, list | tuple) or type(value).__name__ == "MultiValue":
        return "\\".join(str(v) for v in value)
    return str(value)


def datasets(ds: Any) -> Iterator[tuple[str, Any]]:
    """Yield the file meta header (with prefix ``"file meta > "``), then the data set.

    Parameters
    ----------
    ds : pydicom.dataset.Dataset

    Yields
    ------
    tuple of (str, Dataset)
    """
    if getattr(ds, "file_meta", None) is not None:
        yield "file meta > ", ds.file_meta
    yield "", ds
