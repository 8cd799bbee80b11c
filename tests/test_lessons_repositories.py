"""Tests for mrishare.lessons.repositories: the shipped table, its checks, and the filter."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mrishare.errors import RuleFileError
from mrishare.lessons import decision, repositories
from mrishare.lessons.repositories import (
    RepositoryTableError,
    filter_repositories,
    load_repositories,
)

REQUIRED = {"OpenNeuro", "DANS Data Station Life Sciences", "DataverseNL", "EBRAINS",
            "Public-nEUro", "Zenodo", "OSF", "NeuroVault", "Health-RI XNAT",
            "4TU.ResearchData", "NITRC Image Repository"}
SHARING = [k for k in decision.OUTCOMES if k != "support"]


@pytest.fixture(scope="module")
def repos():
    return load_repositories()


def test_table_lists_the_repositories_the_book_discusses(repos):
    names = {r.name for r in repos}
    assert REQUIRED <= names
    assert any(n.startswith("Radboud Data Repository") for n in names)
    assert len(names) == len(repos)  # no duplicates


def test_every_row_has_a_source_and_dates(repos):
    for r in repos:
        assert r.url.startswith("https://"), r.name
        assert r.source.strip(), r.name
        assert re.fullmatch(r"2026-11(-\d{2})?", r.read_on), r.name
        assert r.processing_agreement.strip(), r.name
        assert r.documented_on == "undated" or re.fullmatch(
            r"\d{4}(-\d{2}-\d{2})?", r.documented_on), r.name
        assert r.verified in repositories.VERIFIED_VALUES


def test_rows_checked_for_this_edition_carry_a_full_date(repos):
    for name in ("OpenNeuro", "EBRAINS", "NeuroVault", "Health-RI XNAT", "4TU.ResearchData",
                 "NITRC Image Repository", "Public-nEUro"):
        row = next(r for r in repos if r.name == name)
        assert row.read_on == "2026-11-30", name
    openneuro = next(r for r in repos if r.name == "OpenNeuro")
    assert "destroy any key" in openneuro.notes and "36 months" in openneuro.notes
    assert "embargoed" in openneuro.access


def test_every_outcome_has_an_eu_repository(repos):
    for outcome in SHARING:
        assert filter_repositories(outcome, must_stay_in_eu=True, repositories=repos), outcome


@pytest.mark.parametrize("outcome", [None, *SHARING])
@pytest.mark.parametrize("eu", [False, True])
def test_filter_keeps_only_matching_rows(repos, outcome, eu):
    kept = filter_repositories(outcome, must_stay_in_eu=eu, repositories=repos)
    for r in kept:
        assert outcome is None or outcome in r.outcomes
        assert not eu or r.in_eea in ("yes", "choice")
    dropped = [r for r in repos if r not in kept]
    for r in dropped:
        assert (outcome is not None and outcome not in r.outcomes) or (
            eu and r.in_eea == "no")
    # order is the table's order
    assert kept == [r for r in repos if r in kept]


def test_filter_examples_from_the_documentation(repos):
    public_eu = [r.name for r in filter_repositories("public", True, repos)]
    assert "OpenNeuro" not in public_eu  # stored in the US
    assert "OSF" in public_eu  # a Frankfurt location can be chosen
    restricted = [r.name for r in filter_repositories("restricted", False, repos)]
    assert "OpenNeuro" not in restricted  # open access only
    assert "Public-nEUro" in restricted
    derived = [r.name for r in filter_repositories("derived", False, repos)]
    assert "NeuroVault" in derived


def test_find_support_suits_no_repository(repos):
    assert filter_repositories("support", repositories=repos) == []


def test_filter_accepts_a_decision(repos):
    d = decision.evaluate({"deidentify": "yes", "legal_basis": "yes", "purposes": "conditions"})
    assert filter_repositories(d, repositories=repos) == filter_repositories(
        "restricted", repositories=repos)


def test_filter_rejects_unknown_outcome():
    with pytest.raises(ValueError, match=r"Unknown outcome 'open'.*public, restricted, derived"):
        filter_repositories("open")


def test_table_as_dataframe():
    df = repositories.table(columns=["name", "access", "in_eea"])
    assert list(df.columns) == ["name", "access", "in_eea"]
    assert df.loc[df["name"] == "OSF", "access"].item() == "open, private"
    with pytest.raises(ValueError, match="Unknown column"):
        repositories.table(columns=["price"])


HEADER = "\t".join(
    ["name", "url", "data_location", "in_eea", "access", "dua", "processing_agreement",
     "defacing", "size_limit", "cost", "outcomes", "notes", "source", "documented_on",
     "read_on", "verified"])


def _row(**changes):
    values = dict(name="Test repo", url="https://example.org", data_location="Utopia",
                  in_eea="yes", access="open;restricted", dua="yes",
                  processing_agreement="yes", defacing="no",
                  size_limit="1 GB", cost="free", outcomes="public;restricted", notes="",
                  source="https://example.org/docs", documented_on="2026-01-01",
                  read_on="2026-11-30", verified="no")
    values.update(changes)
    return "\t".join(values.values())


def _write(tmp_path, *lines):
    path = tmp_path / "repos.tsv"
    path.write_text("# comment line\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_load_a_custom_table(tmp_path):
    path = _write(tmp_path, HEADER, _row(), _row(name="Second", in_eea="no"))
    repos = load_repositories(path)
    assert [r.name for r in repos] == ["Test repo", "Second"]
    assert repos[0].access == ("open", "restricted")
    assert [r.name for r in filter_repositories("public", True, repos)] == ["Test repo"]


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([HEADER.replace("\tcost", ""), _row()], r"missing: cost"),
        ([HEADER + "\tprice", _row()], r"unknown: price"),
        ([HEADER, _row(in_eea="maybe")], r"line 3 \('Test repo'\) has in_eea='maybe'"),
        ([HEADER, _row(access="open;public")], r"access='open;public'.*open, registered"),
        ([HEADER, _row(outcomes="")], r"outcomes=''"),
        ([HEADER, _row(verified="sure")], r"verified='sure'"),
        ([HEADER, _row(outcomes="support")], r"outcomes='support'"),
        ([HEADER, _row(read_on="last week")], r"read_on='last week'; expected a date"),
        ([HEADER, "Short row\thttps://x"], r"does not have 16 tab-separated fields"),
    ],
)
def test_bad_tables_are_refused_with_file_and_line(tmp_path, lines, message):
    path = _write(tmp_path, *lines)
    with pytest.raises(RepositoryTableError, match=message) as info:
        load_repositories(path)
    assert str(path) in str(info.value)
    assert isinstance(info.value, RuleFileError)


BOOK_CHAPTER = Path(__file__).resolve().parents[1] / "book" / "repositories.md"


@pytest.mark.skipif(not BOOK_CHAPTER.exists(), reason="needs the source tree with book/")
def test_book_chapter_matches_the_table(repos):
    """The chapter repeats the table for readers; an edit to one must reach the other."""
    text = BOOK_CHAPTER.read_text(encoding="utf-8")
    for r in repos:
        section = text.split(f"### {r.name}\n", 1)
        assert len(section) == 2, f"no section for {r.name} in {BOOK_CHAPTER}"
        body = section[1].split("\n### ", 1)[0]
        for value in (r.url, r.data_location, r.dua, r.processing_agreement, r.defacing,
                      r.size_limit, r.cost, r.notes, r.documented_on, r.read_on, r.verified):
            assert value in body, f"{r.name}: {value!r} missing from the chapter"
        assert f"| {r.name} |" in text
