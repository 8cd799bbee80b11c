"""Tests of mrishare.tabular: age bands, caps, coarsening and k-anonymity."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from mrishare import identifiers, tabular
from mrishare.lessons import linkage


@pytest.mark.parametrize(("age", "width", "band"), [
    (37, 5, "35-39"), (35, 5, "35-39"), (39.9, 5, "35-39"), (18, 10, "10-19"),
    (88, 5, "85-88"), (88.99, 10, "80-88"), (89, 5, "89+"), (89.5, 5, "89+"), (90, 5, "89+"),
    (104, 10, "89+"), (0, 5, "0-4"), (7, 1, "7"),
])
def test_age_band(age, width, band):
    assert tabular.age_band(age, width=width) == band


def test_age_band_keeps_missing_and_series_index():
    ages = pd.Series([23, np.nan, 91], index=[5, 6, 7])
    bands = tabular.age_band(ages)
    assert bands.index.tolist() == [5, 6, 7]
    assert bands[5] == "20-24" and pd.isna(bands[6]) and bands[7] == "89+"


@pytest.mark.parametrize(("age", "capped"), [(88, 88), (88.99, 88), (89, "89+"), (89.9, "89+"),
                                             (90, "89+")])
def test_cap_age(age, capped):
    assert tabular.cap_age(age) == capped


@pytest.mark.parametrize(("years", "bids"), [(88.99, "88"), (89, "89+"), (90, "89+"),
                                             (36.9, "36")])
def test_tabular_and_bids_write_the_same_age(years, bids):
    """One rule for the package: the table and participants.tsv agree on every age."""
    assert identifiers.bids_age(years) == bids
    assert str(tabular.cap_age(years)) == bids
    assert tabular.AGE_CAP is identifiers.AGE_CAP


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
    assert tabular.age_at(birth, day) == identifiers.age_in_years(birth, day)


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


AREAS = {"1111": ("Aadorp", "Oostmark"), "1112": ("Aadorp", "Oostmark"),
         "2221": ("Beekstad", "Oostmark")}


def test_coarsen_place_climbs_postcode_place_province():
    codes = pd.Series(["1111 AB", "1112 CD", "2221 EF", None])
    assert tabular.coarsen_place(codes, AREAS).tolist()[:3] == ["Aadorp", "Aadorp", "Beekstad"]
    assert tabular.coarsen_place(codes, AREAS, to="province").tolist()[:3] == ["Oostmark"] * 3
    with pytest.raises(ValueError, match="'3333' is not in the table of areas"):
        tabular.coarsen_place("3333 XX", AREAS)
    with pytest.raises(ValueError, match="to='place' or to='province'"):
        tabular.coarsen_place("1111 AB", AREAS, to="street")


def test_coarsen_until_with_a_place_ladder():
    table = pd.DataFrame({"postcode": ["1111 AB", "1112 CD", "2221 EF", "1111 XY"],
                          "sex": ["F"] * 4})
    out, steps = tabular.coarsen_until(
        table, {"postcode": tabular.place_ladder(AREAS), "sex": "category"}, k=3)
    assert [s.step for s in steps] == ["postcode to 4 digits", "postcode to place",
                                       "postcode to province"]
    assert out["postcode"].tolist() == ["Oostmark"] * 4


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
    table = linkage.invented_participants(150, seed=7)
    quasi = {"age": "age", "sex": "category", "postcode": "postcode"}
    out, steps = tabular.coarsen_until(table, quasi, k=k)
    assert tabular.k_anonymity(out, list(quasi)) >= k
    assert len(out) == len(table)
    assert steps and steps[-1].k >= k and steps[-1].rows_at_risk == 0
    assert tabular.k_anonymity(table, list(quasi)) == 1  # the input is untouched


def test_coarsen_until_prefers_coarsening_to_removal():
    table = linkage.invented_participants(150, seed=7)
    quasi = {"age": "age", "sex": "category", "postcode": "postcode"}
    _, steps = tabular.coarsen_until(table, quasi, k=5)
    first_removal = next(i for i, s in enumerate(steps) if "removed" in s.step)
    assert any(s.step == "age band of 5 years" for s in steps[:first_removal])


def test_coarsen_until_with_suppression():
    table = linkage.invented_participants(150, seed=7)
    quasi = {"age": "age", "sex": "category", "postcode": "postcode"}
    out, steps = tabular.coarsen_until(table, quasi, k=5, max_suppressed=3)
    assert tabular.k_anonymity(out, list(quasi)) >= 5
    assert 147 <= len(out) < 150
    assert steps[-1].column == "(rows)"


def test_coarsen_until_unknown_ladder():
    with pytest.raises(ValueError, match="Unknown ladders"):
        tabular.coarsen_until(pd.DataFrame({"a": [1]}), {"a": "shoe size"})
