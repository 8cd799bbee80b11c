"""Check outputs with the standard's reference validator, for what de-identification broke.

``dciodvfy`` (from David Clunie's dicom3tools; Debian and Ubuntu package ``dicom3tools``)
checks a file against its IOD: missing required attributes, values invalid for their VR,
broken references. Many real files already fail some checks, so mrishare compares: the
errors of the output minus the errors of its input, by message, with values normalised (a
UID or a date in a message does not make it another error). What remains is what the
de-identification added, and should be nothing.

When dciodvfy is not installed, :func:`available` says so and nothing is checked.

Examples
--------
>>> normalise("Error - Value invalid for this VR - (0x0008,0x0020) DA Study Date  DA [1] = "
...           "<2024.03.11> - Character invalid")
'Error - Value invalid for this VR - (0x0008,0x0020) DA Study Date DA [1] = <> - Character invalid'
>>> added_errors(["Error - A", "Error - A", "Error - B"], ["Error - A", "Error - C"])
['Error - C']
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections import Counter
from collections.abc import Iterable

__all__ = ["TOOL", "added_errors", "available", "check_pair", "errors", "normalise"]

TOOL = "dciodvfy"
"""The validator's command (dicom3tools)."""

NOT_INSTALLED = ("dciodvfy (package dicom3tools) is not installed: outputs were not checked "
                 "against their IOD")
"""What the report says when the validator is missing."""

_VALUE = re.compile(r"(=|value) <[^>]*>")
_QUOTED = re.compile(r'"[^"]*"')
_UID = re.compile(r"\b\d+(?:\.\d+){2,}\.?")
_HEX_LENGTH = re.compile(r"0x[0-9a-fA-F]{5,}")
_SPACES = re.compile(r"\s+")


def available() -> str | None:
    """Return the path of dciodvfy, or None when it is not installed.

    Examples
    --------
    >>> available() is None or available().endswith("dciodvfy")
    True
    """
    return shutil.which(TOOL)


def normalise(line: str) -> str:
    """Return an error message with its values replaced, so that equal errors compare equal.

    Values after ``=`` or ``value`` in angle brackets, quoted strings, UIDs and long hex
    numbers are blanked; names of attributes and modules are kept.

    Parameters
    ----------
    line : str

    Returns
    -------
    str
    """
    line = _VALUE.sub(r"\1 <>", line)
    line = _QUOTED.sub('""', line)
    line = _UID.sub("<uid>", line)
    line = _HEX_LENGTH.sub("0x", line)
    return _SPACES.sub(" ", line).strip()


def errors(path: str | os.PathLike, tool: str | None = None) -> list[str]:
    """Return the normalised error messages dciodvfy gives a file (warnings left aside).

    Parameters
    ----------
    path : path
    tool : str, optional
        The dciodvfy command; default the one :func:`available` finds.

    Returns
    -------
    list of str

    Raises
    ------
    FileNotFoundError
        When dciodvfy is not installed.
    """
    tool = tool or available()
    if tool is None:
        raise FileNotFoundError(NOT_INSTALLED)
    try:
        done = subprocess.run([tool, os.fspath(path)], capture_output=True, timeout=120,
                              check=False)
    except subprocess.TimeoutExpired:
        return ["Error - dciodvfy did not finish within 120 s"]
    text = (done.stdout + done.stderr).decode("latin-1")
    return [normalise(line) for line in text.splitlines() if "Error - " in line]


def added_errors(before: Iterable[str], after: Iterable[str]) -> list[str]:
    """Return the errors of ``after`` that ``before`` does not have (counted, in order).

    Parameters
    ----------
    before, after : iterable of str
        Normalised error messages of the input and of the output.

    Returns
    -------
    list of str
    """
    left = Counter(before)
    added = []
    for line in after:
        if left[line]:
            left[line] -= 1
        else:
            added.append(line)
    return added


def check_pair(original: str | os.PathLike, output: str | os.PathLike,
               tool: str | None = None) -> list[str]:
    """Return the errors dciodvfy finds in ``output`` and not in ``original``.

    Parameters
    ----------
    original, output : path
        An input file and its de-identified output.
    tool : str, optional
        The dciodvfy command; default the one :func:`available` finds.

    Returns
    -------
    list of str
        Empty when the de-identification made nothing invalid.

    Raises
    ------
    FileNotFoundError
        When dciodvfy is not installed.
    """
    return added_errors(errors(original, tool), errors(output, tool))
