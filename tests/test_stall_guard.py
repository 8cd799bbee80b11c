"""book/_ext/stall_guard.py: a notebook that ran as long as the cell timeout fails the build."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import SimpleNamespace

import yaml

ROOT = Path(__file__).resolve().parents[1]
GUARD = ROOT / "book" / "_ext" / "stall_guard.py"
SPEC = importlib.util.spec_from_file_location("stall_guard", GUARD)
assert SPEC is not None and SPEC.loader is not None
stall_guard = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(stall_guard)


def _run(runtimes: dict[str, float | None], timeout: int, monkeypatch) -> list[str]:
    warned: list[str] = []
    monkeypatch.setattr(stall_guard.log, "warning", lambda message, **_: warned.append(message))
    env = SimpleNamespace(nb_metadata={
        name: {"exec_data": None if runtime is None else {"runtime": runtime}}
        for name, runtime in runtimes.items()})
    app = SimpleNamespace(config=SimpleNamespace(nb_execution_timeout=timeout))
    stall_guard.check_runtimes(app, env)
    return warned


def test_a_notebook_that_ran_as_long_as_the_timeout_is_named(monkeypatch):
    warned = _run({"notebooks/05": 105.2, "notebooks/01": 7.9, "book/law": None}, 100,
                  monkeypatch)
    assert len(warned) == 1 and warned[0].startswith("notebooks/05 ran 105 s"), warned


def test_no_warning_for_notebooks_under_the_timeout(monkeypatch):
    assert _run({"notebooks/09": 99.9, "notebooks/01": 7.9}, 100, monkeypatch) == []


def test_the_book_uses_the_guard_with_a_timeout_under_two_minutes():
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert "stall_guard" in config["sphinx"]["local_extensions"]
    assert 0 < config["execute"]["timeout"] <= 120
