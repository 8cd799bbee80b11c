"""Tests of mrishare.lessons.linkage: invented people, an invented register and the attack."""

from __future__ import annotations

import pandas as pd
import pytest

from mrishare import tabular
from mrishare.lessons import linkage


def test_invented_tables_are_reproducible():
    a = linkage.invented_participants(20, seed=3)
    b = linkage.invented_participants(20, seed=3)
    pd.testing.assert_frame_equal(a, b)
    assert a["age"].between(18, 80).all()
    register = linkage.invented_register(a, extra=50, seed=2)
    assert len(register) == 70
    assert set(a["birth_date"]) <= set(register["birth_date"])


def test_every_invented_postcode_has_a_place_and_a_province():
    people = linkage.invented_participants(200, seed=5)
    places = tabular.coarsen_place(people["postcode"], linkage.AREAS)
    provinces = tabular.coarsen_place(people["postcode"], linkage.AREAS, to="province")
    assert places.notna().all() and provinces.notna().all()
    assert places.nunique() > provinces.nunique() > 1


def test_linkage_reidentifies_exact_and_fails_on_coarse():
    people = linkage.invented_participants(100, seed=11)
    register = linkage.invented_register(people, extra=3000, seed=12)
    exact = linkage.link(people, register, ["birth_date", "sex", "postcode"])
    assert (exact["candidates"] >= 1).all()
    assert (exact["candidates"] == 1).mean() > 0.9
    assert (exact.loc[exact["candidates"] == 1, "name"] != "").all()

    shared = people.assign(birth_date=tabular.coarsen_date(people["birth_date"], "decade"),
                           postcode=tabular.coarsen_place(people["postcode"], linkage.AREAS))
    coarse = linkage.link(shared, register, {
        "birth_date": lambda s: tabular.coarsen_date(s, "decade"),
        "sex": None,
        "postcode": lambda s: tabular.coarsen_place(s, linkage.AREAS),
    })
    assert (coarse["candidates"] == 1).sum() == 0
    assert coarse["candidates"].min() >= 2


def test_link_names_a_missing_column():
    people = linkage.invented_participants(5, seed=1)
    with pytest.raises(KeyError, match=r"\['shoe_size'\] are not in the shared table"):
        linkage.link(people, people.assign(name="x"), ["shoe_size"])


@pytest.mark.parametrize("k", [2, 5, 10])
def test_coarsen_until_reaches_k_on_invented_people(k):
    table = linkage.invented_participants(150, seed=7)
    quasi = {"age": "age", "sex": "category", "postcode": tabular.place_ladder(linkage.AREAS)}
    out, steps = tabular.coarsen_until(table, quasi, k=k)
    assert tabular.k_anonymity(out, list(quasi)) >= k
    assert len(out) == len(table)
    assert steps and steps[-1].k >= k and steps[-1].rows_at_risk == 0
    assert tabular.k_anonymity(table, list(quasi)) == 1  # the input is untouched


def test_the_attacker_can_repeat_the_coarsening():
    people = linkage.invented_participants(150, seed=7)
    ladders = {"age": "age", "sex": "category", "postcode": tabular.place_ladder(linkage.AREAS)}
    shared, steps = tabular.coarsen_until(people, ladders, k=5)
    again = linkage.coarsen_like(people, steps, ladders)
    for column in ladders:
        assert again[column].astype(str).tolist() == shared[column].astype(str).tolist()
