"""Apply the plan to one dataset: dummies, empty values, keyed UIDs, shifted dates, cleaned text.

Every element of the dataset and, recursively, of its sequences gets the action
:func:`~mrishare.dicom.profile.plan` gives its tag:

====  ===========================================================================
D     replace with a dummy value (for the patient's name and ID: the participant label)
Z     replace with an empty value
X     remove
K     keep (a sequence's items are still walked)
C     clean: dates shifted by the participant's keyed shift, identifying words removed
U     replace a UID with a keyed one, the same everywhere it appears
U*    keep a reference sequence, replace the UIDs inside it
====  ===========================================================================

A combined action (``X/Z``, ``X/D``, ...) is chosen by the attribute's type in the object's
IOD (:func:`~mrishare.dicom.profile.typed_plans`). Overlays (60xx) and curves (50xx) are
removed as whole groups. Every UID that is not one of the standard's own is replaced by the
keyed one, at any depth, malformed or not (except the classes and encodings the rules keep).
Private (vendor) elements are removed, except those of ``rules/safe_private_tags.tsv`` when
that option is on; the file meta header loses the sending station's name and address and
names the implementation that wrote the file; the pixel data are never touched. The result
says what was done (Patient Identity Removed and the De-identification Method, with the
codes of CID 7050).

Examples
--------
>>> from mrishare import data
>>> from mrishare.keys import Key
>>> ds = deidentify(data.sample_path("pydicom_MR_small"), Key(bytes(32)))
>>> ds.PatientIdentityRemoved, "InstitutionName" in ds
('YES', False)
"""

from __future__ import annotations

import copy as copy_module
import datetime as dt
import functools
import os
import re
import struct
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydicom import __version__ as pydicom_version
from pydicom import config as pydicom_config
from pydicom.datadict import tag_for_keyword
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence
from pydicom.tag import BaseTag
from pydicom.uid import (
    PYDICOM_IMPLEMENTATION_UID,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)
from pydicom.valuerep import VR

from mrishare import __version__
from mrishare.dicom.options import Options, profile_rules, safe_private_tags
from mrishare.dicom.people import participant_id
from mrishare.dicom.profile import Profile, dictionary_vr, load_profile, plan, typed_plans
from mrishare.dicom.values import raw_text, text
from mrishare.errors import BadInputError
from mrishare.keys import Key
from mrishare.readers import read_dicom

__all__ = ["clean_text", "deidentify", "word_patterns"]

_KNOWN_VRS = frozenset(v.value for v in VR)
STANDARD_UID_ROOT = "1.2.840.10008."
"""The standard's own UIDs (classes, transfer syntaxes, ...) start so; they are kept."""

Path = tuple[int, ...]


@dataclass
class _Context:
    """What one file's de-identification needs to know."""

    key: Key
    options: Options
    plan: Mapping[int, str]
    profile: Profile
    participant: str
    label: str
    root: Dataset
    plans: Mapping[Path, Mapping[int, str]] | None = None
    identifiers: list[re.Pattern[str]] = field(default_factory=list)
    removed: set[int] = field(default_factory=set)
    kept_uids: frozenset[int] = frozenset()
    groups: Mapping[int, str] = field(default_factory=dict)
    pseudonyms: frozenset[int] = frozenset()


@functools.cache
def _pseudonym_tags() -> frozenset[int]:
    """Return the tags whose dummy is the participant label (PatientName, PatientID)."""
    return frozenset(tag_for_keyword(k) or 0 for k in profile_rules().pseudonym_dummies)


@functools.lru_cache(maxsize=1 << 16)
def _keyed_uid(key: Key, uid: str) -> str:
    text = uid.strip(" \x00")
    if not text or text.startswith(STANDARD_UID_ROOT):
        return text
    return key.uid(text)


def _vr(ds: Dataset, tag: BaseTag) -> str:
    vr = ds.get_item(tag).VR
    if not vr or vr == "UN":  # implicit, or unknown to the writer: pydicom reads it so
        return dictionary_vr(tag)
    if vr not in _KNOWN_VRS:
        raise BadInputError(f"unreadable element {tag}: unknown value representation {vr!r}")
    return vr


