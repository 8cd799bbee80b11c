"""Where identity hides in one DICOM file: the table chapter 2 of the book shows.

Every element the profile would change is listed with its value, the standard's action and
why it identifies someone (from :func:`mrishare.identifiers.why`, the one table of
identifying attributes), including elements inside sequences, private elements and the file
meta header.

Examples
--------
>>> from mrishare import data
>>> table = list_identifiers(data.sample_path("pydicom_MR_small"))
>>> table.loc[table["attribute"] == "PatientName", "why"].iloc[0]
"the participant's name"
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from pydicom.dataset import Dataset

from mrishare import dicom, identifiers

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["PRIVATE", "list_identifiers"]

PRIVATE = "X (private)"
"""The action column of a private element: removed (unless on the safe list)."""

_COLUMNS = ["where", "tag", "attribute", "value", "action", "why"]


def _text(value: object) -> str:
    if isinstance(value, bytes):
        value = value.decode("latin-1", "replace")
    text = "" if value is None else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def list_identifiers(ds: str | os.PathLike | Dataset, options: dicom.Options | None = None,
                     ) -> pd.DataFrame:
    """List every element the profile would change, with its value and why it identifies.

    Empty elements are not listed. Sequences are searched too (the ``where`` column shows
    the path), and so are private elements and the file meta header.

    Parameters
    ----------
    ds : path or pydicom.Dataset
    options : mrishare.dicom.Options, optional
        With options, elements they keep are not listed.

    Returns
    -------
    pandas.DataFrame
        Columns ``where`` (empty at the top level, ``file meta``, or the path into
        sequences), ``tag``, ``attribute``, ``value``, ``action`` (the profile's), ``why``.

    Examples
    --------
    >>> from mrishare import data
    >>> table = list_identifiers(data.sample_path("pydicom_MR_small"))
    >>> "PatientName" in set(table["attribute"])
    True
    """
    import pandas as pd

    ds = dicom.as_dataset(ds)
    options = options or dicom.Options()
    plan, profile = dicom.plan(options), dicom.load_profile(options.edition)
    rows: list[tuple[str, str, str, str, str, str]] = []

    def visit(dataset: Dataset, where: str) -> None:
        for elem in dataset:
            tag = elem.tag
            name = elem.keyword or elem.name
            action = PRIVATE if tag.is_private else profile.action(tag)
            kept = not tag.is_private and plan.get(tag, "K") == "K"
            if elem.VR == "SQ":
                if action and not kept:
                    rows.append((where, str(tag), name, f"{len(elem.value)} item(s)", action,
                                 identifiers.why(elem.keyword, "SQ")))
                for i, item in enumerate(elem.value):
                    inside = f"{name}[{i}]"
                    visit(item, f"{where} > {inside}" if where else inside)
                continue
            creator = tag.is_private and 0x10 <= tag.element <= 0xFF
            if action is None or kept or creator:
                continue
            text = _text(elem.value)
            if not text.strip("\x00 "):
                continue  # empty: nothing to find
            rows.append((where, str(tag), name, text, action,
                         identifiers.why(elem.keyword, elem.VR, tag.is_private)))

    meta = getattr(ds, "file_meta", None)
    if meta is not None:
        for tag, action in dicom.profile_rules().file_meta.items():
            if tag in meta:
                elem = meta[tag]
                rows.append(("file meta", str(elem.tag), elem.keyword, _text(elem.value), action,
                             identifiers.why(elem.keyword, elem.VR)))
    visit(ds, "")
    return pd.DataFrame(rows, columns=_COLUMNS)
