"""The layout keeps its promises: the core apart from the lessons, small modules, one home
per rule, policy files that are read, nothing that only imports on some systems.

Every check reads the source (``ast``), so a function-level import or a copied table is
caught as surely as a module-level one. Each checker is tried on a small bad example first,
so a check that could not fail would itself fail.
"""

from __future__ import annotations

import ast
import csv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "mrishare"
RULES = PACKAGE / "rules"
MAX_LINES = 500
# Identifying keywords that only a copied list of identifying attributes would name together
# (the ones the old hand-typed BIDS list had lost).
SENTINELS = frozenset({
    "PatientAddress",
    "PatientTelephoneNumbers",
    "InstitutionalDepartmentName",
    "RequestingPhysician",
    "OtherPatientNames",
})
COPY_THRESHOLD = 3


def _modules(folder: Path = PACKAGE) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def _core_modules() -> list[Path]:
    return [p for p in _modules() if "lessons" not in p.relative_to(PACKAGE).parts]


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _package_of(path: Path) -> str:
    """The dotted package a module's relative imports start from."""
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts if path.name == "__init__.py" else parts[:-1]).removesuffix(
        ".__init__")


def imported_names(source: str, package: str) -> list[tuple[int, str]]:
    """Every module a source imports, anywhere in it, as absolute dotted names with lines.

    ``from X import y`` gives both ``X`` and ``X.y`` (``y`` may be a module); relative
    imports are resolved against ``package``; ``importlib.import_module("...")`` and
    ``__import__("...")`` with a literal name count too.
    """
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            first = node.args[0]
            if name in {"import_module", "__import__"} and isinstance(first, ast.Constant) \
                    and isinstance(first.value, str):
                found.append((node.lineno, first.value))
    return found


def lesson_imports(source: str, package: str) -> list[str]:
    """The lines of a source that import ``mrishare.lessons`` (or anything in it)."""
    return [f"line {line}: {name}" for line, name in imported_names(source, package)
            if name == "mrishare.lessons" or name.startswith("mrishare.lessons.")]


def string_literals(source: str) -> set[str]:
    """Every string constant of a source (docstrings included, f-string parts excluded)."""
    return {n.value for n in ast.walk(ast.parse(source))
            if isinstance(n, ast.Constant) and isinstance(n.value, str)}