_TEXT_VRS = frozenset({"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT", "PN", "SH",
                       "ST", "TM", "UC", "UI", "UR", "UT"})
"""Value representations stored as text: the same bytes in every transfer syntax."""


def _encoded(vr: str, value: Any) -> bytes | None:
    """Return a text value as it is written (even length), or None when it is not ASCII text.

    Numbers, sequences and other character sets are left to pydicom to encode.
    """
    if vr not in _TEXT_VRS:
        return None
    values = [] if value is None else value if isinstance(value, list | tuple) else [value]
    if not all(isinstance(v, str) for v in values):
        return None
    text = "\\".join(values)
    if not text.isascii():
        return None
    raw = text.encode("ascii")
    return raw + (b"\0" if vr == "UI" else b" ") if len(raw) % 2 else raw


def _set(ds: Dataset, tag: int, vr: str, value: Any) -> None:
    # Values made here (dummies, keyed UIDs, shifted dates) are valid: not checked again.
    # Plain text goes in as the bytes the writer would make of it (what pydicom would
    # write, without converting it twice); anything else as a data element.
    raw = _encoded(vr, value)
    if raw is None:
        ds[tag] = DataElement(tag, vr, value, validation_mode=0)
    else:
        ds[tag] = RawDataElement(BaseTag(tag), vr, len(raw), raw, 0, False, True)


def _remove(ds: Dataset, tag: BaseTag, ctx: _Context, path: Path) -> None:
    del ds[tag]


def _keep(ds: Dataset, tag: BaseTag, ctx: _Context, path: Path) -> None:
    if _vr(ds, tag) == "SQ":
        inside = (*path, int(tag))
        for item in ds[tag].value:
            _walk(item, ctx, inside)


def _empty(ds: Dataset, tag: BaseTag, ctx: _Context, path: Path) -> None:
    vr = _vr(ds, tag)
    _set(ds, tag, vr, [] if vr == "SQ" else None)


def _dummy(ds: Dataset, tag: BaseTag, ctx: _Context, path: Path) -> None:
    vr = _vr(ds, tag)
    rules = profile_rules()
    if tag in ctx.pseudonyms:
        # the label at the top level; inside sequences these name other people: emptied
        _set(ds, tag, vr, ctx.label if ds is ctx.root else None)
    elif vr == "UI":
        _replace_uid(ds, tag, ctx, path)
    else:
        value = rules.dummy_by_vr.get(vr)
        _set(ds, tag, vr, list(value) if isinstance(value, list) else value)


def _replace_uid(ds: Dataset, tag: BaseTag, ctx: _Context, path: Path) -> None:
    plain = raw_text(ds.get_item(tag))  # one UID as read: no need to convert it first
    if plain is not None:
        if plain and _keyed_uid(ctx.key, plain) != plain:
            _set(ds, tag, "UI", _keyed_uid(ctx.key, plain))
        return
    value = ds[tag].value
    if not value:
        return
    if isinstance(value, MultiValue | list):
        new: Any = [_keyed_uid(ctx.key, str(v)) for v in value]
    else:
        new = _keyed_uid(ctx.key, str(value))
    if new != value:
        _set(ds, tag, "UI", new)


def _clean(ds: Dataset, tag: BaseTag, ctx: _Context, path: Path) -> None:
    vr = _vr(ds, tag)
    value = ds[tag].value
    values = list(value) if isinstance(value, MultiValue) else [value]
    if vr in ("DA", "DT"):
        shift = ctx.key.date_shift(ctx.participant)
        cleaned = [_shift(str(v), vr, shift) for v in values if v]
    elif vr == "SQ":
        return _keep(ds, tag, ctx, path)
    else:
        cleaned = [clean_text(str(v), ctx.identifiers) for v in values if v]
    _set(ds, tag, vr, cleaned[0] if len(cleaned) == 1 else (cleaned or None))


