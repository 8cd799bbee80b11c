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

__all__ = [
    "MEASURES",
    "QC_RULES",
    "DetectorSettings",
    "QCTargets",
    "Target",
    "load_targets",
    "shipped",
]

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
class DetectorSettings:
    """How the face detector looks at renders (``face_detector`` in the file).

    Parameters
    ----------
    frontal, profile : str
        OpenCV cascade files (in ``cv2.data.haarcascades``) for faces seen from the front
        and in profile.
    views, profile_views : tuple of float
        Viewing angles (degrees about the head's up axis) for each cascade.
    step_mm : float
        Pixel size of the renders.
    scale_factor : float
        Step between the sizes of face searched.
    min_size_px : int
        Smallest face searched, in pixels.
    min_votes, profile_min_votes : int
        Overlapping hits a box needs to count as a face, for each cascade.
    why : str
        The reason for these settings.
    """

    frontal: str
    profile: str
    views: tuple[float, ...]
    profile_views: tuple[float, ...]
    step_mm: float
    scale_factor: float
    min_size_px: int
    min_votes: int
    profile_min_votes: int
    why: str


_DETECTOR_FIELDS = ("frontal", "profile", "views", "profile_views", "step_mm", "scale_factor",
                    "min_size_px", "min_votes", "profile_min_votes", "why")


def _detector(entry: Any, where: str) -> DetectorSettings:
    """Return the detector's settings from the file's ``face_detector`` section."""
    if not isinstance(entry, dict) or set(entry) != set(_DETECTOR_FIELDS):
        raise RuleFileError(f"{where}: expected exactly the fields {', '.join(_DETECTOR_FIELDS)}.")
    for name in ("frontal", "profile"):
        if not (isinstance(entry[name], str) and entry[name].endswith(".xml")):
            raise RuleFileError(f"{where}: {name} must name a cascade file (.xml).")
    angles = []
    for name in ("views", "profile_views"):
        if not isinstance(entry[name], list):
            raise RuleFileError(f"{where}: {name} must be a list of angles in degrees.")
        angles.append(tuple(_number(a, f"{where}: {name}") for a in entry[name]))
    numbers = {n: _number(entry[n], f"{where}: {n}")
               for n in ("step_mm", "scale_factor", "min_size_px", "min_votes",
                         "profile_min_votes")}
    if (numbers["step_mm"] <= 0 or numbers["scale_factor"] <= 1.0
            or min(numbers["min_votes"], numbers["profile_min_votes"]) < 1):
        raise RuleFileError(f"{where}: step_mm > 0, scale_factor > 1 and min_votes >= 1.")
    return DetectorSettings(entry["frontal"], entry["profile"], angles[0], angles[1],
                            numbers["step_mm"], numbers["scale_factor"],
                            int(numbers["min_size_px"]), int(numbers["min_votes"]),
                            int(numbers["profile_min_votes"]), str(entry["why"]).strip())


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
    detector : DetectorSettings
        How the face detector looks at renders.
    max_disagreement : float
        Most the face region removed may differ between the registration that placed it
        and an independent one.
    disagreement_why : str
        The reason for that limit.
    """

    targets: tuple[Target, ...]
    face_present_share: float
    face_present_why: str
    detector: DetectorSettings
    max_disagreement: float
    disagreement_why: str

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
    sections = {"targets", "face_present", "face_detector", "agreement"}
    if not isinstance(content, dict) or set(content) != sections:
        raise RuleFileError(
            f"{where}: expected exactly the sections {', '.join(sorted(sections))}.")
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
    detector = _detector(content["face_detector"], f"{where}, face_detector")
    agreement = content["agreement"]
    if not isinstance(agreement, dict) or set(agreement) != {"max_difference", "why"}:
        raise RuleFileError(f"{where}, agreement: expected the fields max_difference and why.")
    limit = _number(agreement["max_difference"], f"{where}, agreement: max_difference")
    if not 0.0 < limit < 1.0:
        raise RuleFileError(f"{where}, agreement: max_difference must be between 0 and 1.")
    return QCTargets(found, share, str(present["why"]).strip(), detector, limit,
                     str(agreement["why"]).strip())


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
