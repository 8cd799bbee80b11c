"""Code style, docstrings, types and spelling.

ruff (with pydocstyle's numpy convention, ``D``, on ``src/``) on the package, tests, tools,
benchmarks and notebooks; basedpyright (basic mode) on ``src/``; codespell on prose and code.
The settings live in pyproject.toml; these tests check that they are there and that the code
passes them.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TOOLS = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]


def _run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True)


def test_ruff_checks_numpy_docstrings_on_the_package():
    lint = TOOLS["ruff"]["lint"]
    assert "D" in lint["select"]
    assert lint["pydocstyle"]["convention"] == "numpy"
    for folder, ignored in lint.get("per-file-ignores", {}).items():
        assert not (folder.startswith("src") and "D" in ignored), folder


def test_ruff_passes_on_code_and_notebooks():
    result = _run(str(BIN / "ruff"), "check", "src", "tests", "tools", "benchmarks", "notebooks",
                  "book/_ext")
    assert result.returncode == 0, result.stdout + result.stderr


def test_basedpyright_is_configured_in_basic_mode_on_src():
    config = TOOLS["basedpyright"]
    assert config["typeCheckingMode"] == "basic"
    assert config["include"] == ["src"]


@pytest.mark.slow
def test_basedpyright_passes_on_src():
    # The interpreter running the tests is the one whose packages the checker must see
    # (its venv may not be at the .venv that pyproject names, e.g. in a second worktree).
    result = _run(str(BIN / "basedpyright"), "--pythonpath", sys.executable)
    summary = (result.stdout.strip().splitlines() or [""])[-1]
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr
    assert summary.startswith("0 errors"), summary


def test_codespell_passes_on_prose_and_code():
    result = _run(str(BIN / "codespell"), "book", "src", "README.md", "CONTRIBUTING.md",
                  "notebooks", "tools")
    assert result.returncode == 0, result.stdout + result.stderr