_APPLY: dict[str, Callable[[Dataset, BaseTag, _Context, Path], None]] = {
    "X": _remove, "Z": _empty, "D": _dummy, "U": _replace_uid, "U*": _keep, "K": _keep,
    "C": _clean,
}


def _shift(value: str, vr: str, days: int) -> str:
    """Shift a DA or DT value by whole days; a value that is not a date is emptied."""
    try:
        date = dt.datetime.strptime(value[:8], "%Y%m%d").date()
    except ValueError:
        return ""
    return (date + dt.timedelta(days=days)).strftime("%Y%m%d") + (value[8:] if vr == "DT" else "")


def word_patterns(words: Iterable[str]) -> list[re.Pattern[str]]:
    """Return patterns that find each word (of three letters or more) as a whole word.

    Parameters
    ----------
    words : iterable of str
        Names, IDs, places (case does not matter).

    Returns
    -------
    list of re.Pattern
        Longest words first, so that a name is removed before a part of it.

    Examples
    --------
    >>> [p.pattern for p in word_patterns(["Tom", "of", "Jansen"])]
    ['(?<![A-Za-z0-9])Jansen(?![A-Za-z0-9])', '(?<![A-Za-z0-9])Tom(?![A-Za-z0-9])']
    """
    words = sorted({w for w in words if len(w) >= 3}, key=len, reverse=True)
    return [re.compile(rf"(?<![A-Za-z0-9]){re.escape(w)}(?![A-Za-z0-9])", re.I) for w in words]


def clean_text(text: str, identifiers: Iterable[re.Pattern[str]]) -> str:
    """Remove identifying words from a description (action C on text).

    Removes every identifier pattern and every run of six or more digits (dates, IDs),
    then tidies spaces and separators left at the ends.

    Parameters
    ----------
    text : str
    identifiers : iterable of re.Pattern
        See :func:`word_patterns`.

    Returns
    -------
    str

    Examples
    --------
    >>> clean_text("VUMC0047131_t1_mprage", word_patterns(["VUMC0047131"]))
    't1_mprage'
    >>> clean_text("T1 MPRAGE sag Jansen on 20240311", word_patterns(["jansen"]))
    'T1 MPRAGE sag on'
    """
    for pattern in identifiers:
        text = pattern.sub(" ", text)
    text = re.sub(r"\d{6,}", " ", text)
    text = re.sub(r"\s+", " ", text)
    return text.strip(" _-^,.;:/")


def _identifying_words(ds: Dataset, ctx: _Context) -> list[str]:
    """Words that the profile removes from this file: names, IDs, places, dates."""
    words = []
    for elem in ds.iterall():
        tag = elem.tag
        action = ctx.plan.get(tag) or ctx.profile.action(tag)
        if not (tag.is_private or action in ("X", "Z", "D")) or elem.VR == "SQ":
            continue
        values = elem.value if isinstance(elem.value, MultiValue) else [elem.value]
        for value in values:
            if isinstance(value, bytes) or value is None:
                continue
            text = str(value)
            words.append(text.strip())
            words += [w for w in re.split(r"[\s^,;:/\\]+", text) if len(w) >= 4 or
                      (elem.VR == "PN" and len(w) >= 3)]
            if elem.VR == "PN":  # "de Boer" is also written "deBoer" or "DEBOER"
                words += [part.replace(" ", "") for part in text.split("^") if " " in part]
    return words


