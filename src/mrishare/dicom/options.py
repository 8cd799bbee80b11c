"""The profile's options and mrishare's choices, as data read from ``mrishare/rules/``.

Two rule files say how the standard's profile is applied; a data steward can read and change
them without reading Python:

* ``dicom_profile_options.yaml``: what each option of PS3.15 E.3 keeps, the choices the
  standard leaves open (which of ``X/Z`` to take, dummy values by VR), the file meta
  attributes removed, and the codes (CID 7050) written into every file;
* ``safe_private_tags.tsv``: the private attributes the Retain Safe Private option keeps.

Both are checked when read: a misspelled keyword, an unknown action or VR, or a malformed
row raises :class:`~mrishare.errors.RuleFileError` naming the file and the line.

Examples
--------
>>> rules = profile_rules()
>>> rules.resolve["X/Z"], rules.options["clean_descriptors"].action
('X', 'C')
>>> Options(clean_descriptors=True).chosen()
['clean_descriptors']
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from pydicom.datadict import tag_for_keyword
from pydicom.valuerep import VR

from mrishare import rules
from mrishare.errors import RuleFileError

__all__ = [
    "ACTIONS",
    "OptionRule",
    "Options",
    "ProfileRules",
    "SafePrivateTag",
    "option_names",
    "profile_rules",
    "safe_private_tags",
]

OPTIONS_FILE = "dicom_profile_options.yaml"
SAFE_PRIVATE_FILE = "safe_private_tags.tsv"

ACTIONS = ("D", "Z", "X", "K", "C", "U", "U*")
"""The actions mrishare applies (a combined action of the table resolves to one of these)."""

_KNOWN_VRS = frozenset(v.value for v in VR)


@dataclass(frozen=True)
class Options:
    """Options of the profile (PS3.15 E.3), all off by default.

    Parameters
    ----------
    keep_longitudinal_dates : bool, default False
        Retain Longitudinal Temporal Information with Modified Dates: shift every date by
        the participant's keyed shift (so intervals between sessions survive) instead of
        removing dates. Times of day are kept.
    clean_descriptors : bool, default False
        Clean Descriptors: keep series and study descriptions, protocol names and image
        comments, with identifying words (names, IDs, dates found in the same file) removed.
    keep_patient_characteristics : bool, default False
        Retain Patient Characteristics: keep sex, age, size, weight and the like.
    keep_private_safe : bool, default False
        Retain Safe Private: keep the private attributes of :func:`safe_private_tags`.
    edition : str, optional
        Edition of Table E.1-1; default the newest shipped.

    Notes
    -----
    What each option keeps is listed in ``mrishare/rules/dicom_profile_options.yaml``.

    Examples
    --------
    >>> Options(keep_longitudinal_dates=True, keep_private_safe=True).chosen()
    ['keep_longitudinal_dates', 'keep_private_safe']
    """

    keep_longitudinal_dates: bool = False
    clean_descriptors: bool = False
    keep_patient_characteristics: bool = False
    keep_private_safe: bool = False
    edition: str | None = None

    def chosen(self) -> list[str]:
        """Return the names of the options switched on, in the order of the fields."""
        return [name for name in option_names() if getattr(self, name)]


def option_names() -> list[str]:
    """Return the names of the options :class:`Options` offers.

    Examples
    --------
    >>> option_names()[0]
    'keep_longitudinal_dates'
    """
    return [f.name for f in fields(Options) if f.type in (bool, "bool")]


@dataclass(frozen=True)
class OptionRule:
    """What one option changes in the plan.

    Parameters
    ----------
    code : str
        Its code in CID 7050 (pydicom's ``codes.DCM`` name).
    action : str
        The action given to :attr:`attributes` (``""`` when the option lists none).
    attributes : tuple of str
        Keywords the option keeps (K) or cleans (C).
    by_vr : dict of str to str
        Action by value representation, for every attribute of the table with that VR.
    exceptions : tuple of str
        Keywords :attr:`by_vr` does not apply to.
    """

    code: str
    action: str = ""
    attributes: tuple[str, ...] = ()
    by_vr: Mapping[str, str] = field(default_factory=dict)
    exceptions: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProfileRules:
    """The content of ``dicom_profile_options.yaml`` (see the file for each part).

    Parameters
    ----------
    table_lists : dict of str to str
        dicom-anonymizer's list name to the action it stands for.
    resolve : dict of str to str
        Table action (``"X/Z"``) to the one action mrishare applies (``"X"``).
    choices : dict of str to str
        Keyword to the action mrishare takes where the profile allows more than one.
    pseudonym_dummies : frozenset of str
        Keywords whose dummy value is the participant label.
    dummy_by_vr : dict of str to object
        VR to the dummy value of action D.
    file_meta : dict of int to str
        File meta tag to its action.
    profile_code : str
        The basic profile's CID 7050 code name.
    options : dict of str to OptionRule
        Option name (a field of :class:`Options`) to what it changes.
    code_values : dict of str to (str, str)
        Code name (pydicom's ``codes.DCM`` name) to its value and meaning (scheme DCM).
    by_type : dict of int to str
        Type in the IOD (1, 2, 3) to the action a combined action takes.
    removed_groups : dict of int to str
        Repeating group (``0x6000``: overlays) to what it is; removed whole.
    kept_uids : frozenset of int
        Tags of UID attributes kept as they are (classes and encodings, never instances).
    """

    table_lists: Mapping[str, str]
    resolve: Mapping[str, str]
    choices: Mapping[str, str]
    pseudonym_dummies: frozenset[str]
    dummy_by_vr: Mapping[str, Any]
    file_meta: Mapping[int, str]
    profile_code: str
    options: Mapping[str, OptionRule]
    code_values: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    by_type: Mapping[int, str] = field(default_factory=dict)
    removed_groups: Mapping[int, str] = field(default_factory=dict)
    kept_uids: frozenset[int] = frozenset()


# ----------------------------------------------------------------------------- YAML


def _lines(text: str) -> dict[tuple[Any, ...], int]:
    """Line number of every key and list item of a YAML text, by its path."""
    import yaml

    found: dict[tuple[Any, ...], int] = {}

    def walk(node: Any, where: tuple[Any, ...]) -> None:
        found[where] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                walk(value, (*where, key.value))
                found[(*where, key.value)] = key.start_mark.line + 1  # the key's own line
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                walk(item, (*where, index))

    root = yaml.compose(text, Loader=rules.yaml_loader())
    if root is not None:
        walk(root, ())
    return found


class _Checker:
    """Checks parts of a YAML rule file, naming the line of what is wrong."""

    def __init__(self, name: str) -> None:
        where = rules.path(name)
        self.name = where.name
        self.content = rules.read_yaml(where)
        self.lines = _lines(where.read_text(encoding="utf-8"))

    def fail(self, where: tuple[Any, ...], problem: str) -> RuleFileError:
        line = self.lines.get(where) or self.lines.get(where[:-1], 1)
        return RuleFileError(f"{self.name}, line {line}: {problem}")

    def mapping(self, value: Any, where: tuple[Any, ...], keys: Sequence[str] = (),
                optional: Sequence[str] = ()) -> dict[str, Any]:
        label = ".".join(map(str, where)) or "the file"
        if not isinstance(value, dict):
            raise self.fail(where, f"{label} must be a mapping (key: value lines).")
        for key in keys:
            if key not in value:
                raise self.fail(where, f"{label} lacks {key!r}.")
        if keys or optional:
            for key in value:
                if key not in (*keys, *optional):
                    raise self.fail((*where, key), f"{label} has an unknown entry {key!r}; "
                                                   f"expected {', '.join([*keys, *optional])}.")
        return value

    def keywords(self, value: Any, where: tuple[Any, ...]) -> tuple[str, ...]:
        if not isinstance(value, list):
            raise self.fail(where, f"{'.'.join(map(str, where))} must be a list of keywords.")
        for index, keyword in enumerate(value):
            self.keyword(keyword, (*where, index))
        return tuple(value)

    def keyword(self, keyword: Any, where: tuple[Any, ...]) -> int:
        tag = tag_for_keyword(str(keyword))
        if tag is None:
            raise self.fail(where, f"{keyword!r} is not a DICOM keyword (e.g. PatientName).")
        return tag

    def action(self, value: Any, where: tuple[Any, ...], allowed: Sequence[str] = ACTIONS,
               ) -> str:
        if value not in allowed:
            raise self.fail(where, f"action {value!r}; expected one of {', '.join(allowed)}.")
        return str(value)

    def vr(self, value: Any, where: tuple[Any, ...]) -> str:
        if value not in _KNOWN_VRS:
            raise self.fail(where, f"{value!r} is not a DICOM value representation (VR).")
        return str(value)

    def code(self, value: Any, where: tuple[Any, ...]) -> str:
        if str(value) not in self.content.get("code_values", {}):
            raise self.fail(where, f"{value!r} has no line in code_values (a code of CID "
                                   "7050, scheme DCM).")
        return str(value)


@functools.cache
def profile_rules(name: str = OPTIONS_FILE) -> ProfileRules:
    """Read and check ``dicom_profile_options.yaml`` (once).

    Parameters
    ----------
    name : str, default "dicom_profile_options.yaml"
        The shipped file, or a path to a file of the same form.

    Returns
    -------
    ProfileRules

    Raises
    ------
    RuleFileError
        Naming the file and the line of a malformed or unknown entry.

    Examples
    --------
    >>> profile_rules().choices["PatientName"]
    'D'
    >>> 0x00020016 in profile_rules().file_meta  # Source Application Entity Title
    True
    """
    check = _Checker(str(name))
    top = check.mapping(check.content, (), ["table_lists", "resolve", "choices",
                                            "pseudonym_dummies", "dummy_by_vr", "file_meta",
                                            "profile_code", "options", "by_type",
                                            "removed_groups", "kept_uids", "code_values"])
    table_lists = check.mapping(top["table_lists"], ("table_lists",))
    resolve = check.mapping(top["resolve"], ("resolve",))
    for action, one in resolve.items():
        check.action(one, ("resolve", action))
    for listed, action in table_lists.items():
        if action not in resolve:
            raise check.fail(("table_lists", listed), f"action {action!r} has no line in "
                                                      "resolve.")
    choices = check.mapping(top["choices"], ("choices",))
    for keyword, action in choices.items():
        check.keyword(keyword, ("choices", keyword))
        check.action(action, ("choices", keyword))
    dummies = check.mapping(top["dummy_by_vr"], ("dummy_by_vr",))
    for vr in dummies:
        check.vr(vr, ("dummy_by_vr", vr))
    file_meta = {}
    for keyword, action in check.mapping(top["file_meta"], ("file_meta",)).items():
        tag = check.keyword(keyword, ("file_meta", keyword))
        if tag >> 16 != 0x0002:
            raise check.fail(("file_meta", keyword), f"{keyword} is not in the file meta "
                                                     "header (group 0002).")
        file_meta[tag] = check.action(action, ("file_meta", keyword), ("X", "K"))
    options = {}
    known = option_names()
    for option, rule in check.mapping(top["options"], ("options",), known).items():
        where = ("options", option)
        rule = check.mapping(rule, where, ["code"], ["action", "attributes", "by_vr", "except"])
        by_vr = check.mapping(rule.get("by_vr", {}), (*where, "by_vr"))
        for vr, action in by_vr.items():
            check.vr(vr, (*where, "by_vr", vr))
            check.action(action, (*where, "by_vr", vr))
        attributes = check.keywords(rule.get("attributes", []), (*where, "attributes"))
        if attributes and "action" not in rule:
            raise check.fail(where, f"{option} lists attributes but no action for them.")
        options[option] = OptionRule(
            code=check.code(rule["code"], (*where, "code")),
            action=check.action(rule["action"], (*where, "action")) if "action" in rule else "",
            attributes=attributes,
            by_vr=dict(by_vr),
            exceptions=check.keywords(rule.get("except", []), (*where, "except")),
        )
    code_values = {}
    for name, row in check.mapping(top["code_values"], ("code_values",)).items():
        if not (isinstance(row, list) and len(row) == 2 and str(row[0]).isdigit()):
            raise check.fail(("code_values", name), f"{name}: expected [code value, meaning].")
        code_values[str(name)] = (str(row[0]), str(row[1]))
    by_type = {}
    for kind, action in check.mapping(top["by_type"], ("by_type",), ["1", "2", "3"]).items():
        by_type[int(kind)] = check.action(action, ("by_type", kind), ("D", "Z", "X"))
    groups = {}
    for group, what in check.mapping(top["removed_groups"], ("removed_groups",)).items():
        if not re.fullmatch(r"[0-9A-Fa-f]{2}xx", str(group)) or int(str(group)[:2], 16) % 2:
            raise check.fail(("removed_groups", group), f"{group!r} is not a repeating group "
                                                        "such as 60xx.")
        groups[int(str(group)[:2], 16) << 8] = str(what)
    return ProfileRules(
        table_lists=dict(table_lists),
        resolve=dict(resolve),
        choices=dict(choices),
        pseudonym_dummies=frozenset(check.keywords(top["pseudonym_dummies"],
                                                   ("pseudonym_dummies",))),
        dummy_by_vr=dict(dummies),
        file_meta=file_meta,
        profile_code=check.code(top["profile_code"], ("profile_code",)),
        options=options,
        code_values=code_values,
        by_type=by_type,
        removed_groups=groups,
        kept_uids=frozenset(tag_for_keyword(k) or 0 for k in check.keywords(
            top["kept_uids"], ("kept_uids",))),
    )


# ----------------------------------------------------------------------------- TSV


@dataclass(frozen=True)
class SafePrivateTag:
    """A private attribute the Retain Safe Private option keeps.

    Parameters
    ----------
    creator : str
        The private creator, as the file writes it (e.g. ``"SIEMENS MR HEADER"``).
    group : int
        The (odd) group, e.g. ``0x0019``.
    element : int
        The element within the creator's block, ``0x00`` to ``0xFF``.
    name : str
        What the vendor calls it.
    why : str
        Why it cannot identify anyone.
    """

    creator: str
    group: int
    element: int
    name: str
    why: str


@functools.cache
def safe_private_tags(name: str = SAFE_PRIVATE_FILE,
                      ) -> dict[tuple[str, int, int], SafePrivateTag]:
    """Read and check ``safe_private_tags.tsv`` (once).

    Parameters
    ----------
    name : str, default "safe_private_tags.tsv"
        The shipped file, or a path to a file of the same form.

    Returns
    -------
    dict
        ``(creator, group, element)`` to the :class:`SafePrivateTag`.

    Raises
    ------
    RuleFileError
        Naming the file and the line of a malformed row.

    Examples
    --------
    >>> safe_private_tags()[("SIEMENS MR HEADER", 0x0019, 0x0C)].name
    'B_value'
    """
    table: dict[tuple[str, int, int], SafePrivateTag] = {}
    file = rules.path(name).name
    for line, row in rules.read_tsv_numbered(
            name, required=["creator", "group", "element", "name", "why"]):
        try:
            group, element = int(row["group"], 16), int(row["element"], 16)
        except ValueError:
            group = element = -1
        if not (len(row["group"]) == 4 and group % 2 == 1 and group > 0x0008):
            raise RuleFileError(f"{file}, line {line}: group {row['group']!r} is not a private "
                                "group (four hexadecimal digits, odd, above 0008).")
        if not (len(row["element"]) == 2 and 0 <= element <= 0xFF):
            raise RuleFileError(f"{file}, line {line}: element {row['element']!r} must be two "
                                "hexadecimal digits (00-FF), the element within the block.")
        key = (row["creator"], group, element)
        if key in table:
            raise RuleFileError(f"{file}, line {line}: {row['creator']} ({row['group']},"
                                f"xx{row['element']}) is listed twice.")
        table[key] = SafePrivateTag(row["creator"], group, element, row["name"], row["why"])
    return table
