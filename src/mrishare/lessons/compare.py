"""Run several DICOM de-identification tools on the same files and see what each leaves.

Each tool in :data:`TOOLS` is run twice on copies of the input (to see whether UIDs come
out the same on a second run), then every output file is searched for the identifying
values of its input, one row of :data:`CHECKS` at a time: the patient's name, IDs, dates,
institution, staff, device, free text, identifiers inside sequences, private elements, the
sending station in the file meta header and the site's UID root. A few more rows say
whether what analysis needs survived (valid UIDs, TR and TE, pixels), and whether the
outputs are still valid DICOM: dciodvfy (dicom3tools), the standard's reference validator,
finds no error in an output that its input did not have ("not checked" when dciodvfy is not
installed).

Examples
--------
>>> from mrishare import data
>>> table = compare_tools([data.sample_path("pydicom_MR_small")], tools=["mrishare"])
>>> table.loc["patient's name", "mrishare"]
'removed'
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import pandas as pd
import pydicom
from pydicom.dataset import Dataset

from mrishare import identifiers
from mrishare.dicom import Options, deidentify
from mrishare.dicom import validate as validator
from mrishare.keys import Key

__all__ = ["CHECKS", "TOOLS", "VALID_ROW", "before_after", "compare_tools", "leftovers",
           "run_tool", "still_valid"]

LEFT, REMOVED, ABSENT = "left", "removed", "–"  # the cells of the table
VALID_ROW = "outputs still valid (dciodvfy)"
NOT_CHECKED = "not checked"


# --------------------------------------------------------------------------- the tools


def _mrishare(files: Sequence[Path], out: Path) -> list[Path]:
    key = Key(bytes(32))  # a fixed key, as a key file gives
    paths = []
    for i, path in enumerate(files):
        target = out / f"{i}.dcm"
        deidentify(path, key, Options()).save_as(target, enforce_file_format=True)
        paths.append(target)
    return paths


def _dicognito(files: Sequence[Path], out: Path) -> list[Path]:
    from dicognito.anonymizer import Anonymizer

    anonymizer = Anonymizer()  # the defaults of `python -m dicognito`
    paths = []
    for i, path in enumerate(files):
        ds = pydicom.dcmread(path)
        anonymizer.anonymize(ds)
        target = out / f"{i}.dcm"
        ds.save_as(target)
        paths.append(target)
    return paths


def _deid(files: Sequence[Path], out: Path) -> list[Path]:
    from deid.dicom import replace_identifiers

    paths = []
    for i, path in enumerate(files):  # one folder each: deid keeps the input's file name
        folder = out / str(i)
        folder.mkdir()
        paths += replace_identifiers(dicom_files=[str(path)], save=True,
                                     output_folder=str(folder), overwrite=True)
    return [Path(p) for p in paths]


def _dicom_anonymizer(files: Sequence[Path], out: Path) -> list[Path]:
    from dicomanonymizer import anonymize_dicom_file

    paths = []
    for i, path in enumerate(files):
        target = out / f"{i}.dcm"
        anonymize_dicom_file(str(path), str(target))
        paths.append(target)
    return paths


# Tool name (with the version compared) -> function(files, output folder) -> output files.
TOOLS: dict[str, Callable[[Sequence[Path], Path], list[Path]]] = {
    "dicognito 0.19": _dicognito,
    "deid 0.4.13": _deid,
    "dicom-anonymizer 2.1": _dicom_anonymizer,
    "mrishare": _mrishare,
}


def run_tool(name: str, files: Sequence[str | os.PathLike], out: str | os.PathLike,
             ) -> tuple[list[Path], float]:
    """Run one tool of :data:`TOOLS` quietly; return its output files and seconds taken."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    quiet = io.StringIO()
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(quiet), \
                contextlib.redirect_stderr(quiet):
            warnings.simplefilter("ignore")
            start = time.perf_counter()
            paths = TOOLS[name]([Path(f) for f in files], out)
            return paths, time.perf_counter() - start
    finally:
        logging.disable(previous)


def _run_in_child(name: str, files: Sequence[Path], out: Path) -> list[Path]:
    """Run a tool again in a new process, as a second batch on another day would."""
    code = ("import json, sys; from mrishare.lessons.compare import run_tool; "
            "paths, _ = run_tool(sys.argv[1], sys.argv[3:], sys.argv[2]); "
            "print(json.dumps([str(p) for p in paths]))")
    done = subprocess.run([sys.executable, "-c", code, name, str(out), *map(str, files)],
                          capture_output=True, text=True, check=True)
    return [Path(p) for p in json.loads(done.stdout.strip().splitlines()[-1])]


# --------------------------------------------------------------------------- the checks


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("latin-1", "ignore")
    return str(value)