def _walk(ds: Dataset, ctx: _Context, path: Path = ()) -> None:
    """Apply the plan to every element of ``ds`` and, recursively, of its sequences."""
    private = []
    plan = ctx.plan if ctx.plans is None else ctx.plans.get(path, ctx.plan)
    masked, groups, kept = ctx.profile.masked_groups, ctx.groups, ctx.kept_uids
    for tag in list(ds.keys()):
        number = int(tag)  # plain ints: the plan's lookups stay in C
        if number & 0x10000:
            private.append(tag)
            continue
        group = (number >> 16) & 0xFF00
        if group in groups:
            del ds[tag]  # an overlay or curve: the whole group goes
            ctx.removed.add(number >> 16)
            continue
        action = plan.get(number)
        if action is None and group in masked:
            found = ctx.profile.action(tag)
            action = profile_rules().resolve[found] if found else None
        if action is None or action == "K":
            vr = _vr(ds, tag)
            if vr == "UI" and number not in kept:
                action = "U"  # every UID that is not the standard's own
            elif vr == "SQ":
                action = "K"  # kept, and its items walked
            elif action is None:
                continue  # not in the table: kept as it is
        try:
            _APPLY[action](ds, tag, ctx, path)
        except BadInputError:
            raise
        except (NotImplementedError, ValueError, EOFError, struct.error) as error:
            raise BadInputError(f"unreadable element {tag}: {error}") from error
    if private:
        _private(ds, private, ctx)


def _private(ds: Dataset, tags: list[BaseTag], ctx: _Context) -> None:
    """Remove private elements, except the safe allow-list when that option is on."""
    keep: set[BaseTag] = set()
    if ctx.options.keep_private_safe:
        safe = safe_private_tags()
        creators = {(t.group, t.element): str(ds[t].value).strip()
                    for t in tags if 0x10 <= t.element <= 0xFF}
        for t in tags:
            creator = creators.get((t.group, t.element >> 8))
            if creator and (creator, t.group, t.element & 0xFF) in safe:
                keep |= {t, BaseTag((t.group << 16) | (t.element >> 8))}
    for t in tags:
        if t not in keep:
            del ds[t]


@functools.cache
def _method(options: Options, edition: str) -> tuple[list[str], list[tuple[str, str, str]]]:
    """Return the De-identification Method text and codes for these options (built once)."""
    rules = profile_rules()
    names = [rules.profile_code, *(rules.options[name].code for name in options.chosen())]
    chosen = [rules.code_values[name] for name in names]
    text = [f"mrishare {__version__}"[:64], f"PS3.15 E.1-1 {edition} Basic Profile",
            *[meaning[:64] for _, meaning in chosen[1:]]]
    return text, [(value, "DCM", meaning) for value, meaning in chosen]


def _mark(ds: Dataset, options: Options, profile: Profile) -> None:
    """Say what was done: PatientIdentityRemoved and the de-identification method."""
    text, chosen = _method(options, profile.edition)
    items = []
    for value, scheme, meaning in chosen:
        item = Dataset()
        _set(item, 0x00080100, "SH", value)  # Code Value
        _set(item, 0x00080102, "SH", scheme)  # Coding Scheme Designator
        _set(item, 0x00080104, "LO", meaning)  # Code Meaning
        items.append(item)
    _set(ds, 0x00120062, "CS", "YES")  # Patient Identity Removed
    _set(ds, 0x00120063, "LO", list(text))  # De-identification Method
    _set(ds, 0x00120064, "SQ", Sequence(items))  # ... Code Sequence
    # Longitudinal Temporal Information Modified
    _set(ds, 0x00280303, "CS", "MODIFIED" if options.keep_longitudinal_dates else "REMOVED")


_ENCODINGS = {(True, True): ImplicitVRLittleEndian, (False, True): ExplicitVRLittleEndian,
              (False, False): ExplicitVRBigEndian}
"""Transfer syntax of a header that names none, by how the data set was read."""


