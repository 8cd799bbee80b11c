"""Participant tables: age bands, caps, coarsening and k-anonymity.

The images are not the only thing that identifies people: the table that travels with
them does too. Sweeney showed that date of birth, sex and postcode alone single out most
people in a population register. This module measures that risk and lowers it:

* :func:`age_band` and :func:`cap_age` turn exact ages into bands (``35-39``) and write
  ages of 89 or more as ``89+``, as BIDS recommends (the rule itself lives in
  :mod:`mrishare.identifiers`, shared with the BIDS writer);
* :func:`age_at`, :func:`coarsen_date`, :func:`coarsen_postcode` and :func:`coarsen_place`
  coarsen birth dates, visit dates and places (postcode, then place, then province);
* :func:`k_anonymity` and :func:`equivalence_classes` tell how many rows share each
  combination of quasi-identifiers (the smallest group is *k*);
* :func:`coarsen_until` coarsens, step by step along :data:`LADDERS` (or a ladder you give,
  such as :func:`place_ladder`), until every group holds at least *k* people.

The invented people and the linkage attack of the book live in
:mod:`mrishare.lessons.linkage`.

Examples
--------
>>> import pandas as pd
>>> table = pd.DataFrame({"age": [23, 24, 37, 38], "sex": ["F", "F", "M", "M"]})
>>> k_anonymity(table, ["age", "sex"])
1
>>> table["age"] = age_band(table["age"], width=10)
>>> k_anonymity(table, ["age", "sex"])
2
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import pandas as pd

from mrishare.identifiers import AGE_CAP, age_in_years, bids_age, parse_date

__all__ = [
    "AGE_CAP",
    "LADDERS",
    "SUPPRESSED",
    "Step",
    "CoarseningStep",
    "age_at",
    "age_band",
    "cap_age",
    "coarsen_date",
    "coarsen_place",
    "coarsen_postcode",
    "coarsen_until",
    "equivalence_classes",
    "k_anonymity",
    "place_ladder",
    "records_at_risk",
]

Step = tuple[str, Callable[[pd.Series], pd.Series]]

SUPPRESSED = "*"
"""What a value becomes when it is removed altogether."""


# ----------------------------------------------------------------------------- ages


def _scalar_or_series(values: Any, function: Callable[[Any], Any]) -> Any:
    if isinstance(values, pd.Series):
        return values.map(function)
    if isinstance(values, list | tuple | np.ndarray):
        return [function(v) for v in values]
    return function(values)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA


def cap_age(age: Any) -> Any:
    """Write ages of 89 or more as ``"89+"``; keep the others as whole years.

    The cap is :data:`mrishare.identifiers.AGE_CAP` and the rule is
    :func:`mrishare.identifiers.bids_age`, the same one the BIDS writer uses (BIDS recommends
    ``89+`` for ages of 89 or higher; the US HIPAA Safe Harbor rule groups ages of 90 or
    older).

    Parameters
    ----------
    age : number, list or pandas.Series

    Raises
    ------
    ValueError
        For a negative age.

    Examples
    --------
    >>> cap_age([34.6, 88.99, 89, 92])
    [34, 88, '89+', '89+']
    """

    def one(value: Any) -> Any:
        if _missing(value):
            return value
        years = float(value)
        text = bids_age(years)
        return text if text.endswith("+") else int(np.floor(years))

    return _scalar_or_series(age, one)


def age_band(age: Any, width: int = 5) -> Any:
    """Turn ages into bands of ``width`` years, and ages of 89 or more into ``"89+"``.

    Bands start at multiples of ``width``: with width 5, age 37 is ``"35-39"``; the last band
    before the cap ends at 88.

    Parameters
    ----------
    age : number, list or pandas.Series
        Ages in years (fractions are floored).
    width : int, default 5

    Examples
    --------
    >>> age_band(37)
    '35-39'
    >>> age_band([18, 87, 89], width=10)
    ['10-19', '80-88', '89+']
    """
    if width < 1:
        raise ValueError(f"An age band needs a width of at least 1 year; got {width}.")

    def one(value: Any) -> Any:
        if _missing(value):
            return value
        capped = cap_age(value)
        if isinstance(capped, str):
            return capped
        low = capped // width * width
        high = min(low + width - 1, AGE_CAP - 1)
        return f"{low}-{high}" if high > low else str(low)

    return _scalar_or_series(age, one)


def age_at(birth_date: Any, on: Any) -> Any:
    """Return whole years between a birth date and another day, by the calendar.

    Uses :func:`mrishare.identifiers.age_in_years` for each pair; missing dates give NaN.

    Examples
    --------
    >>> age_at("1987-04-12", "2024-03-11")
    36
    >>> age_at("19870412", "20240412")
    37
    """

    def one(birth: Any, day: Any) -> Any:
        if _missing(birth) or _missing(day):
            return np.nan
        return age_in_years(parse_date(birth), parse_date(day))

    if isinstance(birth_date, pd.Series):
        days = on if isinstance(on, pd.Series) else pd.Series(on, index=birth_date.index)
        return pd.Series([one(b, d) for b, d in zip(birth_date, days, strict=True)],
                         index=birth_date.index)
    return one(birth_date, on)


_DATE_LEVELS = {
    "day": lambda d: d.isoformat(),
    "month": lambda d: f"{d.year:04d}-{d.month:02d}",
    "quarter": lambda d: f"{d.year:04d}-Q{(d.month - 1) // 3 + 1}",
    "year": lambda d: f"{d.year:04d}",
    "decade": lambda d: f"{d.year // 10 * 10}s",
}


def coarsen_date(date: Any, to: str = "year") -> Any:
    """Keep only the month, quarter, year or decade of a date.

    Parameters
    ----------
    date : date, str, list or pandas.Series
    to : {"day", "month", "quarter", "year", "decade"}, default "year"

    Examples
    --------
    >>> coarsen_date("1987-04-12", "month")
    '1987-04'
    >>> coarsen_date("1987-04-12", "quarter")
    '1987-Q2'
    """
    if to not in _DATE_LEVELS:
        raise ValueError(f"Expected one of {sorted(_DATE_LEVELS)}, got to={to!r}.")
    level = _DATE_LEVELS[to]
    return _scalar_or_series(date, lambda v: v if _missing(v) else level(parse_date(v)))


def coarsen_postcode(postcode: Any, keep: int = 2) -> Any:
    """Keep the first ``keep`` digits of a postcode (0 removes it).

    A Dutch postcode ``9999 ZZ`` points to a street; its four digits to a neighbourhood;
    two digits to a region of some 100,000 people.

    Examples
    --------
    >>> coarsen_postcode("9999 ZZ", keep=2)
    '99'
    >>> coarsen_postcode("9999 ZZ", keep=0)
    '*'
    """

    def one(value: Any) -> Any:
        if _missing(value):
            return value
        digits = "".join(c for c in str(value) if c.isdigit())
        return digits[:keep] if keep > 0 else SUPPRESSED

    return _scalar_or_series(postcode, one)


def coarsen_place(postcode: Any, areas: Mapping[str, tuple[str, str]], to: str = "place"
                  ) -> Any:
    """Replace a postcode by the place or the province its four digits lie in.

    The original Dutch guide advises coarsening a postcode to the place, and the place to the
    province, rather than cutting digits. Which area lies where is data you give.

    Parameters
    ----------
    postcode : str, list or pandas.Series
    areas : mapping of str to (str, str)
        Four-digit postcode area to ``(place, province)``.
    to : {"place", "province"}, default "place"

    Raises
    ------
    ValueError
        For an unknown level, or a postcode whose area is not in ``areas``.

    Examples
    --------
    >>> areas = {"9999": ("Zandstad", "Noordmark")}
    >>> coarsen_place("9999 ZZ", areas), coarsen_place("9999 ZZ", areas, to="province")
    ('Zandstad', 'Noordmark')
    """
    levels = {"place": 0, "province": 1}
    if to not in levels:
        raise ValueError(f"Expected to='place' or to='province', got {to!r}.")

    def one(value: Any) -> Any:
        if _missing(value):
            return value
        area = "".join(c for c in str(value) if c.isdigit())[:4]
        if area not in areas:
            raise ValueError(f"Postcode area {area!r} is not in the table of areas; add it "
                             "or coarsen by digits with coarsen_postcode().")
        return areas[area][levels[to]]

    return _scalar_or_series(postcode, one)


# ----------------------------------------------------------------------------- k-anonymity


def _check_columns(table: pd.DataFrame, columns: Sequence[str]) -> list[str]:
    columns = list(columns)
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise KeyError(
            f"Quasi-identifier columns {missing} are not in the table; it has "
            f"{list(table.columns)}."
        )
    if not columns:
        raise ValueError("Give at least one quasi-identifier column.")
    return columns


def equivalence_classes(table: pd.DataFrame, quasi_identifiers: Sequence[str]) -> pd.DataFrame:
    """Return every combination of quasi-identifiers in the table, with how many rows share it.

    Returns
    -------
    pandas.DataFrame
        One row per combination and a column ``count``, smallest groups first.

    Examples
    --------
    >>> t = pd.DataFrame({"sex": ["F", "F", "M"], "band": ["30-34"] * 3})
    >>> equivalence_classes(t, ["sex", "band"])["count"].tolist()
    [1, 2]
    """
    columns = _check_columns(table, quasi_identifiers)
    groups = cast(pd.Series, table.astype({c: str for c in columns})
                  .groupby(columns, dropna=False).size())
    counted = groups.to_frame("count").reset_index()
    return counted.sort_values(["count", *columns], kind="stable").reset_index(drop=True)


def k_anonymity(table: pd.DataFrame, quasi_identifiers: Sequence[str]) -> int:
    """Return the size of the smallest group of rows sharing the same quasi-identifiers.

    A table is *k-anonymous* when every person is indistinguishable from at least k-1
    others on these columns. ``k = 1`` means somebody is unique.

    Examples
    --------
    >>> t = pd.DataFrame({"sex": ["F", "F", "M", "M"], "age": [30, 30, 41, 41]})
    >>> k_anonymity(t, ["sex", "age"])
    2
    """
    if len(table) == 0:
        return 0
    counts = cast(pd.Series, equivalence_classes(table, quasi_identifiers)["count"])
    return int(counts.min())


def records_at_risk(table: pd.DataFrame, quasi_identifiers: Sequence[str], k: int = 5
                    ) -> pd.DataFrame:
    """Return the rows whose quasi-identifiers are shared by fewer than ``k`` rows.

    Examples
    --------
    >>> t = pd.DataFrame({"sex": ["F", "F", "M"]})
    >>> records_at_risk(t, ["sex"], k=2).index.tolist()
    [2]
    """
    columns = _check_columns(table, quasi_identifiers)
    sizes = cast(pd.Series, table.astype({c: str for c in columns})
                 .groupby(columns, dropna=False)[columns[0]].transform("size"))
    return cast(pd.DataFrame, table[(sizes < k).to_numpy()])


# ----------------------------------------------------------------------------- coarsening


def _band(width: int) -> Callable[[pd.Series], pd.Series]:
    return lambda s: age_band(s, width=width)


def _postcode(keep: int) -> Callable[[pd.Series], pd.Series]:
    return lambda s: coarsen_postcode(s, keep=keep)


def _date(level: str) -> Callable[[pd.Series], pd.Series]:
    return lambda s: coarsen_date(s, level)


def _suppress(s: pd.Series) -> pd.Series:
    return pd.Series(SUPPRESSED, index=s.index)


#: Generalisation ladders: for each kind of column, named steps from fine to coarse.
#: :func:`coarsen_until` climbs them one step at a time.
LADDERS: dict[str, list[Step]] = {
    "age": [("age band of 5 years", _band(5)), ("age band of 10 years", _band(10)),
            ("age band of 20 years", _band(20)), ("age removed", _suppress)],
    "postcode": [("postcode to 4 digits", _postcode(4)), ("postcode to 3 digits", _postcode(3)),
                 ("postcode to 2 digits", _postcode(2)),
                 ("postcode to 1 digit", _postcode(1)), ("postcode removed", _suppress)],
    "date": [("date to month", _date("month")), ("date to year", _date("year")),
             ("date to decade", _date("decade")), ("date removed", _suppress)],
    "category": [("category removed", _suppress)],
}


def place_ladder(areas: Mapping[str, tuple[str, str]]) -> list[Step]:
    """Return a postcode ladder that climbs to the place, then the province, then removal.

    Pass it to :func:`coarsen_until` instead of a ladder name.

    Examples
    --------
    >>> [name for name, _ in place_ladder({"9999": ("Zandstad", "Noordmark")})]
    ['postcode to 4 digits', 'postcode to place', 'postcode to province', 'postcode removed']
    """
    return [("postcode to 4 digits", _postcode(4)),
            ("postcode to place", lambda s: coarsen_place(s, areas, "place")),
            ("postcode to province", lambda s: coarsen_place(s, areas, "province")),
            ("postcode removed", _suppress)]


@dataclass
class CoarseningStep:
    """One step taken by :func:`coarsen_until`: which column, how, and the k it gave."""

    column: str
    step: str
    k: int
    rows_at_risk: int


@dataclass
class _Ladder:
    column: str
    steps: list[Step]
    taken: int = field(default=0)


def coarsen_until(
    table: pd.DataFrame,
    quasi_identifiers: Mapping[str, str | list[Step]],
    k: int = 5,
    max_suppressed: int = 0,
) -> tuple[pd.DataFrame, list[CoarseningStep]]:
    """Coarsen quasi-identifiers one step at a time until the table is k-anonymous.

    At each round, every column that can still be coarsened is tried one step further
    along its ladder; the step that leaves fewest rows at risk (ties: the higher *k*,
    then the column given first) is kept. Removing a column altogether is the last
    resort: it is only chosen when no other column can be coarsened further. Columns are
    coarsened from the original values each time, so a step never compounds rounding.

    Parameters
    ----------
    table : pandas.DataFrame
        Not changed; a coarsened copy is returned.
    quasi_identifiers : mapping
        Column name -> ladder: a name in :data:`LADDERS` (``"age"``, ``"postcode"``,
        ``"date"``, ``"category"``) or a list of ``(step name, function)`` such as
        :func:`place_ladder` returns.
    k : int, default 5
    max_suppressed : int, default 0
        Stop coarsening once at most this many rows are still at risk, and leave those
        rows out (suppression): one unusual participant should not cost everybody's age.

    Returns
    -------
    (pandas.DataFrame, list of CoarseningStep)
        The coarsened table (without suppressed rows) and the steps taken, in order.

    Examples
    --------
    >>> t = pd.DataFrame({"age": [21, 22, 23, 24, 26, 27], "sex": ["F", "M"] * 3})
    >>> out, steps = coarsen_until(t, {"age": "age", "sex": "category"}, k=3)
    >>> k_anonymity(out, ["age", "sex"]), [s.step for s in steps]
    (3, ['age band of 5 years', 'age band of 10 years'])
    """
    unknown = {c: ladder for c, ladder in quasi_identifiers.items()
               if isinstance(ladder, str) and ladder not in LADDERS}
    if unknown:
        raise ValueError(f"Unknown ladders {unknown}; known: {sorted(LADDERS)}.")
    columns = _check_columns(table, list(quasi_identifiers))
    ladders = []
    for c in columns:
        ladder = quasi_identifiers[c]
        ladders.append(_Ladder(c, LADDERS[ladder] if isinstance(ladder, str) else list(ladder)))
    current = table.copy()
    steps: list[CoarseningStep] = []
    while k_anonymity(current, columns) < k:
        best: tuple[tuple[bool, int, int, int], _Ladder, pd.DataFrame] | None = None
        if len(records_at_risk(current, columns, k)) <= max_suppressed:
            break
        for order, ladder in enumerate(ladders):
            if ladder.taken >= len(ladder.steps):
                continue
            _, function = ladder.steps[ladder.taken]
            trial = current.copy()
            trial[ladder.column] = function(table[ladder.column])
            removal = ladder.taken == len(ladder.steps) - 1 and function is _suppress
            score = (-len(records_at_risk(trial, columns, k)),
                     k_anonymity(trial, columns), -order)
            rank = (not removal, *score)
            if best is None or rank > best[0]:
                best = (rank, ladder, trial)
        if best is None:  # every column fully coarsened: only fewer rows would help
            break
        rank, ladder, current = best
        steps.append(CoarseningStep(ladder.column, ladder.steps[ladder.taken][0],
                                    rank[2], -rank[1]))
        ladder.taken += 1
    at_risk = records_at_risk(current, columns, k)
    if 0 < len(at_risk) <= max_suppressed:
        steps.append(CoarseningStep("(rows)", f"{len(at_risk)} rows left out",
                                    k_anonymity(current.drop(at_risk.index), columns), 0))
        current = current.drop(at_risk.index)
    return current, steps
