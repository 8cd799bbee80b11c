"""The built book (_build/html), read as files: links, images, alt text, launch buttons.

`make test` builds the book with every notebook executed and warnings as errors before these
tests run; a failing cell or a broken reference stops the build itself. Without a build these
tests skip (`make unit`), unless MRISHARE_REQUIRE_BOOK=1 (`make test`) makes them fail.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
import yaml
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
HOME = CONFIG["repository"]["url"]
BRANCH = CONFIG["repository"]["branch"]
OWNER_REPO = HOME.removeprefix("https://github.com/")
NOTEBOOKS = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))

pytestmark = pytest.mark.book


def _pages(build: Path) -> list[Path]:
    skip = {"genindex.html", "search.html"}
    return sorted(p for p in build.rglob("*.html") if "_static" not in p.parts
                  and p.name not in skip and "_sources" not in p.parts)


def _soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def _local(target: str) -> bool:
    parsed = urlparse(target)
    return not parsed.scheme and not parsed.netloc and not target.startswith(("#", "mailto:"))


def test_every_chapter_of_the_toc_was_built(built_book):
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]] + [c["file"] for p in toc["parts"] for c in p["chapters"]]
    for name in files:
        assert (built_book / f"{name}.html").is_file(), name


def test_internal_links_and_images_resolve(built_book):
    broken = []
    for page in _pages(built_book):
        soup = _soup(page)
        targets = [a.get("href") for a in soup.find_all("a")]
        targets += [i.get("src") for i in soup.find_all("img")]
        targets += [s.get("src") for s in soup.find_all("script")]
        targets += [link.get("href") for link in soup.find_all("link")]
        for target in filter(None, targets):
            if not _local(target):
                continue
            path = unquote(urlparse(target).path)
            if not path:
                continue
            if not (page.parent / path).resolve().exists():
                broken.append(f"{page.relative_to(built_book)} -> {target}")
    assert not broken, "\n".join(broken)


def test_every_image_has_alt_text(built_book):
    missing = []
    for page in _pages(built_book):
        for image in _soup(page).find_all("img"):
            if not (image.get("alt") or "").strip():
                missing.append(f"{page.relative_to(built_book)}: {image.get('src', '')[:60]}")
    assert not missing, "\n".join(missing)


@pytest.mark.parametrize("stem", NOTEBOOKS)
def test_notebook_pages_have_launch_links_to_themselves(built_book, stem):
    page = _soup(built_book / "notebooks" / f"{stem}.html")
    links = [a.get("href", "") for a in page.find_all("a")]
    binder = f"https://mybinder.org/v2/gh/{OWNER_REPO}/{BRANCH}?urlpath=lab/tree/notebooks/{stem}.ipynb"
    colab = f"https://colab.research.google.com/github/{OWNER_REPO}/blob/{BRANCH}/notebooks/{stem}.ipynb"
    assert binder in links, links
    assert colab in links, links
    assert page.find(class_="thebe-launch-button") is not None or "initThebe" in str(page)
    for button in ("repository", "issues", "edit"):
        assert any(button in href or "github.com" in href for href in links)
    assert f"{HOME}/edit/{BRANCH}/notebooks/{stem}.ipynb" in links


@pytest.mark.parametrize("stem", NOTEBOOKS)
def test_notebook_pages_were_executed(built_book, stem):
    page = _soup(built_book / "notebooks" / f"{stem}.html")
    outputs = page.find_all(class_="cell_output")
    assert outputs, f"{stem}: no cell output in the built page"
    assert not page.find_all(class_="output traceback"), f"{stem}: an error in the output"
