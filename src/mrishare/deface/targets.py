"""The targets defacing is held to, read from ``rules/deface_qc.yaml``.

The file says, for each measure :mod:`mrishare.qc` takes of a defaced image (brain removed,
face region removed, head fit), its target and why; and the share of the face region that
may hold tissue before :func:`mrishare.deface.face_present` says a face is still there.
A data steward changes the policy there, not here; :func:`load_targets` checks the file and
says what is wrong with it.

Examples
--------
>>> from mrishare.deface import targets
>>> policy = targets.load_targets()
>>> policy.target("face_removed_share").value
0.95
>>> policy.target("brain_removed_ml").passes(0.0)
True
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from mrishare import rules
from mrishare.errors import RuleFileError

__all__ = ["MEASURES", "QC_RULES", "QCTargets", "Target", "load_targets", "shipped"]

QC_RULES = "deface_qc.yaml"
"""The shipped file of defacing targets (in :func:`mrishare.rules.folder`)."""

MEASURES = ("brain_removed_ml", "face_removed_share", "head_fit")
"""The measures :func:`mrishare.qc.check` takes; the file gives a target for each."""

_UNITS = ("ml", "share", "Dice")
_COMPARISONS = ("<=", ">=")
_FIELDS = ("compare", "value", "unit", "description", "why")


@dataclass(frozen=True)
class Target:
    """The target of one QC measure.

    Parameters
    ----------
    name : str
        The measure (one of :data:`MEASURES`).
    comparison : {"<=", ">="}
        At most or at least :attr:`value`.
    value : float
        The target.
    unit : {"ml", "share", "Dice"}
        The measure's unit.
    description : str
        What the measure is, for people.
    why : str
        The reason for the target.
    """

    name: str
    comparison: str
    value: float
    unit: str
    description: str
    why: str

    def passes(self, measured: float) -> bool:
        """Return True when ``measured`` meets the target.

        Parameters
        ----------
        measured : float
            The measure's value.

        Returns
        -------
        bool

        Examples
        --------
        >>> Target("head_fit", ">=", 0.85, "Dice", "fit", "why").passes(0.9)
        True
        """
        if self.comparison == "<=":
            return bool(measured <= self.value)
        return bool(measured >= self.value)


@dataclass(frozen=True)
class QCTargets:
    """Everything ``deface_qc.yaml`` says.

    Parameters
    ----------
    targets : tuple of Target
        One per measure, in the order of :data:`MEASURES`.
    face_present_share : float
        Share of the face region holding tissue above which a face is still there.
    face_present_why : str
        The reason for that threshold.
    """

    targets: tuple[Target, ...]
    face_present_share: float
    face_present_why: str

    def target(self, name: str) -> Target:
        """Return the target of the measure ``name``.

        Parameters
        ----------
        name : str
            One of :data:`MEASURES`.

        Returns
        -------
        Target

        Raises
        ------
        KeyError
            When there is no such measure.

        Examples
        --------
        >>> load_targets().target("head_fit").comparison
        '>='
        """
        for target in self.targets:
            if target.name == name:
                return target
        raise KeyError(f"no QC target {name!r}; the targets are {', '.join(MEASURES)}")


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RuleFileError(f"{where} must be a number, not {value!r}.")
    return float(value)


def _target(name: str, entry: Any, where: str) -> Target:
    if not isinstance(entry, dict):
        raise RuleFileError(f"{where}: expected the fields {', '.join(_FIELDS)}.")
    missing = [f for f in _FIELDS if f not in entry]
    unknown = sorted(set(entry) - set(_FIELDS))
    if missing or unknown:
        raise RuleFileError(
            f"{where}: missing {', '.join(missing) or 'nothing'}; unknown "
            f"{', '.join(unknown) or 'nothing'} (the fields are {', '.join(_FIELDS)})."
        )
    if entry["compare"] not in _COMPARISONS:
        raise RuleFileError(f"{where}: compare is {entry['compare']!r}; use '<=' or '>='.")
    if entry["unit"] not in _UNITS:
        raise RuleFileError(f"{where}: unit is {entry['unit']!r}; use one of {', '.join(_UNITS)}.")
    value = _number(entry["value"], f"{where}: value")
    if entry["unit"] != "ml" and not 0.0 <= value <= 1.0:
        raise RuleFileError(f"{where}: a {entry['unit']} is between 0 and 1, not {value}.")
    texts = [str(entry[f]).strip() for f in ("description", "why")]
    if not all(texts):
        raise RuleFileError(f"{where}: description and why must not be empty.")
    return Target(name, entry["compare"], value, entry["unit"], texts[0], texts[1])


def load_targets(name: str | Path = QC_RULES) -> QCTargets:
    """Read and check a file of defacing targets.

    Parameters
    ----------
    name : str or Path, default :data:`QC_RULES`
        A shipped rule file's name or a path (see :func:`mrishare.rules.path`).

    Returns
    -------
    QCTargets

    Raises
    ------
    RuleFileError
        When the file is not valid YAML, lacks a measure's target, or a field is wrong; the
        message names the file and the entry.

    Examples
    --------
    >>> [t.name for t in load_targets().targets]
    ['brain_removed_ml', 'face_removed_share', 'head_fit']
    """
    where = rules.path(name).name
    content = rules.read_yaml(name)
    if not isinstance(content, dict) or set(content) != {"targets", "face_present"}:
        raise RuleFileError(f"{where}: expected exactly two sections, targets and face_present.")
    entries = content["targets"]
    if not isinstance(entries, dict) or set(entries) != set(MEASURES):
        given = ", ".join(entries) if isinstance(entries, dict) else repr(entries)
        raise RuleFileError(
            f"{where}: targets must give exactly {', '.join(MEASURES)}; given: {given}."
        )
    found = tuple(_target(m, entries[m], f"{where}, targets, {m}") for m in MEASURES)
    present = content["face_present"]
    if not isinstance(present, dict) or set(present) != {"share", "why"}:
        raise RuleFileError(f"{where}, face_present: expected the fields share and why.")
    share = _number(present["share"], f"{where}, face_present: share")
    if not 0.0 < share < 1.0:
        raise RuleFileError(f"{where}, face_present: share must be between 0 and 1, not {share}.")
    return QCTargets(found, share, str(present["why"]).strip())


@cache
def shipped() -> QCTargets:
    """Return the shipped targets, read once.

    Returns
    -------
    QCTargets

    Examples
    --------
    >>> shipped().face_present_share
    0.03
    """
    return load_targets()