def _values(ds: Dataset, keywords: Iterable[str]) -> list[str]:
    return [_text(e.value) for e in ds.iterall() if e.keyword in keywords and e.value]


def _names(ds: Dataset, keywords: Iterable[str]) -> list[str]:
    """Family and given names of person-name elements (nested ones included)."""
    found = []
    for elem in ds.iterall():
        if elem.keyword in keywords and elem.value:
            # family^given^middle^prefix^suffix, in the first (alphabetic) component group
            parts = str(elem.value).split("=")[0].split("^")[:2]
            found += [part for part in parts if len(part) >= 3]
    return found


CODE_KEYWORDS = {"CodeValue", "CodeMeaning", "CodingSchemeDesignator", "CodingSchemeVersion"}


def _nested(ds: Dataset) -> list[str]:
    """Text values inside sequences (not UIDs, not codes)."""
    found = []
    for elem in ds:
        if elem.VR == "SQ":
            for item in elem.value:
                found += [_text(e.value) for e in item.iterall()
                          if e.VR in ("PN", "LO", "SH", "LT", "ST", "UT") and len(str(e.value)) >= 4
                          and e.keyword not in CODE_KEYWORDS]
    return found


def _uid_root(ds: Dataset) -> list[str]:
    """Return the part the instance's UIDs share with the study's: the site's root."""
    a, b = str(ds.get("SOPInstanceUID", "")), str(ds.get("StudyInstanceUID", ""))
    common = os.path.commonprefix([a.split("."), b.split(".")])
    return [".".join(common)] if len(common) >= 3 else []


def _of_kinds(*kinds: str) -> list[str]:
    """Return the keywords of the identifying-attribute table that are of these kinds."""
    return [a.keyword for a in identifiers.attributes() if a.kind in kinds]


# Row -> function(original dataset) -> values that must not appear in the output. The
# attributes of each row come from the one table of identifying attributes, by kind.
CHECKS: dict[str, Callable[[Dataset], list[str]]] = {
    "patient's name": lambda ds: _names(ds, _of_kinds("patient name")),
    "patient IDs": lambda ds: _values(ds, _of_kinds("patient id")),
    "birth date": lambda ds: _values(ds, _of_kinds("birth date")),
    "study date": lambda ds: _values(ds, _of_kinds("scan date")),
    "institution and address": lambda ds: _values(
        ds, _of_kinds("institution", "address", "department")),
    "staff names": lambda ds: _names(ds, _of_kinds("staff name", "person name")),
    "station and serial number": lambda ds: _values(
        ds, _of_kinds("station name", "device serial number")),
    "free text (descriptions, comments)": lambda ds: _values(ds, _of_kinds("free text")),
    "text inside sequences": _nested,
    "site UID root": _uid_root,
}


# Kept values that can equal an identifying one by chance (a hospital named after its
# scanner's maker, as in pydicom's MR_small): not searched.
NOT_SEARCHED = {"Manufacturer", "ManufacturerModelName", "PixelData"}


def _output_text(ds: Dataset) -> str:
    """All values of a file but the pixels, file meta and private elements included."""
    elements = [*getattr(ds, "file_meta", []), *ds.iterall()]
    return "\n".join(_text(e.value) for e in elements
                     if e.keyword not in NOT_SEARCHED and e.VR != "SQ").casefold()


def leftovers(original: str | os.PathLike | Dataset, output: str | os.PathLike | Dataset,
              ) -> dict[str, str]:
    """For one input and its output: each row of :data:`CHECKS` -> left / removed / –.

    Also ``private elements`` and ``sending station (file meta)``: left when present.

    Examples
    --------
    >>> from mrishare import data
    >>> path = data.sample_path("pydicom_MR_small")
    >>> leftovers(path, path)["patient's name"]
    'left'
    """
    src = original if isinstance(original, Dataset) else pydicom.dcmread(original)
    out = output if isinstance(output, Dataset) else pydicom.dcmread(output)
    text = _output_text(out)
    result = {}
    for row, harvest in CHECKS.items():
        values = [v.strip().casefold() for v in harvest(src) if v.strip()]
        if not values:
            result[row] = ABSENT
        else:
            result[row] = LEFT if any(v in text for v in values) else REMOVED
    private = any(e.tag.is_private for e in src.iterall())
    result["private elements"] = (
        ABSENT if not private else LEFT if any(e.tag.is_private for e in out.iterall())
        else REMOVED)
    meta = getattr(src, "file_meta", Dataset())
    result["sending station (file meta)"] = (
        ABSENT if "SourceApplicationEntityTitle" not in meta else
        LEFT if "SourceApplicationEntityTitle" in getattr(out, "file_meta", Dataset())
        else REMOVED)
    return result


