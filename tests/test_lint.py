"""Code style and spelling: ruff on the package, tests, tools and notebooks; codespell on prose."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True)


def test_ruff_passes_on_code_and_notebooks():
    result = _run(str(BIN / "ruff"), "check", "src", "tests", "tools", "benchmarks", "notebooks")
    assert result.returncode == 0, result.stdout + result.stderr


def test_codespell_passes_on_prose_and_code():
    result = _run(str(BIN / "codespell"), "book", "src", "README.md", "notebooks", "tools")
    assert result.returncode == 0, result.stdout + result.stderr
