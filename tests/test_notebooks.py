"""The notebooks as committed: stripped, runnable alone (Colab), and shaped as chapters."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
HOME = CONFIG["repository"]["url"]
SETUP = f'%pip install --quiet "mrishare @ git+{HOME}"'


def _toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [c["file"] for part in toc["parts"] for c in part["chapters"]]


def test_every_notebook_is_in_the_table_of_contents():
    assert NOTEBOOKS
    listed = set(_toc_files())
    for path in NOTEBOOKS:
        assert f"notebooks/{path.stem}" in listed, path.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_outputs_are_stripped(path):
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, (
                f"{path.name} has outputs: run `make strip`"
            )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_a_notebook_opened_alone_installs_mrishare_first(path):
    notebook = nbformat.read(path, as_version=4)
    first_code = next(c for c in notebook.cells if c.cell_type == "code")
    assert SETUP in first_code.source
    assert "remove-cell" in first_code.metadata.get("tags", [])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_a_notebook_reads_as_a_chapter(path):
    notebook = nbformat.read(path, as_version=4)
    cells = notebook.cells
    assert cells[0].cell_type == "markdown" and cells[0].source.startswith("# ")
    assert "learn" in cells[0].source.lower()
    text = "\n".join(c.source for c in cells if c.cell_type == "markdown")
    assert "## Key points" in text and "## Exercise" in text
    assert ":class: dropdown" in text or any(
        "hide-input" in c.metadata.get("tags", []) for c in cells
    ), "an exercise solution hidden behind a toggle"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_code_cells_stay_short(path):
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            lines = [line for line in cell.source.splitlines() if line.strip()]
            assert len(lines) <= 15, f"{path.name}: a {len(lines)}-line cell; move it to mrishare"


def _code_in_markdown(text: str) -> list[str]:
    """Code blocks (fenced, or indented after a blank line) inside a Markdown solution."""
    found = []
    for block in re.findall(r"```\{admonition\}[^\n]*[Ss]olution.*?\n```", text, flags=re.S):
        body = block.split("\n")[1:-1]
        fences = [line for line in body if line.lstrip().startswith(("```", "~~~"))]
        indented = [line for before, line in zip(body, body[1:], strict=False)
                    if not before.strip() and re.match(r"^ {4,}\S", line)]
        found += [line.strip() for line in fences + indented]
    return found


def test_the_code_check_finds_code_in_a_markdown_solution():
    text = "```{admonition} Solution\n:class: dropdown\n\n    x = 1\n```\n"
    assert _code_in_markdown(text) == ["x = 1"]
    prose = "```{admonition} Solution\n:class: dropdown\n1. A list item\n   goes on.\n```\n"
    assert _code_in_markdown(prose) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_exercise_solutions_are_executed_code_cells(path):
    """Code in a Markdown dropdown never runs, so it can break silently: a solution's code
    goes in a code cell tagged hide-input, which the build executes."""
    notebook = nbformat.read(path, as_version=4)
    code = [line for cell in notebook.cells if cell.cell_type == "markdown"
            for line in _code_in_markdown(cell.source)]
    assert not code, f"{path.name}: solution code in Markdown (make it a hide-input cell): {code}"


def test_a_stalled_cell_fails_the_build_within_two_minutes():
    """A cell timeout far above the slowest cell (seconds) lets a stall hide in a slow build."""
    execute = CONFIG["execute"]
    assert execute["execute_notebooks"] == "force"
    assert 30 <= execute["timeout"] <= 120
    assert execute.get("allow_errors") is False