def copied_keyword_collections(source: str, keywords: frozenset[str]) -> list[str]:
    """List, tuple, set and dict literals that hold COPY_THRESHOLD or more of ``keywords``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            items = node.elts
        elif isinstance(node, ast.Dict):
            items = [k for k in node.keys if k is not None]
        else:
            continue
        named = {i.value for i in items if isinstance(i, ast.Constant) and i.value in keywords}
        if len(named) >= COPY_THRESHOLD:
            found.append(f"line {node.lineno}: {sorted(named)[:5]}")
    return found


# Kinds of the table whose attributes also describe the acquisition (descriptions, dates and
# times, age and sex): code names them for that, e.g. as series-mapping criteria or to order
# files in time, so a list of them is no copy of the identifying table.
DESCRIBE_THE_SCAN = {"free text", "scan date", "scan time", "quasi-identifier"}


def _table_keywords() -> frozenset[str]:
    with (RULES / "identifying_attributes.tsv").open(newline="", encoding="utf-8") as handle:
        rows = csv.DictReader((line for line in handle if not line.startswith("#")),
                              delimiter="\t")
        return frozenset(row["keyword"] for row in rows if row["kind"] not in DESCRIBE_THE_SCAN)


# ----------------------------------------------------------------- the checkers can fail


def test_lesson_import_check_catches_every_form():
    source = '''
import json
def picture():
    from mrishare.lessons import simulate
    import mrishare.lessons.render as render
    from ..lessons import compare
    from .. import lessons
    import importlib
    importlib.import_module("mrishare.lessons.decision")
'''
    found = lesson_imports(source, "mrishare.dicom")
    assert [f.split(":")[0] for f in found] == [
        "line 4", "line 4", "line 5", "line 6", "line 6", "line 7", "line 9"], found
    assert lesson_imports("from mrishare import lessons_learnt, readers\n", "mrishare") == []


def test_copied_list_checks_catch_a_copy_and_allow_a_mention():
    copy = 'BIDS_DENY = ["PatientAddress", "OtherPatientNames", "RequestingPhysician"]\n'
    mention = 'def f(ds):\n    return ds.get("PatientAddress")\n'
    assert len(SENTINELS & string_literals(copy)) == 3
    assert len(SENTINELS & string_literals(mention)) == 1
    keywords = _table_keywords()
    assert copied_keyword_collections(copy, keywords)
    assert copied_keyword_collections('WHY = {"PatientName": "a", "PatientID": "b", '
                                      '"PatientBirthDate": "c"}\n', keywords)
    assert not copied_keyword_collections(mention, keywords)


# ----------------------------------------------------------------- the package


def test_the_core_never_imports_the_lessons():
    offenders = {}
    for path in _core_modules():
        found = lesson_imports(path.read_text(encoding="utf-8"), _package_of(path))
        if found:
            offenders[_rel(path)] = found
    assert not offenders, f"the core imports mrishare.lessons: {offenders}"


def test_no_module_is_longer_than_500_lines():
    long = {_rel(p): n for p in _modules()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines (split them): {long}"


def test_no_module_imports_fcntl():
    """fcntl exists only on Unix: locking goes through filelock."""
    offenders = [f"{_rel(p)} {line}" for p in _modules()
                 for line, name in imported_names(p.read_text(encoding="utf-8"), _package_of(p))
                 if name == "fcntl" or name.startswith("fcntl.")]
    assert not offenders, offenders


def test_nilearn_is_imported_only_by_the_lessons():
    """nilearn is in the notebooks' extra, not a core dependency."""
    offenders = [f"{_rel(p)} {line}" for p in _core_modules()
                 for line, name in imported_names(p.read_text(encoding="utf-8"), _package_of(p))
                 if name == "nilearn" or name.startswith("nilearn.")]
    assert not offenders, offenders


def _rule_files() -> list[Path]:
    return sorted(p for p in RULES.iterdir() if p.is_file() and p.suffix not in {".py", ".pyc"}
                  and not p.name.upper().startswith("README"))


def test_the_rules_folder_holds_policy_files():
    assert {"identifying_attributes.tsv", "identifying_vrs.tsv"} <= {p.name for p in _rule_files()}


@pytest.mark.parametrize("rule_file", _rule_files(), ids=lambda p: p.name)
def test_every_rule_file_is_read_by_a_loader(rule_file):
    readers = [_rel(p) for p in _modules() if p.parent != RULES or p.name != "__init__.py"
               if rule_file.name in string_literals(p.read_text(encoding="utf-8"))]
    assert readers, f"no module under src/ reads {rule_file.name} (a rule nobody applies)"


def _outside_the_table() -> list[Path]:
    return [p for p in _modules() if p != PACKAGE / "identifiers.py"]


def test_identifying_attributes_are_not_copied_outside_their_table():
    """A module naming several of the rarely used keywords holds a copy of the table."""
    assert SENTINELS <= _table_keywords(), "the sentinel keywords must stay in the table"
    copies = {}
    for path in _outside_the_table():
        named = sorted(SENTINELS & string_literals(path.read_text(encoding="utf-8")))
        if len(named) >= COPY_THRESHOLD:
            copies[_rel(path)] = named
    assert not copies, (
        "lists of identifying attributes typed outside rules/identifying_attributes.tsv "
        f"(read them with mrishare.identifiers): {copies}"
    )


def test_no_literal_lists_three_identifying_keywords():
    """A list, tuple, set or dict of identifying keywords is policy: it belongs in rules/."""
    keywords = _table_keywords()
    copies = {}
    for path in _outside_the_table():
        found = copied_keyword_collections(path.read_text(encoding="utf-8"), keywords)
        if found:
            copies[_rel(path)] = found
    assert not copies, (
        "collections of identifying keywords typed in Python (use mrishare.identifiers, or "
        f"a rule file in src/mrishare/rules/ with its loader): {copies}"
    )
