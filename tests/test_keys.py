"""Tests for mrishare.keys: one secret key, stable pseudonyms."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from pydicom.valuerep import validate_value

from mrishare.keys import Key, KeyFileError, load_or_random_key

KEY = Key(bytes(range(32)))
OTHER = Key(bytes(range(1, 33)))


@pytest.mark.parametrize("length", [4, 8, 12])
def test_label_is_stable_bids_safe_and_sized(length):
    label = KEY.label("VUMC0047131", length)
    assert label == Key(bytes(range(32))).label("VUMC0047131", length)
    assert re.fullmatch(r"[a-z0-9]+", label) and len(label) == length
    assert "0047131" not in label


def test_labels_differ_by_person_and_by_key():
    assert KEY.label("p1") != KEY.label("p2")
    assert KEY.label("p1") != OTHER.label("p1")


@pytest.mark.parametrize("original", ["1.2.999.4711.1.1.1", "1.2.840.10008.1", " 1.2.3 "])
def test_uid_is_valid_dicom_and_stable(original):
    uid = KEY.uid(original)
    assert uid.startswith("2.25.") and len(uid) <= 64
    assert re.fullmatch(r"2\.25\.(0|[1-9][0-9]*)", uid)
    validate_value("UI", uid, 2)  # raises on an invalid UID
    assert uid == KEY.uid(original.strip())
    assert uid != OTHER.uid(original)


def test_date_shift_is_per_participant_and_lands_before_1926():
    shift = KEY.date_shift("p1")
    assert shift == KEY.date_shift("p1")
    assert KEY.shift_date(dt.date(2026, 12, 31), "p1") < dt.date(1926, 1, 1)
    first = KEY.shift_date(dt.date(2024, 3, 11), "p1")
    second = KEY.shift_date(dt.date(2024, 4, 22), "p1")
    assert (second - first).days == 42
    shifts = {KEY.date_shift(f"p{i}") for i in range(20)}
    assert len(shifts) > 10  # spread between participants


def test_save_and_read_back(tmp_path):
    key = Key.generate()
    path = key.save(tmp_path / "study.key")
    assert path.stat().st_mode & 0o777 == 0o600
    assert Key.from_file(path) == key
    with pytest.raises(FileExistsError):
        key.save(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "does not exist"), ("not hex at all", "64 hexadecimal"), ("abcd", "64 hexadecimal")],
)
def test_bad_key_files_say_what_to_do(tmp_path, content, message):
    path = tmp_path / "k.hex"
    if content is not None:
        path.write_text(content)
    with pytest.raises(KeyFileError, match=message):
        Key.from_file(path)


def test_random_key_is_marked_not_reproducible(tmp_path):
    assert not load_or_random_key(None).reproducible
    path = Key.generate().save(tmp_path / "k")
    assert load_or_random_key(path).reproducible
    assert load_or_random_key(None) != load_or_random_key(None)


def test_the_secret_is_not_in_repr():
    assert KEY.secret.hex() not in repr(KEY)
