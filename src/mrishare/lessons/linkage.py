"""A linkage attack on invented people: watch it work, then watch coarsening stop it.

Everything here is invented by a random number generator: the participants, their names,
their birth dates and the register the attacker holds. The postcode areas are four-digit
numbers around an invented university town; :data:`AREAS` maps each to an invented place and
province, so that a postcode can be coarsened to a place and a province
(:func:`mrishare.tabular.coarsen_place`), as the Dutch guide advises.

* :func:`invented_participants`: a study's participants table before sharing;
* :func:`invented_register`: a public register with names (think of an electoral roll);
* :func:`link`: who could each shared row be?
* :func:`coarsen_like`: the attacker coarsens the register just as the shared table was.

Examples
--------
>>> from mrishare.lessons import linkage
>>> people = linkage.invented_participants(30, seed=4)
>>> register = linkage.invented_register(people, extra=200)
>>> found = linkage.link(people, register, ["birth_date", "sex", "postcode"])
>>> int((found["candidates"] == 1).sum()) >= 25
True
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import cast

import numpy as np
import pandas as pd

from mrishare.tabular import LADDERS, CoarseningStep, Step, age_at

__all__ = ["AREAS", "coarsen_like", "invented_participants", "invented_register", "link"]

# Invented people: random combinations of common Dutch given and family names.
_GIVEN_F = ("Anna", "Emma", "Eva", "Fleur", "Iris", "Julia", "Lotte", "Noor", "Sanne", "Sophie",
            "Lisa", "Femke", "Maud", "Roos", "Esther", "Ingrid", "Marloes", "Anouk")
_GIVEN_M = ("Bas", "Daan", "Joost", "Lars", "Luuk", "Milan", "Niels", "Pieter", "Ruben",
            "Sem", "Thijs", "Tim", "Wouter", "Jeroen", "Koen", "Martijn", "Rik", "Stijn")
_FAMILY = ("de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Janssen",
           "Visser", "Smit", "Meijer", "de Boer", "Mulder", "de Groot", "Bos", "Vos", "Peters",
           "Hendriks", "van Leeuwen", "Dekker", "Brouwer", "de Wit", "Dijkstra", "Smits",
           "de Graaf", "van der Meer", "Kok", "Jacobs", "de Haan", "Vermeulen", "van den Heuvel")

AREAS: dict[str, tuple[str, str]] = {
    "2311": ("Oudstad", "Westmark"), "2312": ("Oudstad", "Westmark"),
    "2313": ("Oudstad", "Westmark"), "2316": ("Oudstad", "Westmark"),
    "2331": ("Oudstad", "Westmark"), "2332": ("Oudstad", "Westmark"),
    "2333": ("Oudstad", "Westmark"), "2334": ("Oudstad", "Westmark"),
    "2341": ("Polderveen", "Westmark"), "2351": ("Polderveen", "Westmark"),
    "2371": ("Polderveen", "Westmark"), "2182": ("Bollendorp", "Westmark"),
    "2201": ("Zeedorp", "Westmark"), "2265": ("Hofwijk", "Westmark"),
    "3511": ("Domstad", "Middenland"), "1012": ("Grachtstad", "Noordkust"),
    "9712": ("Noorderhaven", "Hoogland"),
}
"""Invented places and provinces for each four-digit postcode area of the demo."""

_CODES = tuple(AREAS)
# Most volunteers live close to the university; a few further away.
_WEIGHTS = np.array([8, 8, 6, 5, 7, 6, 9, 5, 4, 4, 2, 2, 2, 2, 1, 1, 1], float)
_WEIGHTS /= _WEIGHTS.sum()
_DIAGNOSES = ("healthy control", "healthy control", "healthy control", "migraine",
              "multiple sclerosis", "epilepsy", "depression")
_LETTERS = list("ABCDEFGHJKLMNPRSTVWXZ")


def invented_participants(n: int = 120, seed: int = 0, *, first_scan: str = "2024-01-08"
                          ) -> pd.DataFrame:
    """Return an invented participants table, as a study might keep it before sharing.

    Columns: ``participant_id``, ``birth_date``, ``age`` (at the scan), ``sex``,
    ``postcode`` (four digits and two letters), ``scan_date``, ``diagnosis``.

    Examples
    --------
    >>> list(invented_participants(10, seed=3).columns)[:4]
    ['participant_id', 'birth_date', 'age', 'sex']
    """
    rng = np.random.default_rng(seed)
    start = dt.date.fromisoformat(first_scan)
    rows = []
    for i in range(n):
        sex = str(rng.choice(["F", "M"]))
        scan = start + dt.timedelta(days=int(rng.integers(0, 300)))
        # most volunteers are students; the others spread over adult life
        years = rng.uniform(18, 30) if rng.random() < 0.6 else rng.uniform(30, 80)
        birth = scan - dt.timedelta(days=int(years * 365.25))
        area = str(rng.choice(_CODES, p=_WEIGHTS))
        letters = "".join(rng.choice(_LETTERS, 2))
        rows.append({
            "participant_id": f"sub-{i + 1:03d}", "birth_date": birth.isoformat(),
            "age": age_at(birth, scan), "sex": sex, "postcode": f"{area} {letters}",
            "scan_date": scan.isoformat(), "diagnosis": str(rng.choice(_DIAGNOSES)),
        })
    return pd.DataFrame(rows)


def invented_register(participants: pd.DataFrame, extra: int = 2000, seed: int = 1
                      ) -> pd.DataFrame:
    """Return an invented public register that also holds the participants.

    Every participant appears with an invented name, birth date, sex and postcode, mixed
    among ``extra`` other invented residents of the same postcode areas.

    Examples
    --------
    >>> len(invented_register(invented_participants(5, seed=2), extra=20))
    25
    """
    rng = np.random.default_rng(seed)

    def name(sex: str) -> str:
        given = rng.choice(_GIVEN_F if sex == "F" else _GIVEN_M)
        return f"{given} {rng.choice(_FAMILY)}"

    rows = [{"name": name(str(r["sex"])), "birth_date": r["birth_date"], "sex": r["sex"],
             "postcode": r["postcode"]} for r in participants.to_dict("records")]
    for _ in range(extra):
        sex = str(rng.choice(["F", "M"]))
        birth = dt.date(1935, 1, 1) + dt.timedelta(days=int(rng.integers(0, 365 * 72)))
        letters = "".join(rng.choice(_LETTERS, 2))
        rows.append({"name": name(sex), "birth_date": birth.isoformat(), "sex": sex,
                     "postcode": f"{rng.choice(_CODES, p=_WEIGHTS)} {letters}"})
    order = rng.permutation(len(rows))
    return pd.DataFrame(rows).iloc[order].reset_index(drop=True)


def link(
    shared: pd.DataFrame,
    register: pd.DataFrame,
    on: dict[str, Callable[[pd.Series], pd.Series] | None] | Sequence[str],
) -> pd.DataFrame:
    """Link a shared table to a register on quasi-identifiers: who could each row be.

    Parameters
    ----------
    shared : pandas.DataFrame
        The table as shared (possibly coarsened).
    register : pandas.DataFrame
        The attacker's table, with a ``name`` column.
    on : list of column names, or dict column -> function
        Columns to join on. A function coarsens the register's column the same way the
        shared table was coarsened (the attacker can do that too).

    Returns
    -------
    pandas.DataFrame
        The shared rows with ``candidates`` (how many register entries fit) and ``name``
        (the one name when exactly one fits, else empty).

    Raises
    ------
    KeyError
        When a column is missing from either table.
    """
    functions = dict(on) if isinstance(on, dict) else {c: None for c in on}
    columns = list(functions)
    for label, table in (("shared table", shared), ("register", register)):
        missing = [c for c in columns if c not in table.columns]
        if missing:
            raise KeyError(f"Columns {missing} are not in the {label}; it has "
                           f"{list(table.columns)}.")
    attacker = register.copy()
    for column, function in functions.items():
        if function is not None:
            attacker[column] = function(cast(pd.Series, register[column]))
    keys = attacker.astype({c: str for c in columns})
    groups = cast(pd.DataFrame, keys.groupby(columns)["name"].agg(["size", "first"]))
    wanted = cast(pd.DataFrame, shared[columns].astype(str))
    index = (pd.MultiIndex.from_frame(wanted) if len(columns) > 1
             else pd.Index(wanted[columns[0]]))
    found = groups.reindex(index)
    counts = cast(pd.Series, found["size"]).fillna(0).astype(int).to_numpy()
    names = np.where(counts == 1, cast(pd.Series, found["first"]).fillna("").to_numpy(), "")
    out = shared.reset_index(drop=True).copy()
    out["candidates"] = counts
    out["name"] = names
    return out


def coarsen_like(table: pd.DataFrame, steps: Sequence[CoarseningStep],
                 ladders: Mapping[str, str | list[Step]]) -> pd.DataFrame:
    """Coarsen another table's columns exactly as :func:`~mrishare.tabular.coarsen_until` did.

    The steps of a shared table are no secret, so an attacker can repeat them on a register.
    For each column, the last step taken is applied to the original values (as
    ``coarsen_until`` does).

    Parameters
    ----------
    table : pandas.DataFrame
        The table to coarsen (not changed; a copy is returned).
    steps : sequence of CoarseningStep
        What ``coarsen_until`` returned.
    ladders : mapping
        The same column -> ladder mapping that was given to ``coarsen_until``.

    Examples
    --------
    >>> from mrishare import tabular
    >>> t = pd.DataFrame({"age": [21, 22, 23, 24, 26, 27], "sex": ["F", "M"] * 3})
    >>> _, steps = tabular.coarsen_until(t, {"age": "age", "sex": "category"}, k=3)
    >>> coarsen_like(pd.DataFrame({"age": [35], "sex": ["F"]}), steps,
    ...              {"age": "age", "sex": "category"})["age"].tolist()
    ['30-39']
    """
    out = table.copy()
    for column, ladder in ladders.items():
        taken = [s.step for s in steps if s.column == column]
        if taken:
            named = dict(LADDERS[ladder] if isinstance(ladder, str) else ladder)
            out[column] = named[taken[-1]](cast(pd.Series, table[column]))
    return out
