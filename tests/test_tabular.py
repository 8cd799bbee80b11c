"""Tests of mrishare.tabular: age bands, caps, coarsening, k-anonymity, linkage."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from mrishare import tabular


@pytest.mark.parametrize(("age", "width", "band"), [
    (37, 5, "35-39"), (35, 5, "35-39"), (39.9, 5, "35-39"), (18, 10, "10-19"),
    (89, 5, "85-89"), (89.5, 5, "85-89"), (90, 5, "89+"), (104, 10, "89+"), (0, 5, "0-4"),
    (7, 1, "7"),
])
def test_age_band(age, width, band):
    assert tabular.age_band(age, width=width) == band


def test_age_band_keeps_missing_and_series_index():
    ages = pd.Series([23, np.nan, 91], index=[5, 6, 7])
    bands = tabular.age_band(ages)
    assert bands.index.tolist() == [5, 6, 7]
    assert bands[5] == "20-24" and pd.isna(bands[6]) and bands[7] == "89+"


@pytest.mark.parametrize(("age", "capped"), [(88, 88), (89, 89), (89.9, 89), (90, "89+")])
def test_cap_age(age, capped):
    assert tabular.cap_age(age) == capped


@pytest.mark.parametrize("bad", [-1, -0.5])
def test_negative_age_is_refused(bad):
    with pytest.raises(ValueError, match="cannot be negative"):
        tabular.cap_age(bad)


def test_bad_band_width():
    with pytest.raises(ValueError, match="width of at least 1"):
        tabular.age_band(30, width=0)


@pytest.mark.parametrize(("birth", "day", "age"), [
    ("1987-04-12", "2024-04-11", 36), ("1987-04-12", "2024-04-12", 37),
    ("19870412", "20240311", 36), (dt.date(2000, 2, 29), dt.date(2021, 2, 28), 20),
])
def test_age_at(birth, day, age):
    assert tabular.age_at(birth, day) == age


@pytest.mark.parametrize(("level", "text"), [
    ("day", "1987-04-12"), ("month", "1987-04"), ("quarter", "1987-Q2"), ("year", "1987"),
    ("decade", "1980s"),
])
def test_coarsen_date(level, text):
    assert tabular.coarsen_date("19870412", level) == text


def test_coarsen_date_errors():
    with pytest.raises(ValueError, match="Expected one of"):
        tabular.coarsen_date("1987-04-12", "week")
    with pytest.raises(ValueError, match="Expected a date"):
        tabular.coarsen_date("April 1987")


@pytest.mark.parametrize(("keep", "out"), [(4, "9999"), (2, "99"), (0, "*")])
def test_coarsen_postcode(keep, out):
    assert tabular.coarsen_postcode("9999 ZZ", keep=keep) == out


def test_k_anonymity_and_classes():
    table = pd.DataFrame({"sex": ["F", "F", "M", "M", "M"], "band": ["30-34"] * 5})
    assert tabular.k_anonymity(table, ["sex", "band"]) == 2
    assert tabular.k_anonymity(table, ["band"]) == 5
    classes = tabular.equivalence_classes(table, ["sex", "band"])
    assert classes["count"].tolist() == [2, 3]
    assert tabular.records_at_risk(table, ["sex"], k=3).index.tolist() == [0, 1]
    assert tabular.k_anonymity(table.iloc[:0], ["sex"]) == 0


def test_missing_quasi_identifier_column():
    with pytest.raises(KeyError, match="not in the table"):
        tabular.k_anonymity(pd.DataFrame({"a": [1]}), ["postcode"])


@pytest.mark.parametrize("k", [2, 5, 10])
def test_coarsen_until_reaches_k(k):
    table = tabular.invented_participants(150, seed=7)
    quasi = {"age": "age", "sex": "category", "postcode": "postcode"}
    out, steps = tabular.coarsen_until(table, quasi, k=k)
    assert tabular.k_anonymity(out, list(quasi)) >= k
    assert len(out) == len(table)
    assert steps and steps[-1].k >= k and steps[-1].rows_at_risk == 0
    assert tabular.k_anonymity(table, list(quasi)) == 1  # the input is untouched


def test_coarsen_until_prefers_coarsening_to_removal():
    table = tabular.invented_participants(150, seed=7)
    quasi = {"age": "age", "sex": "category", "postcode": "postcode"}
    _, steps = tabular.coarsen_until(table, quasi, k=5)
    first_removal = next(i for i, s in enumerate(steps) if "removed" in s.step)
    assert any(s.step == "age band of 5 years" for s in steps[:first_removal])


def test_coarsen_until_with_suppression():
    table = tabular.invented_participants(150, seed=7)
    quasi = {"age": "age", "sex": "category", "postcode": "postcode"}
    out, steps = tabular.coarsen_until(table, quasi, k=5, max_suppressed=3)
    assert tabular.k_anonymity(out, list(quasi)) >= 5
    assert 147 <= len(out) < 150
    assert steps[-1].column == "(rows)"


def test_coarsen_until_unknown_ladder():
    with pytest.raises(ValueError, match="Unknown ladders"):
        tabular.coarsen_until(pd.DataFrame({"a": [1]}), {"a": "shoe size"})


def test_invented_tables_are_reproducible():
    a = tabular.invented_participants(20, seed=3)
    b = tabular.invented_participants(20, seed=3)
    pd.testing.assert_frame_equal(a, b)
    assert a["age"].between(18, 80).all()
    register = tabular.invented_register(a, extra=50, seed=2)
    assert len(register) == 70
    assert set(a["birth_date"]) <= set(register["birth_date"])


def test_linkage_reidentifies_exact_and_fails_on_coarse():
    people = tabular.invented_participants(100, seed=11)
    register = tabular.invented_register(people, extra=3000, seed=12)
    exact = tabular.link(people, register, ["birth_date", "sex", "postcode"])
    assert (exact["candidates"] >= 1).all()
    assert (exact["candidates"] == 1).mean() > 0.9
    assert (exact.loc[exact["candidates"] == 1, "name"] != "").all()

    shared = people.assign(birth_date=tabular.coarsen_date(people["birth_date"], "decade"),
                           postcode=tabular.coarsen_postcode(people["postcode"], 2))
    coarse = tabular.link(shared, register, {
        "birth_date": lambda s: tabular.coarsen_date(s, "decade"),
        "sex": None,
        "postcode": lambda s: tabular.coarsen_postcode(s, 2),
    })
    assert (coarse["candidates"] == 1).sum() == 0
    assert coarse["candidates"].min() >= 2
