"""Values to search for: identifiers, the forms they take elsewhere, and masked hints.

An :class:`IdentifierSet` holds every value an audit searches for, each with its kind
(``"patient name"``, ``"birth date"``...), plus original UIDs and the site's UID root. A value
is added with the variants its kind takes in other places (``Jansen^Marieke`` is also
``Marieke Jansen``, ``JANSEN_MARIEKE`` and ``Marieke``; ``19870412`` is also ``1987-04-12``
and ``12-04-1987``). Values too short or too common to search are refused by the rules of
:func:`mrishare.audit.specificity` and listed in :attr:`IdentifierSet.skipped`.

Examples
--------
>>> ids = IdentifierSet()
>>> ids.add_value("Jansen^Marieke^A", "patient name")
>>> sorted(m.kind for m in ids.find("Scan of MARIEKE JANSEN, weight 64"))
['patient name']
>>> ids.find("weight 64 kg")
[]
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from mrishare.audit.specificity import specificity

__all__ = ["VARIANT_KINDS", "Identifier", "IdentifierSet", "Match", "mask"]

_DATE_FORMATS = ("%Y%m%d", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y", "%d/%m/%Y", "%Y/%m/%d",
                 "%m/%d/%Y")
_UID_TOKEN = re.compile(r"(?<![0-9.])[0-9]+(?:\.[0-9]+){2,}")


@dataclass(frozen=True)
class Identifier:
    """One value to search for.

    Parameters
    ----------
    value : str
        The text searched (case-insensitive).
    kind : str
        What it is: ``"patient name"``, ``"birth date"``, ``"uid"``, ...
    boundary : {"none", "letter", "digit"}
        A match must not touch a letter (``"letter"``: ``Anna`` does not match in
        ``Savannah``) or a digit (``"digit"``) on either side.
    """

    value: str
    kind: str
    boundary: str = "none"


@dataclass(frozen=True)
class Match:
    """A value found in a text: where it starts and ends, and what it was.

    Parameters
    ----------
    start, end : int
        The match is ``text[start:end]``.
    kind : str
        The kind of the value found.
    value : str
        The value found (never shown: see :attr:`hint`).
    """

    start: int
    end: int
    kind: str
    value: str = field(repr=False)

    @property
    def hint(self) -> str:
        """The value, masked (see :func:`mask`)."""
        return mask(self.value)


def mask(value: str) -> str:
    """Hide a value but keep enough to recognise it: first and last character, length.

    Parameters
    ----------
    value : str

    Returns
    -------
    str

    Examples
    --------
    >>> mask("Jansen")
    'J…n (6 characters)'
    """
    if len(value) <= 2:
        return f"… ({len(value)} characters)"
    return f"{value[0]}…{value[-1]} ({len(value)} characters)"


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def _is_numeric(value: str) -> bool:
    return bool(value) and not re.search(r"[A-Za-z]", value)


@dataclass
class IdentifierSet:
    """Values to search for, each with its kind, plus UIDs and UID roots.

    Build one with :func:`mrishare.audit.harvest` (from a source DICOM tree),
    :meth:`add_value` or :func:`mrishare.audit.read_identifier_file`; combine two with ``|``.

    Parameters
    ----------
    values : dict of str to Identifier
        Searched values by their lower-case text.
    uids : dict of str to str
        Original UIDs (matched whole) and their kind.
    uid_roots : dict of str to str
        UID roots: any UID under one is an original.
    skipped : list of tuple of str
        ``(masked value, kind, reason)`` of each value refused as not specific enough.

    Examples
    --------
    >>> ids = IdentifierSet()
    >>> ids.add_value("19870412", "birth date")
    >>> [m.kind for m in ids.find("born 12-04-1987")]
    ['birth date']
    >>> ids.add_value("F", "sex")
    >>> ids.skipped[-1][1]
    'sex'
    """

    values: dict[str, Identifier] = field(default_factory=dict)
    uids: dict[str, str] = field(default_factory=dict)
    uid_roots: dict[str, str] = field(default_factory=dict)
    skipped: list[tuple[str, str, str]] = field(default_factory=list)

    # -- building
    def _add(self, value: str, kind: str, boundary: str) -> None:
        value = value.strip()
        key = value.lower()
        if not key or key in self.values:
            return
        rules = specificity()
        reason = ""
        if _is_numeric(value):
            boundary = "digit"
            if len(_digits(value)) < rules.min_digits:
                reason = "too few digits to be specific"
        elif len(value) < rules.min_length:
            reason = "too short to be specific"
        if reason:
            entry = (mask(value), kind, reason)
            if entry not in self.skipped:
                self.skipped.append(entry)
            return
        self.values[key] = Identifier(value, kind, boundary)

    def add_value(self, value: str, kind: str = "listed") -> None:
        """Add a value and the variants its kind takes elsewhere.

        Parameters
        ----------
        value : str
            As found in DICOM (``Family^Given`` for names, ``YYYYMMDD`` for dates).
        kind : str, default "listed"
            A kind of :data:`VARIANT_KINDS`, or any other word (the value is then searched
            as it is).
        """
        value = str(value).strip()
        if not value:
            return
        maker = _VARIANTS.get(kind, _plain_variants)
        for variant, boundary in maker(value):
            self._add(variant, kind, boundary)

    def add_uid(self, uid: str, kind: str = "uid") -> None:
        """Add an original UID (matched whole, wherever a UID-shaped token appears).

        Parameters
        ----------
        uid : str
            The UID; UIDs of the standard (``1.2.840.10008.``) are ignored.
        kind : str, default "uid"
        """
        uid = uid.strip().rstrip("\x00")
        if uid and not uid.startswith("1.2.840.10008."):
            self.uids.setdefault(uid, kind)

    def add_uid_root(self, root: str) -> None:
        """Add a UID root: any UID under it is an original, and so is the root itself.

        Parameters
        ----------
        root : str
            Refused (and listed in :attr:`skipped`) when too short or generic.
        """
        rules = specificity()
        parts = root.strip(".").split(".")
        generic = any(root == g or root.startswith(g + ".") for g in rules.generic_uid_roots)
        if len(parts) < rules.min_uid_root_components or generic:
            self.skipped.append((root, "uid root", "too general to identify a site"))
            return
        self.uid_roots[root.strip(".")] = "uid root"

    def __or__(self, other: IdentifierSet) -> IdentifierSet:
        """Return a new set with the values of both."""
        merged = IdentifierSet(dict(self.values), dict(self.uids), dict(self.uid_roots),
                               list(self.skipped))
        for key, ident in other.values.items():
            merged.values.setdefault(key, ident)
        merged.uids.update({k: v for k, v in other.uids.items() if k not in merged.uids})
        merged.uid_roots.update(other.uid_roots)
        merged.skipped += other.skipped
        return merged

    def __len__(self) -> int:
        """Return the number of values, UIDs and UID roots searched."""
        return len(self.values) + len(self.uids) + len(self.uid_roots)

    def counts(self) -> dict[str, int]:
        """Return the number of searched values per kind (variants counted separately).

        Returns
        -------
        dict of str to int
        """
        kinds = Counter(i.kind for i in self.values.values())
        kinds.update(self.uids.values())
        kinds.update(self.uid_roots.values())
        return dict(sorted(kinds.items()))

    def dates(self) -> set[str]:
        """Return the dates (``YYYYMMDD``) among the values.

        Returns
        -------
        set of str
        """
        return {i.value for i in self.values.values()
                if re.fullmatch(r"\d{8}", i.value) and i.kind.endswith("date")}

    # -- searching
    def find(self, text: str) -> list[Match]:
        """Find every value in ``text`` (case-insensitive), longest matches first.

        Matches inside a longer match are dropped, so ``Marieke Jansen`` is one match,
        not three.

        Parameters
        ----------
        text : str

        Returns
        -------
        list of Match
            In the order they appear in ``text``.
        """
        if not text:
            return []
        low = text.lower()
        found: list[Match] = []
        for key, ident in self.values.items():
            start = low.find(key)
            while start != -1:
                end = start + len(key)
                if _bounded(low, start, end, ident.boundary):
                    found.append(Match(start, end, ident.kind, ident.value))
                start = low.find(key, start + 1)
        if self.uids or self.uid_roots:
            for token in _UID_TOKEN.finditer(text):
                uid = token.group(0)
                kind = self.uids.get(uid) or self._root_of(uid)
                if kind:
                    found.append(Match(token.start(), token.end(), kind, uid))
        found.sort(key=lambda m: (-(m.end - m.start), m.start))
        kept: list[Match] = []
        for match in found:
            if not any(k.start <= match.start and match.end <= k.end for k in kept):
                kept.append(match)
        return sorted(kept, key=lambda m: m.start)

    def _root_of(self, uid: str) -> str | None:
        for root, kind in self.uid_roots.items():
            if uid == root or uid.startswith(root + "."):
                return kind
        return None


def _bounded(text: str, start: int, end: int, boundary: str) -> bool:
    if boundary == "none":
        return True
    if boundary == "letter":
        before = text[start - 1] if start > 0 else ""
        after = text[end] if end < len(text) else ""
        return not (before.isalpha() or after.isalpha())
    # digits: no digit next to the match, nor a decimal point or UID dot with a digit beyond
    before = text[max(start - 2, 0):start]
    after = text[end:end + 2]
    if (before[-1:].isdigit() or after[:1].isdigit()
            or (len(before) == 2 and before[0].isdigit() and before[1] in ".,")):
        return False
    return not (len(after) == 2 and after[0] in ".," and after[1].isdigit())


# ----------------------------------------------------------------------------- variants


def _plain_variants(value: str) -> Iterator[tuple[str, str]]:
    yield value, "none"


def _name_variants(value: str) -> Iterator[tuple[str, str]]:
    """Yield ``Family^Given^Middle^Prefix^Suffix`` and the forms it takes in other places."""
    parts = [p.strip() for p in value.split("^")]
    parts += [""] * (5 - len(parts))
    family, given, middle = parts[0], parts[1], parts[2]
    yield value.rstrip("^"), "none"
    spaced = " ".join(p for p in (given, middle, family) if p)
    yield spaced, "letter"
    for a, b in ((given, family), (family, given)):
        if a and b:
            for sep in (" ", "^", "_", ", ", ""):
                yield f"{a}{sep}{b}", "none"
    if " " in family:
        yield family.replace(" ", ""), "letter"
        yield family.replace(" ", "_"), "letter"
    rules = specificity()
    particles = set(rules.name_particles)
    for part in (family, given, middle):
        for word in {part, *part.split()}:
            if len(word) >= rules.min_part_length and word.lower() not in particles:
                yield word, "letter"


def _date_variants(value: str) -> Iterator[tuple[str, str]]:
    text = value.strip()[:8]
    try:
        date = dt.datetime.strptime(text, "%Y%m%d")
    except ValueError:
        yield value, "digit"
        return
    for fmt in _DATE_FORMATS:
        yield date.strftime(fmt), "digit"


def _id_variants(value: str) -> Iterator[tuple[str, str]]:
    yield value, "none"
    compact = re.sub(r"[^0-9A-Za-z]", "", value)
    if compact != value:
        yield compact, "none"
    tail = re.search(r"[0-9]+$", value)
    if tail and tail.group(0) != value:
        yield tail.group(0), "digit"


def _word_variants(value: str) -> Iterator[tuple[str, str]]:
    """Yield the whole value, each comma-separated part, and each specific long word."""
    yield value, "none"
    for part in value.split(","):
        if part.strip() != value:
            yield part.strip(), "letter"
    rules = specificity()
    generic = set(rules.generic_words)
    for word in re.findall(r"[^\W\d_]+", value):
        if len(word) >= rules.min_word_length and word.lower() not in generic:
            yield word, "letter"


def _phone_variants(value: str) -> Iterator[tuple[str, str]]:
    yield value, "none"
    digits = _digits(value)
    if digits != value:
        yield digits, "digit"


_VARIANTS: dict[str, Callable[[str], Iterator[tuple[str, str]]]] = {
    "patient name": _name_variants,
    "staff name": _name_variants,
    "person name": _name_variants,
    "birth date": _date_variants,
    "scan date": _date_variants,
    "patient id": _id_variants,
    "accession number": _id_variants,
    "study id": _id_variants,
    "address": _word_variants,
    "institution": _word_variants,
    "telephone": _phone_variants,
}

VARIANT_KINDS: tuple[str, ...] = tuple(_VARIANTS)
"""Kinds whose values are searched with their variants (other kinds: as written)."""
