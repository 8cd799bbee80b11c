"""The standard's table of actions (PS3.15 Table E.1-1), and the plan the options make of it.

mrishare does not type the table: it reads the newest edition that the maintained package
``dicom-anonymizer`` ships (:func:`load_profile`) and names that edition in every file it
writes. :func:`plan` then resolves combined actions (``X/Z`` -> ``X``) and applies the
options of ``rules/dicom_profile_options.yaml``: one action per tag.

Examples
--------
>>> load_profile().action(0x00100010)  # Patient's Name
'Z'
>>> plan()[0x00100010], plan(Options(keep_patient_characteristics=True))[0x00100040]
('D', 'K')
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import importlib.resources
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from pydicom.datadict import dictionary_VR, tag_for_keyword

from mrishare.dicom.iod import attribute_types
from mrishare.dicom.options import Options, profile_rules

__all__ = [
    "PROFILE_PACKAGE",
    "Profile",
    "dictionary_vr",
    "load_profile",
    "plan",
    "profile_editions",
    "typed_plans",
]

PROFILE_PACKAGE = "dicomanonymizer.dicom_anonymization_databases"
"""The package of dicom-anonymizer that holds the editions of Table E.1-1."""


@dataclass(frozen=True)
class Profile:
    """One edition of PS3.15 Table E.1-1, as data.

    Parameters
    ----------
    edition : str
        The standard's edition, e.g. ``"2026c"``.
    source : str
        Where the table was read from (package, version and module).
    actions : dict of int to str
        Tag (as an integer, ``0xGGGGEEEE``) to action code (``"D"``, ``"X/Z"``, ...).
    masked : tuple of (group, element, group mask, element mask, action)
        Rows for repeating groups such as overlays ``(60xx,3000)`` and curves ``(50xx,xxxx)``.
    """

    edition: str
    source: str
    actions: Mapping[int, str] = field(repr=False)
    masked: tuple[tuple[int, int, int, int, str], ...] = field(repr=False)

    @functools.cached_property
    def masked_groups(self) -> frozenset[int]:
        """Return the groups (high byte) that repeating-group rows cover (0x5000, 0x6000)."""
        return frozenset(g & 0xFF00 for g, *_ in self.masked)

    def action(self, tag: int) -> str | None:
        """Return the table's action for ``tag``, or None when the table does not list it.

        Parameters
        ----------
        tag : int
            The tag as ``0xGGGGEEEE``.

        Returns
        -------
        str or None

        Examples
        --------
        >>> load_profile().action(0x60023000)  # Overlay Data, group 6002
        'X'
        """
        found = self.actions.get(tag)
        if found is not None:
            return found
        group, element = tag >> 16, tag & 0xFFFF
        for g, e, gmask, emask, action in self.masked:
            if group & gmask == g and element & emask == e:
                return action
        return None

    def describe(self) -> str:
        """Name the edition and where it came from, in one line.

        Examples
        --------
        >>> load_profile("2024b").describe().startswith("DICOM PS3.15 Table E.1-1, edition 2024b")
        True
        """
        return f"DICOM PS3.15 Table E.1-1, edition {self.edition} (from {self.source})"


def _edition_of(module: str) -> str:
    """Return the edition a table module holds: from its documentation link, else its name."""
    text = importlib.resources.files(PROFILE_PACKAGE).joinpath(f"{module}.py").read_text()
    found = re.search(r"medical/dicom/(\d{4}[a-z])/", text)
    return found.group(1) if found else module.rsplit("_", 1)[-1]


@functools.cache
def profile_editions() -> dict[str, str]:
    """Return the editions of Table E.1-1 that dicom-anonymizer ships, oldest first.

    Returns
    -------
    dict of str to str
        Edition (e.g. ``"2024b"``) to the module that holds it.

    Examples
    --------
    >>> list(profile_editions())[:2]
    ['2023e', '2024b']
    """
    folder = importlib.resources.files(PROFILE_PACKAGE)
    modules = sorted(
        p.name[:-3] for p in folder.iterdir() if p.name.startswith("dicomfields_")
        and p.name.endswith(".py")
    )
    return dict(sorted((_edition_of(m), m) for m in modules))


@functools.cache
def load_profile(edition: str | None = None) -> Profile:
    """Read Table E.1-1 from dicom-anonymizer: the newest edition unless one is named.

    Parameters
    ----------
    edition : str, optional
        One of :func:`profile_editions`; default the newest.

    Returns
    -------
    Profile

    Raises
    ------
    ValueError
        When dicom-anonymizer does not ship that edition (the message lists those it does).

    Examples
    --------
    >>> profile = load_profile()
    >>> profile.edition == list(profile_editions())[-1]
    True
    >>> len(profile.actions) > 600
    True
    """
    editions = profile_editions()
    edition = edition or list(editions)[-1]
    if edition not in editions:
        raise ValueError(
            f"No edition {edition!r} of Table E.1-1 in dicom-anonymizer; "
            f"it ships {', '.join(editions)}."
        )
    module = importlib.import_module(f"{PROFILE_PACKAGE}.{editions[edition]}")
    actions: dict[int, str] = {}
    masked = []
    for category, action in profile_rules().table_lists.items():
        for row in getattr(module, category):
            if len(row) == 4:
                masked.append((*row, action))
            else:
                actions[(row[0] << 16) | row[1]] = action
    version = importlib.metadata.version("dicom-anonymizer")
    source = f"dicom-anonymizer {version}, {editions[edition]}"
    return Profile(edition, source, MappingProxyType(actions), tuple(masked))


@functools.cache
def dictionary_vr(tag: int) -> str:
    """Return the value representation the DICOM dictionary gives a tag (``"UN"`` if none).

    Parameters
    ----------
    tag : int

    Returns
    -------
    str
        The first VR when the dictionary allows several (``"US or SS"`` -> ``"US"``).

    Examples
    --------
    >>> dictionary_vr(0x00100030), dictionary_vr(0x00280106), dictionary_vr(0x00091001)
    ('DA', 'US', 'UN')
    """
    try:
        return dictionary_VR(tag).split(" ")[0]
    except KeyError:
        return "UN"


def _tags(keywords: Iterable[str]) -> list[int]:
    return [t for t in (tag_for_keyword(k) for k in keywords) if t is not None]


@functools.cache
def _plan(options: Options) -> tuple[Mapping[int, str], Mapping[int, str]]:
    """Return the plan, and the combined table actions it still resolves by default."""
    rules = profile_rules()
    profile = load_profile(options.edition)
    actions = {tag: rules.resolve[action] for tag, action in profile.actions.items()}
    for tag, action in zip(_tags(rules.choices), rules.choices.values(), strict=True):
        actions[tag] = action
    for name in options.chosen():
        rule = rules.options[name]
        skip = set(_tags(rule.exceptions))
        if rule.by_vr:
            for tag in list(actions):
                vr = dictionary_vr(tag)
                if vr in rule.by_vr and tag not in skip:
                    actions[tag] = rule.by_vr[vr]
        actions.update(dict.fromkeys(_tags(rule.attributes), rule.action))
    combined = {tag: action for tag, action in profile.actions.items()
                if "/" in action and actions.get(tag) == rules.resolve[action] != "U*"}
    return MappingProxyType(actions), MappingProxyType(combined)


@functools.cache
def plan(options: Options | None = None) -> Mapping[int, str]:
    """Return the one action mrishare applies to each tag the table lists, for these options.

    Combined actions are resolved (``X/Z`` -> ``X``), mrishare's choices applied
    (``PatientName`` -> ``D``: the participant label), then each option switched on.
    Repeating groups (overlays, curves) are not in the plan: see :meth:`Profile.action`.

    Parameters
    ----------
    options : Options, optional
        Default the basic profile alone.

    Returns
    -------
    mapping of int to str
        Tag to one of ``D Z X K C U U*`` (read only; built once per set of options).

    Examples
    --------
    >>> basic = plan()
    >>> basic[0x00080020], plan(Options(keep_longitudinal_dates=True))[0x00080020]  # StudyDate
    ('Z', 'C')
    """
    return _plan(options or Options())[0]


@functools.cache
def typed_plans(sop_class: str, options: Options | None = None,
                ) -> Mapping[tuple[int, ...], Mapping[int, str]] | None:
    """Return the plan for one SOP class, with combined actions chosen by type, per place.

    A combined action (``X/Z``, ``X/D``, ``Z/D``, ``X/Z/D``) that no option or choice has
    replaced becomes, for an attribute of Type 1 in the object's IOD, a dummy (``D``); of
    Type 2, an empty value (``Z``); of Type 3, removal (``X``) (``by_type`` of the rules;
    types from :func:`mrishare.dicom.iod.attribute_types`). A required sequence is kept
    and its items de-identified one by one (``U*``).

    Parameters
    ----------
    sop_class : str
        The SOP Class UID of the object.
    options : Options, optional

    Returns
    -------
    mapping or None
        Path of enclosing sequence tags (``()``: the top level) to the plan that applies
        there; places the tables do not describe take :func:`plan`. None when the tables
        do not know the SOP class (then :func:`plan` applies everywhere: the strictest).

    Examples
    --------
    >>> enhanced_mr = typed_plans("1.2.840.10008.5.1.4.1.1.4.1")
    >>> enhanced_mr[()][0x00181000], plan()[0x00181000]  # Device Serial Number, Type 1
    ('D', 'X')
    >>> typed_plans("1.2.840.10008.5.1.4.1.1.4")[()][0x00080023]  # Content Date, Type 2
    'Z'
    """
    options = options or Options()
    types = attribute_types(sop_class)
    if types is None:
        return None
    base, combined = _plan(options)
    by_type = profile_rules().by_type
    plans = {}
    for path, kinds in types.items():
        changed = {tag: by_type[kind] for tag, kind in kinds.items() if tag in combined}
        for tag, action in changed.items():
            if action == "D" and dictionary_vr(tag) == "SQ":
                changed[tag] = "U*"  # a required sequence: kept, its items de-identified
        plans[path] = MappingProxyType({**base, **changed}) if changed else base
    return MappingProxyType(plans)
