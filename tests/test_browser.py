"""The built book as a reader meets it: every page in a real, offline, headless browser.

Serves ``_build/html`` on 127.0.0.1 and drives Debian's Chromium with Playwright. For every
page: no console errors, no failed local request, every image loads and has meaningful alt
text, axe-core finds no WCAG 2 A/AA violation, and no request leaves this machine (the book
must render its text and pictures offline). Notebook pages: the Binder, Colab and live-code
(Thebe) buttons point at that notebook in the canonical repository of ``_config.yml``, and
the live-code script is requested only when the reader asks for it. Search finds a known term.
Screenshots of the welcome page and every notebook page go to ``_build/screenshots/``.

Tests of the built book are marked ``book`` and take the ``built_book`` fixture: they skip
when the book has not been built (``make book``), and fail instead under ``make test``
(MRISHARE_REQUIRE_BOOK=1). Every test that drives Chromium is marked ``browser``; ``make unit``
leaves both out. Chromium and axe-core are installed by ``python tools/test_tools.py --install``
(``make test`` runs it); when they are missing the tests fail and say so.

Environment (optional): ``MRISHARE_BOOK_ROOT`` the folder holding ``_config.yml``,
``_toc.yml`` and ``_build/html`` (default: this repository); ``MRISHARE_SCREENSHOTS`` where
screenshots go (default: ``<root>/_build/screenshots``).
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
ROOT = Path(os.environ.get("MRISHARE_BOOK_ROOT", REPO)).resolve()
HTML = ROOT / "_build" / "html"
SHOTS = Path(os.environ.get("MRISHARE_SCREENSHOTS", ROOT / "_build" / "screenshots"))
CHROMIUM = Path("/usr/bin/chromium")
AXE_JS = REPO / "tools" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# Folders of the build that hold assets, not pages.
NOT_PAGES = {"_static", "_sources", "_images", "_downloads"}
# A term the book is certain to contain (it is in the glossary) and the page search must list.
SEARCH_TERM, SEARCH_PAGE = "pseudonymisation", "glossary.html"
# Alt texts that say nothing about the picture.
EMPTY_ALTS = {
    "image",
    "img",
    "figure",
    "fig",
    "picture",
    "photo",
    "plot",
    "graph",
    "chart",
    "output",
    "png",
    "svg",
    "jpg",
    "untitled",
    "alt",
    "icon",
    "screenshot",
}

BUILT = (HTML / "index.html").is_file()


def _toc_files(node) -> list[str]:
    """Every ``file:`` of a jb-book _toc.yml, root first, in the reader's order."""
    found = []
    if isinstance(node, dict):
        for key in ("root", "file"):
            if isinstance(node.get(key), str):
                found.append(node[key])
        for value in node.values():
            if isinstance(value, (list, dict)):
                found += _toc_files(value)
    elif isinstance(node, list):
        for item in node:
            found += _toc_files(item)
    return found


def _pages() -> list[str]:
    """Every HTML page of the build, relative to _build/html (the root redirect excluded)."""
    if not BUILT:
        return []
    pages = []
    for path in sorted(HTML.rglob("*.html")):
        rel = path.relative_to(HTML).as_posix()
        if rel == "index.html" or rel.split("/")[0] in NOT_PAGES:
            continue
        pages.append(rel)
    return pages


TOC = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
TOC_FILES = _toc_files(TOC)
WELCOME = f"{TOC['root']}.html"
NOTEBOOKS = [f for f in TOC_FILES if (ROOT / f"{f}.ipynb").is_file()]
PAGES = _pages()


# --------------------------------------------------------------------------- fixtures


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


def _serve(directory: Path):
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture(scope="session")
def site(built_book):
    """Base URL of _build/html served on a random free port of 127.0.0.1."""
    server, url = _serve(built_book)
    yield url
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium driven by Playwright (never a downloaded browser build)."""
    problems = [f"{p} is missing" for p in (CHROMIUM, AXE_JS) if not p.is_file()]
    if problems:
        pytest.fail("; ".join(problems) + ": run `python tools/test_tools.py --install`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
        )
        yield chromium
        chromium.close()


# --------------------------------------------------------------------------- one visit


@dataclass
class Visit:
    """What one page did while it loaded, and what it shows."""

    url: str
    console_errors: list[str] = field(default_factory=list)
    failed_local: list[str] = field(default_factory=list)
    external: list[str] = field(default_factory=list)
    images: list[dict] = field(default_factory=list)
    axe: list[dict] = field(default_factory=list)
    launch: dict = field(default_factory=dict)


def _is_local(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("data", "blob", "about") or parts.hostname in ("127.0.0.1", "localhost")


def _new_page(browser, visit: Visit):
    """A fresh page that records console errors and failures and blocks the internet."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme="light")
    page = context.new_page()

    def route(route):
        if _is_local(route.request.url):
            route.continue_()
        else:
            visit.external.append(route.request.url)
            route.abort("internetdisconnected")

    def on_console(message):
        if message.type == "error":
            visit.console_errors.append(message.text)

    def on_failed(request):
        if _is_local(request.url):
            visit.failed_local.append(f"{request.url} ({request.failure})")

    def on_response(response):
        if _is_local(response.url) and response.status >= 400:
            visit.failed_local.append(f"{response.url} (HTTP {response.status})")

    page.route("**/*", route)
    page.on("console", on_console)
    page.on("pageerror", lambda error: visit.console_errors.append(f"uncaught: {error}"))
    page.on("requestfailed", on_failed)
    page.on("response", on_response)
    return context, page