def _kept(src: Dataset, out: Dataset) -> dict[str, bool]:
    return {
        "valid UIDs (SOP Instance UID present)": bool(out.get("SOPInstanceUID")),
        "TR and TE kept": all(out.get(k) == src.get(k) for k in ("RepetitionTime", "EchoTime")),
        "pixels identical": out.get("PixelData") == src.get("PixelData"),
    }


def before_after(original: str | os.PathLike | Dataset, output: str | os.PathLike | Dataset,
                 keywords: Iterable[str]) -> pd.DataFrame:
    """Two columns, before and after, for the attributes named (missing ones: "(removed)").

    Examples
    --------
    >>> ds = Dataset()
    >>> ds.PatientName = "Jansen^Marieke"
    >>> before_after(ds, Dataset(), ["PatientName"]).loc["PatientName", "after"]
    '(removed)'
    """
    src = original if isinstance(original, Dataset) else pydicom.dcmread(original)
    out = output if isinstance(output, Dataset) else pydicom.dcmread(output)

    def show(ds: Dataset, keyword: str) -> str:
        if keyword not in ds:
            return "(removed)"
        value = ds[keyword].value
        return "(empty)" if value in (None, "") else str(value)

    keywords = list(keywords)
    return pd.DataFrame({"before": [show(src, k) for k in keywords],
                         "after": [show(out, k) for k in keywords]}, index=keywords)


def still_valid(files: Sequence[str | os.PathLike], outputs: Sequence[str | os.PathLike],
                ) -> str:
    """Say whether dciodvfy finds no error in any output that its input did not have.

    Parameters
    ----------
    files, outputs : list of paths
        Inputs and their outputs, in the same order.

    Returns
    -------
    str
        ``"yes"``; ``"no (k of n)"`` with the number of outputs made less valid; or
        ``"not checked"`` when dciodvfy is not installed.

    Examples
    --------
    >>> from mrishare import data
    >>> path = data.sample_path("pydicom_MR_small")
    >>> still_valid([path], [path]) in ("yes", "not checked")
    True
    """
    tool = validator.available()
    if tool is None:
        return NOT_CHECKED
    worse = sum(bool(validator.check_pair(a, b, tool))
                for a, b in zip(files, outputs, strict=True))
    return "yes" if worse == 0 else f"no ({worse} of {len(outputs)})"


def _worst(cells: Iterable[str]) -> str:
    cells = list(cells)
    return LEFT if LEFT in cells else REMOVED if REMOVED in cells else ABSENT


def compare_tools(files: Sequence[str | os.PathLike], tools: Iterable[str] | None = None,
                  ) -> pd.DataFrame:
    """Run each tool on ``files`` and tabulate what it leaves, and what it keeps.

    Each tool runs twice: here, then in a new process (to see whether a second batch
    gets the same UIDs).

    Parameters
    ----------
    files : list of paths
        DICOM files (copies are made; the originals are only read).
    tools : list of str, optional
        Names from :data:`TOOLS`; default all.

    Returns
    -------
    pandas.DataFrame
        One row per check, one column per tool. ``left``: some input's value is still in
        an output; ``removed``: none is; ``–``: the inputs have none. The last rows say
        ``yes`` or ``no``, whether the outputs are still valid (dciodvfy; "not checked"
        without it), and the time per file in milliseconds.
    """
    tools = list(tools or TOOLS)
    files = [Path(f) for f in files]
    originals = [pydicom.dcmread(f) for f in files]
    columns = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in tools:
            first, seconds = run_tool(name, files, Path(tmp) / name / "1")
            second = _run_in_child(name, files, Path(tmp) / name / "2")
            outputs = [pydicom.dcmread(p) for p in first]
            again = [pydicom.dcmread(p) for p in second]
            found = [leftovers(s, o) for s, o in zip(originals, outputs, strict=True)]
            column = {row: _worst(f[row] for f in found) for row in found[0]}
            kept = [_kept(s, o) for s, o in zip(originals, outputs, strict=True)]
            for row in kept[0]:
                column[row] = "yes" if all(k[row] for k in kept) else "no"
            pairs = [(a.get("SOPInstanceUID"), b.get("SOPInstanceUID")) for a, b in
                     zip(outputs, again, strict=True)]
            column["same UIDs on a second run"] = (
                "no UIDs" if not all(a and b for a, b in pairs) else
                "yes" if all(a == b for a, b in pairs) else "no")
            column[VALID_ROW] = still_valid(files, first)
            column["time per file (ms)"] = f"{1000 * seconds / len(files):.1f}"
            columns[name] = column
    return pd.DataFrame(columns)
