"""How specific a value must be to be searched: the rule file and its loader.

The rules live in ``mrishare/rules/audit_specificity.yaml`` so that a data steward can read
and change them without reading Python. :func:`load_specificity` checks every key and says
what is wrong in a bad file; :func:`specificity` returns the shipped rules, read once.

Examples
--------
>>> from mrishare.audit import specificity
>>> specificity().min_length
4
>>> "van" in specificity().name_particles
True
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from mrishare import rules
from mrishare.errors import RuleFileError

__all__ = ["SPECIFICITY_FILE", "Specificity", "load_specificity", "specificity"]

SPECIFICITY_FILE = "audit_specificity.yaml"
"""The shipped rule file (in :func:`mrishare.rules.folder`)."""


@dataclass(frozen=True)
class Specificity:
    """The rules that decide whether a value is specific enough to search as free text.

    Parameters
    ----------
    min_length : int
        Any value: at least this many characters.
    min_digits : int
        Values of digits and separators only: at least this many digits.
    min_part_length : int
        One part of a name, searched alone: at least this many characters.
    min_word_length : int
        One word of an address or institution, searched alone.
    min_uid_root_components : int
        A UID root: at least this many components.
    generic_uid_roots : tuple of str
        UID roots that say nothing about a site.
    name_particles : tuple of str
        Name particles and titles, never searched alone (lower case).
    generic_words : tuple of str
        Words of addresses and institutions too common to search alone (lower case).
    generic_file_name : str
        A regular expression: file names (without extensions) that say nothing.
    """

    min_length: int
    min_digits: int
    min_part_length: int
    min_word_length: int
    min_uid_root_components: int
    generic_uid_roots: tuple[str, ...]
    name_particles: tuple[str, ...]
    generic_words: tuple[str, ...]
    generic_file_name: str


def _integer(name: str, key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise RuleFileError(f"{name}: {key} must be a whole number of at least 1; got {value!r}.")
    return value


def _words(name: str, key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise RuleFileError(f"{name}: {key} must be a list of words; got {value!r}.")
    words = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, str | int | float) or not str(item):
            raise RuleFileError(f"{name}: {key} holds {item!r}, which is not a word.")
        words.append(str(item).lower())
    return tuple(words)


def load_specificity(name: str | Path = SPECIFICITY_FILE) -> Specificity:
    """Read and check a specificity rule file.

    Parameters
    ----------
    name : str or Path, default "audit_specificity.yaml"
        A shipped rule file's name or a path to one of your own.

    Returns
    -------
    Specificity

    Raises
    ------
    RuleFileError
        When the file is not valid YAML, lacks a key, has an unknown key, or a value of the
        wrong type (the message names the file and the key).

    Examples
    --------
    >>> load_specificity().min_digits
    5
    """
    content = rules.read_yaml(name)
    label = Path(name).name
    if not isinstance(content, dict):
        raise RuleFileError(f"{label}: expected keys and values, got {type(content).__name__}.")
    expected = [f.name for f in fields(Specificity)]
    missing = [k for k in expected if k not in content]
    unknown = sorted(str(k) for k in content if k not in expected)
    if missing:
        raise RuleFileError(f"{label}: missing {', '.join(missing)}.")
    if unknown:
        raise RuleFileError(f"{label}: unknown key {', '.join(unknown)}; expected only "
                            f"{', '.join(expected)}.")
    pattern = content["generic_file_name"]
    try:
        re.compile(str(pattern))
    except re.error as error:
        raise RuleFileError(f"{label}: generic_file_name is not a regular expression "
                            f"({error}).") from None
    return Specificity(
        min_length=_integer(label, "min_length", content["min_length"]),
        min_digits=_integer(label, "min_digits", content["min_digits"]),
        min_part_length=_integer(label, "min_part_length", content["min_part_length"]),
        min_word_length=_integer(label, "min_word_length", content["min_word_length"]),
        min_uid_root_components=_integer(label, "min_uid_root_components",
                                         content["min_uid_root_components"]),
        generic_uid_roots=_words(label, "generic_uid_roots", content["generic_uid_roots"]),
        name_particles=_words(label, "name_particles", content["name_particles"]),
        generic_words=_words(label, "generic_words", content["generic_words"]),
        generic_file_name=str(pattern),
    )


@functools.cache
def specificity() -> Specificity:
    """Return the shipped specificity rules, read and checked once.

    Returns
    -------
    Specificity

    Examples
    --------
    >>> specificity().generic_uid_roots[0]
    '2.25'
    """
    return load_specificity(SPECIFICITY_FILE)