IMAGES_JS = """async () => {
  const imgs = Array.from(document.images);
  imgs.forEach(i => { if (i.loading === 'lazy') i.loading = 'eager'; });
  await Promise.all(imgs.map(i => i.complete ? null :
      new Promise(done => { i.addEventListener('load', done); i.addEventListener('error', done);
                            setTimeout(done, 10000); })));
  return imgs.map(i => ({src: i.getAttribute('src'), alt: i.getAttribute('alt'),
                         hidden: i.closest('[aria-hidden="true"]') !== null,
                         role: i.getAttribute('role'), width: i.naturalWidth,
                         html: i.outerHTML.slice(0, 160)}));
}"""

AXE_RUN_JS = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags},
                                          resultTypes: ['violations']});
  return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.map(n => ({target: n.target.join(' '), html: n.html.slice(0, 160),
                                summary: (n.failureSummary || '').slice(0, 240)}))}));
}"""

LAUNCH_JS = """() => {
  // The theme's launch menu: <a href=...><span class="btn__text-container">Binder</span></a>
  const href = label => {
    const a = Array.from(document.querySelectorAll('a')).find(link =>
        (link.querySelector('.btn__text-container') || {}).textContent === label);
    return a ? a.getAttribute('href') : null;
  };
  const script = document.querySelector('script[type="text/x-thebe-config"]');
  let thebe = null;
  if (script) { thebe = (new Function('return (' + script.textContent + ')'))(); }
  return {binder: href('Binder'), colab: href('Colab'),
          thebe_button: document.querySelector('button.btn-launch-thebe') !== null,
          thebe: thebe, thebe_js: typeof THEBE_JS_URL === 'undefined' ? null : THEBE_JS_URL,
          binder_links: Array.from(document.querySelectorAll('article a[href*="/v2/gh/"]'))
              .map(a => ({href: a.getAttribute('href'),
                          img: (a.querySelector('img') || {}).src || null}))};
}"""


def _screenshot_name(page: str) -> str:
    return page.removesuffix(".html").replace("/", "__") + ".png"


@functools.cache
def _visit(browser, site: str, page: str) -> Visit:
    """Load ``page`` once (per test process) and record everything the checks need."""
    visit = Visit(url=f"{site}/{page}")
    context, tab = _new_page(browser, visit)
    try:
        tab.goto(visit.url, wait_until="load", timeout=60_000)
        tab.wait_for_load_state("networkidle", timeout=30_000)
        visit.images = tab.evaluate(IMAGES_JS)
        visit.launch = tab.evaluate(LAUNCH_JS)
        tab.add_script_tag(path=str(AXE_JS))
        visit.axe = tab.evaluate(AXE_RUN_JS, AXE_TAGS)
        if page == WELCOME or page.removesuffix(".html") in NOTEBOOKS:
            SHOTS.mkdir(parents=True, exist_ok=True)
            tab.screenshot(path=str(SHOTS / _screenshot_name(page)), full_page=True)
        if tab.evaluate("'mode' in document.documentElement.dataset"):
            # The theme's colour mode follows the reader's system (default_mode: auto):
            # check the dark colours too.
            tab.emulate_media(color_scheme="dark")
            tab.wait_for_function("document.documentElement.dataset.theme === 'dark'")
            # Colours fade into the new mode: measure them once the transitions are over.
            tab.wait_for_function("document.getAnimations().every(a => a.playState !== 'running')")
            dark = tab.evaluate(AXE_RUN_JS, AXE_TAGS)
            visit.axe += [dict(v, id=f"{v['id']} (dark mode)") for v in dark]
    finally:
        context.close()
    return visit


def _meaningless_alt(image: dict) -> str | None:
    """Why an image's alt text does not describe it, or None when it does."""
    alt = (image["alt"] or "").strip()
    if image["alt"] is None:
        return "no alt attribute"
    if image["hidden"] or image["role"] in ("presentation", "none"):
        return None  # hidden from assistive technology on purpose
    if not alt:
        return "empty alt"
    words = re.findall(r"[^\W\d_]+", alt.lower())
    src_name = Path(urlsplit(image["src"] or "").path).name.lower()
    if alt.lower() == src_name or re.fullmatch(r"[\w\-]+\.(png|jpe?g|svg|gif|webp)", alt.lower()):
        return f"alt is a file name ({alt!r})"
    if not words or all(w in EMPTY_ALTS for w in words):
        return f"alt says nothing about the picture ({alt!r})"
    return None


