"""mrishare.rules: the policy folder and its loaders, which name the file and line at fault."""

from __future__ import annotations

import pytest

from mrishare import rules
from mrishare.errors import RuleFileError


def _write(folder, name, text):
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_files_are_found_by_name():
    assert rules.path("identifying_vrs.tsv") == rules.folder() / "identifying_vrs.tsv"
    rows = rules.read_tsv("identifying_vrs.tsv", required=["vr", "kind", "harvest", "why"],
                          choices={"harvest": ["yes", "no"]}, unique="vr")
    assert {"PN", "DA", "UI"} <= {r["vr"] for r in rows}


def test_an_unknown_rule_file_names_the_shipped_ones():
    with pytest.raises(RuleFileError, match=r"no_such\.tsv: no such rule file.*"
                                            r"identifying_attributes\.tsv"):
        rules.path("no_such.tsv")


def test_cells_are_stripped(tmp_path):
    path = _write(tmp_path, "ok.tsv", "a\tb\n x \ty\n")
    assert rules.read_tsv(path, required=["a", "b"]) == [{"a": "x", "b": "y"}]


@pytest.mark.parametrize(
    ("text", "kwargs", "message"),
    [
        ("a\tc\nx\ty\n", {"required": ["a", "b"]},
         r"^bad\.tsv, line 1: the header line must name the columns a, b; missing: b\.$"),
        ("a\tb\nx\ty\n\tz\n", {"required": ["a", "b"]},
         r"^bad\.tsv, line 3: column a is empty\.$"),
        ("a\tb\nx\ty\tz\n", {"required": ["a", "b"]},
         r"^bad\.tsv, line 2: more cells than columns\.$"),
        ("a\tb\nx\tyes\nw\tmaybe\n", {"required": ["a", "b"], "choices": {"b": ["yes", "no"]}},
         r"^bad\.tsv, line 3: b is 'maybe'; expected one of yes, no\.$"),
        ("a\tb\nx\t1\ny\t2\nx\t3\n", {"required": ["a", "b"], "unique": "a"},
         r"^bad\.tsv, line 4: a 'x' already stands on line 2\.$"),
    ],
    ids=["missing column", "empty cell", "extra cell", "bad choice", "repeated key"],
)
def test_a_broken_table_names_file_line_and_column(tmp_path, text, kwargs, message):
    path = _write(tmp_path, "bad.tsv", text)
    with pytest.raises(RuleFileError, match=message):
        rules.read_tsv(path, **kwargs)


def test_yaml_is_read(tmp_path):
    path = _write(tmp_path, "ok.yaml", "rules:\n  - name: t1w\n    suffix: T1w\n")
    assert rules.read_yaml(path) == {"rules": [{"name": "t1w", "suffix": "T1w"}]}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rules: [unclosed\n", r"^bad\.yaml, line 2, column 1: not valid YAML"),
        ("a: 1\n  b: 2\n", r"^bad\.yaml, line 2, column \d+: not valid YAML"),
        ("key: value\nkey2: [1, 2\nkey3: 3\n", r"^bad\.yaml, line 3, column \d+: not valid YAML"),
        ("", r"^bad\.yaml: the file is empty\.$"),
        ("# only a comment\n", r"^bad\.yaml: the file is empty\.$"),
    ],
    ids=["unclosed list", "bad indent", "unclosed inline list", "empty", "only a comment"],
)
def test_a_broken_yaml_file_names_file_and_line(tmp_path, text, message):
    path = _write(tmp_path, "bad.yaml", text)
    with pytest.raises(RuleFileError, match=message):
        rules.read_yaml(path)
