"""The notebooks as committed: stripped, runnable alone (Colab), and shaped as chapters."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
HOME = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
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
