"""See the mapping before converting: every series, its features, the rule it takes.

:func:`list_series` reads the headers of a DICOM tree (no pixel data, nothing written) and
gives one :class:`SeriesRow` per series: what the mapping tests (description, protocol,
sequence, image type, TE/TR/TI, number of files), the description that decides (its file
and id) and the outcome. A series no description takes gets a YAML :func:`snippet` that
maps it: paste it into a file, correct the suffix, and give the file to
``mrishare to-bids --config``. ``mrishare series SRC`` prints :func:`format_table`.

Examples
--------
>>> from mrishare import data
>>> from mrishare.bids import listing
>>> rows, skipped = listing.list_series(data.sample_path("dicom_study"))
>>> sum(row.unmapped for row in rows)
1
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mrishare.bids import mapping
from mrishare.bids.series import Problem, Series, find_series

__all__ = ["SeriesRow", "describe", "format_table", "list_series", "snippet", "summary_line"]


@dataclass(frozen=True)
class SeriesRow:
    r"""One series as the mapping sees it.

    Attributes
    ----------
    folder : str
        Its folder relative to the source (for the operator: it may hold names).
    number : str
        SeriesNumber.
    description, protocol, sequence, image_type : str
        SeriesDescription, ProtocolName, SequenceName and ImageType (values joined by
        ``\\``).
    echo_time, repetition_time, inversion_time : str
        In ms, as in the header ("" when missing).
    files : int
        Number of DICOM files.
    rule : str
        The description that decides, ``file:id`` (``"-"`` when none does).
    outcome : str
        What the series becomes (``"func/task-rest_dir-AP_bold"``), ``"skip"`` or
        ``"unknown"``.
    reason : str
        Why.
    snippet : str
        For an unknown series, a YAML configuration that maps it ("" otherwise).
    """

    folder: str
    number: str
    description: str
    protocol: str
    sequence: str
    image_type: str
    echo_time: str
    repetition_time: str
    inversion_time: str
    files: int
    rule: str
    outcome: str
    reason: str
    snippet: str = ""

    @property
    def unmapped(self) -> bool:
        """Return True when no description takes the series (it is not converted)."""
        return self.outcome == "unknown"


def _text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "\\".join(str(v) for v in value)
    return str(value or "")


def _pattern(text: str) -> str:
    """Return a shell-style pattern that matches exactly ``text``."""
    return re.sub(r"([\[\]*?])", r"[\1]", text)


def snippet(info: Mapping[str, Any], found: mapping.Classification) -> str:
    r"""Return a YAML series mapping with one description that maps this series.

    The criteria test the series' exact SeriesDescription (or ProtocolName when it has
    none); the datatype, suffix and entities come from the description it nearly met, or
    are a first suggestion marked to be checked.

    Parameters
    ----------
    info : mapping
        The series' DICOM attributes.
    found : Classification
        Its classification (see :func:`mrishare.bids.mapping.classify`).

    Returns
    -------
    str

    Examples
    --------
    >>> found = mapping.classify({"Modality": "MR", "SOPClassUID": "1.2.840.10008.5.1.4.1.1.4",
    ...                           "SeriesDescription": "ep2d_bold", "EchoTime": "30"})
    >>> print(snippet({"SeriesDescription": "ep2d_bold"}, found))
    descriptions:
      - id: ep2d-bold
        criteria:
          SeriesDescription: "ep2d_bold"
        datatype: func
        suffix: bold
        entities: {task: mytask}  # <- check: the task's name
    """
    field = "SeriesDescription" if info.get("SeriesDescription") else "ProtocolName"
    value = _text(info.get(field))
    slug = re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-")[:40] or "my-series"
    near = found.description
    lines = ["descriptions:", f"  - id: {slug}", "    criteria:",
             f"      {field}: {json.dumps(_pattern(value))}"]
    if near is not None and near.suffix:
        lines += [f"    datatype: {near.datatype}", f"    suffix: {near.suffix}"]
        required = _required(near.datatype, near.suffix)
        entities = {k: v for k, v in near.entities if v != mapping.FROM_NAME}
        entities.update({k: f"my{k}" for k in sorted(required) if k not in entities})
        if entities:
            pairs = ", ".join(f"{k}: {v}" for k, v in entities.items())
            note = "  # <- check: the task's name" if "task" in required else ""
            lines.append(f"    entities: {{{pairs}}}{note}")
    else:
        lines += ["    datatype: anat  # <- check: anat, func, dwi or fmap",
                  "    suffix: T2w     # <- check: what the series is (T1w, T2w, FLAIR, "
                  "bold, dwi, epi...)"]
    return "\n".join(lines)


def _required(datatype: str, suffix: str) -> frozenset[str]:
    from mrishare.bids import schema

    return schema.file_rules()[datatype][suffix].required - {"echo", "part"}


def describe(series: Series, found: mapping.Classification) -> SeriesRow:
    """Return the row of one series.

    Parameters
    ----------
    series : Series
        From :func:`mrishare.bids.find_series`.
    found : Classification
        Its classification.

    Returns
    -------
    SeriesRow
    """
    info = series.info
    return SeriesRow(
        series.folder, _text(info.get("SeriesNumber")), _text(info.get("SeriesDescription")),
        _text(info.get("ProtocolName")), _text(info.get("SequenceName")),
        _text(info.get("ImageType")), _text(info.get("EchoTime")),
        _text(info.get("RepetitionTime")), _text(info.get("InversionTime")),
        len(series.files), found.rule, found.target, found.reason,
        snippet(info, found) if found.outcome == "unknown" else "")


def list_series(src: str | Path, series_mapping: mapping.SeriesMapping | None = None
                ) -> tuple[list[SeriesRow], list[Problem]]:
    """List every series of a DICOM tree with the rule it takes (headers only).

    Parameters
    ----------
    src : str or Path
        A folder of DICOM files.
    series_mapping : SeriesMapping, optional
        Default: the shipped mapping.

    Returns
    -------
    rows : list of SeriesRow
        In folder order.
    skipped : list of Problem
        Files that are not DICOM images, with the reason.

    Examples
    --------
    >>> from mrishare import data
    >>> rows, _ = list_series(data.sample_path("dicom_study"))
    >>> sorted({row.outcome for row in rows})[:2]
    ['anat/MEGRE', 'anat/T1w']
    """
    found, skipped = find_series(src)
    rows = [describe(s, mapping.classify(s.info, series_mapping)) for s in found]
    return sorted(rows, key=lambda r: (r.folder, r.number)), skipped


_COLUMNS = (("folder", "series"), ("description", "description"), ("protocol", "protocol"),
            ("sequence", "sequence"), ("image_type", "image type"), ("echo_time", "TE"),
            ("repetition_time", "TR"), ("inversion_time", "TI"), ("files", "files"),
            ("rule", "rule"), ("outcome", "outcome"))


def format_table(rows: Sequence[SeriesRow], width: int = 28) -> str:
    """Return the rows as a plain-text table (cells cut to ``width`` characters).

    Parameters
    ----------
    rows : sequence of SeriesRow
    width : int, default 28

    Returns
    -------
    str
    """
    def cell(row: SeriesRow, key: str) -> str:
        text = str(getattr(row, key))
        if key == "folder":
            text = text.rsplit("/", 1)[-1]
        if key == "rule":
            text = text.split(":", 1)[-1]
        return text if len(text) <= width else text[: width - 1] + "~"

    table = [[title for _, title in _COLUMNS]]
    table += [[cell(row, key) for key, _ in _COLUMNS] for row in rows]
    sizes = [max(len(line[i]) for line in table) for i in range(len(_COLUMNS))]
    return "\n".join("  ".join(text.ljust(size) for text, size in zip(line, sizes, strict=True))
                     .rstrip() for line in table)


def summary_line(rows: Sequence[SeriesRow]) -> str:
    """Return the one line that names the series not converted, or ``""`` when none.

    Examples
    --------
    >>> row = SeriesRow("a/007_x", "7", "research seq", "", "", "", "", "", "", 3, "-",
    ...                 "unknown", "no description holds")
    >>> summary_line([row])
    "1 series not converted: 'research seq' (series 7); see 'mrishare series SRC'"
    """
    missing = [row for row in rows if row.unmapped]
    if not missing:
        return ""
    named = ", ".join(f"{row.description or row.protocol!r} (series {row.number})"
                      if not row.description else f"{row.description!r} (series {row.number})"
                      for row in missing)
    return (f"{len(missing)} series not converted: {named}; see 'mrishare series SRC'")