def _clean_file_meta(ds: Dataset, ctx: _Context) -> None:
    """Remove who sent the file; keep the file meta header consistent with the data set.

    The Media Storage SOP Class and Instance UIDs are the data set's (the instance's new),
    the implementation is named as the one that writes the file (pydicom), and what a
    Part 10 header must hold is filled in as ``enforce_file_format`` of
    :func:`pydicom.dcmwrite` would (group length, version, the transfer syntax the data
    set was read in), so the result is written as it stands.
    """
    meta = getattr(ds, "file_meta", None)
    if meta is None:
        return
    actions = profile_rules().file_meta
    own = (0x00020003, 0x00020012)  # Media Storage SOP Instance UID, Implementation Class UID
    for tag in list(meta.keys()):
        if actions.get(tag) == "X":
            del meta[tag]  # the group length is kept: pydicom writes the new one
        elif tag not in own and tag not in ctx.kept_uids and meta.get_item(tag).VR == "UI":
            _replace_uid(meta, tag, ctx, ())
    if 0x00080018 in ds:
        _set(meta, 0x00020003, "UI", text(ds, 0x00080018))  # SOP Instance UID
    elif 0x00020003 in meta:
        _replace_uid(meta, BaseTag(0x00020003), ctx, ())
    if text(ds, 0x00080016):  # SOP Class UID
        _set(meta, 0x00020002, "UI", text(ds, 0x00080016))
    _set(meta, 0x00020012, "UI", PYDICOM_IMPLEMENTATION_UID)
    _set(meta, 0x00020013, "SH", f"PYDICOM {pydicom_version}"[:16])
    if 0x00020000 not in meta:  # group length: the writer puts in the right one
        _set(meta, 0x00020000, "UL", 0)
    if 0x00020001 not in meta or meta[0x00020001].is_empty:
        _set(meta, 0x00020001, "OB", b"\0\1")  # File Meta Information Version
    encoding = _ENCODINGS.get(tuple(ds.original_encoding))  # type: ignore[arg-type]
    if not text(meta, 0x00020010) and encoding:
        _set(meta, 0x00020010, "UI", encoding)


def deidentify(
    dataset: str | os.PathLike | Dataset,
    key: Key,
    options: Options | None = None,
    *,
    copy: bool = True,
    notes: list[str] | None = None,
) -> Dataset:
    """De-identify one DICOM dataset by the profile, its options and the key.

    Parameters
    ----------
    dataset : path or pydicom.Dataset
        A file name (read with :func:`mrishare.readers.read_dicom`, so a file without file
        meta header is accepted), or a dataset read with pydicom.
    key : mrishare.keys.Key
        Gives the participant label, the UIDs and the date shift.
    options : Options, optional
        Profile options; default the basic profile alone.
    copy : bool, default True
        Work on a copy of a dataset passed in (a file read here is changed in place).
    notes : list of str, optional
        Filled with what a reader of the report should know: whole groups removed
        (overlays, curves), a SOP class the standard's tables do not know.

    Returns
    -------
    pydicom.Dataset
        The de-identified dataset, file meta included; pixel data untouched.

    Raises
    ------
    BadInputError
        When the file cannot be read, or an element that must be changed cannot be decoded.

    Examples
    --------
    >>> from mrishare import data
    >>> ds = deidentify(data.sample_path("pydicom_MR_small"), Key(bytes(32)))
    >>> ds.SOPInstanceUID == ds.file_meta.MediaStorageSOPInstanceUID
    True
    """
    options = options or Options()
    if isinstance(dataset, Dataset):
        ds = copy_module.deepcopy(dataset) if copy else dataset
    else:
        ds = read_dicom(dataset)
    profile = load_profile(options.edition)
    rules = profile_rules()
    person = participant_id(ds)
    sop_class = text(ds, "SOPClassUID")
    ctx = _Context(key, options, plan(options), profile, person, key.label(person), ds,
                   plans=typed_plans(sop_class, options), kept_uids=rules.kept_uids,
                   groups=rules.removed_groups, pseudonyms=_pseudonym_tags())
    if options.clean_descriptors:
        ctx.identifiers = word_patterns(_identifying_words(ds, ctx))
    settings = pydicom_config.settings
    reading = settings.reading_validation_mode
    settings.reading_validation_mode = pydicom_config.IGNORE  # values are replaced anyway
    try:
        _walk(ds, ctx)
    finally:
        settings.reading_validation_mode = reading
    _mark(ds, options, profile)
    _clean_file_meta(ds, ctx)
    if notes is not None:
        notes += [f"{rules.removed_groups[g & 0xFF00]} removed (group {g:04X}, every element)"
                  for g in sorted(ctx.removed)]
        if ctx.plans is None:
            notes.append(f"SOP class {sop_class or '(none)'} is not in the standard's IOD "
                         "tables: combined actions took the strictest choice")
    return ds