def _problems(visit: Visit) -> list[str]:
    out = []
    out += [f"console error: {e}" for e in visit.console_errors]
    out += [f"failed local request: {r}" for r in visit.failed_local]
    for url in visit.external:
        hint = " (math on the page: serve MathJax locally)" if "mathjax" in url.lower() else ""
        out.append(f"needs the internet: {url}{hint}")
    for image in visit.images:
        if image["width"] == 0:
            out.append(f"image does not load: {image['html']}")
        reason = _meaningless_alt(image)
        if reason:
            out.append(f"alt text: {reason}: {image['html']}")
    for v in visit.axe:  # one line per rule: how many elements, the first three of them
        nodes = v["nodes"]
        where = "; ".join(f"`{n['target']}`: {n['html']}" for n in nodes[:3])
        more = f" and {len(nodes) - 3} more" if len(nodes) > 3 else ""
        out.append(
            f"axe {v['id']} ({v['impact']}): {v['help']}: {len(nodes)} element(s): "
            f"{where}{more} -- {nodes[0]['summary'] if nodes else ''}"
        )
    return out


# --------------------------------------------------------------------------- the book


@pytest.mark.book
def test_every_toc_entry_has_a_page(built_book):
    missing = [f for f in TOC_FILES if not (built_book / f"{f}.html").is_file()]
    assert not missing, f"pages of _toc.yml missing from {HTML}: {missing}"
    assert WELCOME in PAGES


@pytest.mark.book
@pytest.mark.browser
def test_root_redirects_to_the_welcome_page(site, browser):
    context = browser.new_context()
    try:
        tab = context.new_page()
        tab.goto(f"{site}/index.html")
        tab.wait_for_url(f"{site}/{WELCOME}", timeout=10_000)
    finally:
        context.close()


@pytest.mark.book
@pytest.mark.browser
@pytest.mark.parametrize("page", PAGES)
def test_page(site, browser, page):
    """Loads cleanly and offline, images load with alt text, no WCAG 2 A/AA violation."""
    visit = _visit(browser, site, page)
    problems = _problems(visit)
    assert not problems, f"{page}: {len(problems)} problem(s):\n" + "\n".join(problems)


def _canonical() -> tuple[str, str]:
    url = CONFIG["repository"]["url"].rstrip("/")
    parts = urlsplit(url)
    assert parts.hostname == "github.com", f"repository.url is not on GitHub: {url}"
    return parts.path.strip("/"), CONFIG["repository"].get("branch", "main")


@pytest.mark.book
@pytest.mark.browser
@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_launch_buttons_open_this_notebook(site, browser, notebook):
    repo, branch = _canonical()
    book_path = CONFIG["repository"].get("path_to_book", "").strip("/")
    ipynb = "/".join(p for p in (book_path, f"{notebook}.ipynb") if p)
    assert (ROOT / f"{notebook}.ipynb").is_file()
    launch = _visit(browser, site, f"{notebook}.html").launch
    buttons = CONFIG["launch_buttons"]

    binder = urlsplit(launch["binder"] or "")
    assert f"{binder.scheme}://{binder.netloc}" == buttons["binderhub_url"].rstrip("/"), launch
    assert binder.path == f"/v2/gh/{repo}/{branch}", launch["binder"]
    interface = {"jupyterlab": "lab/tree", "classic": "tree"}[buttons["notebook_interface"]]
    assert parse_qs(binder.query)["urlpath"] == [f"{interface}/{ipynb}"], launch["binder"]

    colab = buttons["colab_url"].rstrip("/")
    assert launch["colab"] == f"{colab}/github/{repo}/blob/{branch}/{ipynb}", launch["colab"]

    assert launch["thebe_button"], "no live-code (Thebe) button"
    thebe = launch["thebe"]
    assert thebe["binderOptions"]["repo"] == repo, thebe
    assert thebe["binderOptions"]["ref"] == branch, thebe
    folder = str(Path(ipynb).parent)
    assert thebe["kernelOptions"]["path"].removeprefix("./").rstrip("/") in (folder, ""), thebe
    assert (ROOT / folder).is_dir()


@pytest.mark.book
@pytest.mark.browser
def test_welcome_page_has_a_binder_badge_for_the_first_notebook(site, browser):
    """The welcome page links a badge to the first notebook, in JupyterLab on Binder."""
    assert NOTEBOOKS, "the book has no notebook page"
    repo, branch = _canonical()
    binder = CONFIG["launch_buttons"]["binderhub_url"].rstrip("/")
    want = f"{binder}/v2/gh/{repo}/{branch}?urlpath=lab/tree/{NOTEBOOKS[0]}.ipynb"
    links = _visit(browser, site, WELCOME).launch["binder_links"]
    badges = [link for link in links if link["href"] == want and link["img"]]
    assert badges, f"no badge image linking to {want} on {WELCOME}; links there: {links}"


@pytest.mark.book
@pytest.mark.browser
def test_live_code_script_loads_only_when_asked(site, browser):
    """Thebe's script comes from the internet only after the reader clicks 'Live code'."""
    if not NOTEBOOKS:
        pytest.skip("the book has no notebook page")
    visit = Visit(url=f"{site}/{NOTEBOOKS[0]}.html")
    context, tab = _new_page(browser, visit)
    try:
        tab.goto(visit.url, wait_until="load")
        tab.wait_for_load_state("networkidle")
        assert visit.external == [], "requests before the click"
        thebe_js = tab.evaluate("THEBE_JS_URL")
        tab.evaluate("initThebeSBT()")
        tab.wait_for_timeout(1500)
    finally:
        context.close()
    assert thebe_js in visit.external, f"clicking live code requested {visit.external}"


@pytest.mark.book
@pytest.mark.browser
def test_search_finds_a_known_term(site, browser):
    context = browser.new_context()
    try:
        tab = context.new_page()
        tab.goto(f"{site}/search.html?q={SEARCH_TERM}", wait_until="load")
        results = tab.locator("#search-results ul.search li a")
        results.first.wait_for(timeout=20_000)
        hrefs = results.evaluate_all("links => links.map(a => a.getAttribute('href'))")
    finally:
        context.close()
    assert any(SEARCH_PAGE in h for h in hrefs), f"search for {SEARCH_TERM!r} listed {hrefs}"


@pytest.mark.book
@pytest.mark.browser
@pytest.mark.parametrize("page", [WELCOME] + [f"{n}.html" for n in NOTEBOOKS])
def test_screenshot_saved(site, browser, page):
    _visit(browser, site, page)
    shot = SHOTS / _screenshot_name(page)
    assert shot.is_file() and shot.stat().st_size > 10_000, f"no screenshot at {shot}"


# --------------------------------------------------------------------------- the checks themselves


BAD_PAGE = """<!DOCTYPE html><html><head><title>bad</title></head><body>
<p style="color:#bbb;background:#fff">Low contrast text</p>
<img src="missing.png">
<img src="dot.svg" alt="dot.svg">
<img src="https://example.org/remote.png" alt="A remote picture of a brain">
<script>console.error("boom")</script>
</body></html>"""


@pytest.mark.browser
def test_the_checks_catch_a_bad_page(browser, tmp_path):
    """The same checks flag low contrast, missing alt, broken and remote images, errors."""
    (tmp_path / "bad.html").write_text(BAD_PAGE, encoding="utf-8")
    (tmp_path / "dot.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>', encoding="utf-8"
    )
    server, url = _serve(tmp_path)
    try:
        visit = _visit.__wrapped__(browser, url, "bad.html")
    finally:
        server.shutdown()
        server.server_close()
    text = "\n".join(_problems(visit))
    assert "boom" in text
    assert "missing.png (HTTP 404)" in text
    assert "needs the internet: https://example.org/remote.png" in text
    assert "alt text: no alt attribute" in text
    assert "alt is a file name" in text
    assert "image does not load" in text
    ids = {v["id"] for v in visit.axe}
    assert {"color-contrast", "image-alt", "html-has-lang"} <= ids, ids


@pytest.mark.parametrize(
    ("alt", "ok"),
    [
        ("Axial slice of a T1-weighted head with the face removed", True),
        ("Colab logo", True),
        ("", False),
        ("image", False),
        ("Figure 1", False),
        ("plot.png", False),
        (None, False),
    ],
)
def test_alt_text_rule(alt, ok):
    image = {"alt": alt, "src": "../_images/plot.png", "hidden": False, "role": None}
    assert (_meaningless_alt(image) is None) is ok


def test_toc_reader():
    toc = {"root": "a", "parts": [{"chapters": [{"file": "b", "sections": [{"file": "c"}]}]}]}
    assert _toc_files(toc) == ["a", "b", "c"]
    assert json.loads(json.dumps(TOC_FILES)) == TOC_FILES and TOC_FILES[0] == TOC["root"]
