"""The documentation site (``make docs``) as a reader meets it: built, served, browsed.

The site is built as ``make docs`` builds it (Sphinx, incremental: seconds when ``make docs``
ran before) into ``build/docs/html`` and served on a loopback port. Headless Chromium then
opens every rendered notebook (one page per ``docs/notebooks/*.ipynb``) and checks that each
of its plotly figures is drawn (an SVG of non-zero size with traces, and plotly's mode bar:
the figure is interactive), that its math is typeset and that no script failed; the home
page shows the README's reproduce table, and the API reference documents the package with
the equations its docstrings name, gathered in a paper-to-code map. Every request beyond
the local server is aborted and fails the test: plotly.js and MathJax come from the site
itself.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest
from conftest import BUILD_DIR, REPO_ROOT, _free_port, _running

DOCS = REPO_ROOT / "docs"
SITE = BUILD_DIR / "docs" / "html"
DOCTREES = BUILD_DIR / "docs" / "doctrees"
RENDERED = sorted((DOCS / "notebooks").glob("[0-9][0-9]_*.ipynb"))
NOTE_TAG = "render-note"  # the cell a render adds to say its profile (scripts/render_notebooks.py)
BUILD_TIMEOUT_S = 600
DRAW_TIMEOUT_MS = 30_000
LOCAL_SCHEMES = ("data", "blob", "about")

JS_FIGURES = """() => Array.from(document.querySelectorAll('.plotly-graph-div')).map(gd => {
  const svg = gd.querySelector('svg.main-svg');
  const box = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
  return {drawn: gd.classList.contains('js-plotly-plot') && !!svg,
          width: box.width, height: box.height, traces: (gd.data || []).length,
          modebar: !!gd.querySelector('.modebar')};
})"""


def build_command(site: Path = SITE, doctrees: Path = DOCTREES) -> list[str]:
    """The build ``make docs`` runs."""
    return [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-d", str(doctrees),
            str(DOCS), str(site)]


def figures_in(notebook: Path) -> int:
    """How many plotly figures the rendered notebook holds (its HTML outputs)."""
    cells = json.loads(notebook.read_text())["cells"]
    return sum(str(out.get("data", {}).get("text/html", "")).count("plotly-graph-div\"")
               for cell in cells for out in cell.get("outputs", []))


@pytest.fixture(scope="module")
def site(chromium_executable: str) -> Path:
    """The built site (``make docs``); skipped or failed, as the browser, without Sphinx."""
    for module in ("sphinx", "myst_nb", "furo"):
        if importlib.util.find_spec(module) is None:
            reason = (f"the docs site test needs {module} (pip install -e '.[docs]')")
            if os.environ.get("WIDENETS_REQUIRE_BROWSER", "0").strip() in ("1", "true", "yes"):
                pytest.fail(f"{reason} (required: WIDENETS_REQUIRE_BROWSER=1)", pytrace=False)
            pytest.skip(reason)
    start = time.monotonic()
    done = subprocess.run(build_command(), capture_output=True, text=True,
                          timeout=BUILD_TIMEOUT_S, cwd=REPO_ROOT)
    assert done.returncode == 0, f"the docs build failed:\n{done.stderr[-4000:]}"
    print(f"docs build: {time.monotonic() - start:.1f} s")
    return SITE


@pytest.fixture(scope="module")
def server(site: Path) -> str:
    """The site served by ``http.server`` on a loopback port; its base URL."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
               "--directory", str(site)]

    def ready() -> None:
        with urllib.request.urlopen(f"{url}/index.html", timeout=5):
            pass

    with _running("http.server", command, dict(os.environ), site,
                  BUILD_DIR / "docs-server.log", ready):
        yield url


@pytest.fixture
def page(server: str, browser_context):
    """A tab that may load only from the site; ``page.outside`` lists what it tried else,
    ``page.errors`` its uncaught script errors."""
    tab = browser_context.new_page()
    tab.set_default_timeout(30_000)
    outside: list[str] = []
    errors: list[str] = []
    host = urlparse(server).netloc

    def route(route) -> None:
        url = urlparse(route.request.url)
        if url.scheme in LOCAL_SCHEMES or url.netloc == host:
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    tab.route("**/*", route)
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.outside, tab.errors = outside, errors
    try:
        yield tab
    finally:
        tab.close()


def test_every_notebook_is_rendered() -> None:
    assert RENDERED, "docs/notebooks/ holds no rendered notebook (scripts/render_notebooks.py)"
    sources = sorted(p.name for p in (REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert [p.name for p in RENDERED] == sources, (
        "docs/notebooks/ does not match notebooks/: run scripts/render_notebooks.py")
    for path in RENDERED:
        nb = json.loads(path.read_text())
        profile = nb["metadata"].get("widenets", {}).get("profile")
        notes = ["".join(c["source"]) for c in nb["cells"] if NOTE_TAG in _tags(c)]
        # any other profile than standard is said on the page itself
        assert profile == "standard" or (
            len(notes) == 1 and f"**{profile}** profile" in notes[0]), (
            f"{path.name} was rendered in {profile} without saying so on its page")


def _tags(cell: dict) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


@pytest.mark.parametrize("notebook", RENDERED, ids=[p.stem for p in RENDERED])
def test_rendered_notebook_is_current(notebook: Path) -> None:
    """The rendered copy has the cells of the notebook (only outputs added)."""
    def cells(path: Path) -> list[tuple[str, str]]:
        return [(c["cell_type"], "".join(c["source"]))
                for c in json.loads(path.read_text())["cells"] if NOTE_TAG not in _tags(c)]

    assert cells(notebook) == cells(REPO_ROOT / "notebooks" / notebook.name), (
        f"docs/notebooks/{notebook.name} is older than notebooks/{notebook.name}: run "
        f".venv/bin/python scripts/render_notebooks.py --stale")


@pytest.mark.parametrize("notebook", RENDERED, ids=[p.stem for p in RENDERED])
def test_notebook_page_draws_its_figures(notebook: Path, server: str, page) -> None:
    expected = figures_in(notebook)
    page.goto(f"{server}/notebooks/{notebook.stem}.html", wait_until="load")
    if expected:
        page.wait_for_function(
            f"() => document.querySelectorAll('.js-plotly-plot svg.main-svg').length > 0 && "
            f"({JS_FIGURES})().every(f => f.drawn)", timeout=DRAW_TIMEOUT_MS, polling=250)
    figures = page.evaluate(JS_FIGURES)
    assert len(figures) == expected, (
        f"{notebook.stem}: {len(figures)} figures in the page, {expected} in the notebook")
    blank = [k for k, f in enumerate(figures)
             if not (f["drawn"] and f["width"] > 100 and f["height"] > 100 and f["traces"])]
    assert not blank, f"{notebook.stem}: figures {blank} not drawn: {figures}"
    assert all(f["modebar"] for f in figures), f"{notebook.stem}: no plotly mode bar"
    if page.locator(".math").count():
        page.wait_for_selector("mjx-container", state="attached", timeout=DRAW_TIMEOUT_MS)
    assert "Traceback" not in page.inner_text("article"), f"{notebook.stem}: a cell failed"
    assert not page.outside, f"{notebook.stem}: requests beyond the site: {page.outside}"
    assert not page.errors, f"{notebook.stem}: script errors: {page.errors}"


def test_home_page_has_the_reproduce_table(server: str, page) -> None:
    page.goto(f"{server}/index.html", wait_until="load")
    tables = page.locator("table").all_inner_texts()
    reproduce = [t for t in tables if "table1" in t and "fig11" in t]
    assert reproduce, f"no reproduce table on the home page: {[t[:80] for t in tables]}"
    links = page.locator(".sidebar-tree a").all_inner_texts()
    for path in RENDERED:
        title = json.loads(path.read_text())["cells"][0]["source"]
        heading = "".join(title).lstrip("# ").splitlines()[0].strip()
        assert any(heading in link for link in links), f"no link to {path.stem}: {links}"
    assert not page.outside, f"requests beyond the site: {page.outside}"


def test_api_reference_maps_the_paper_to_the_code(server: str, page) -> None:
    page.goto(f"{server}/api/index.html", wait_until="load")
    modules = page.locator("table a").all_inner_texts()
    assert "widenets_nb" in modules, f"no package in the API index: {modules}"
    from widenets_nb.correlators import clusters

    page.goto(f"{server}/api/generated/widenets_nb.correlators.clusters.html",
              wait_until="load")
    entry = page.locator("dt#widenets_nb\\.correlators\\.clusters\\.predict")
    assert entry.count() == 1, "predict is not documented"
    text = entry.locator("xpath=..").inner_text()
    first = clusters.predict.__doc__.strip().split()[:3]
    assert " ".join(first) in " ".join(text.split()), f"docstring not shown: {text[:300]}"
    assert "Conjecture 1" in text, f"the docstring's equation is not shown: {text[:300]}"

    page.goto(f"{server}/api/generated/paper_map.html", wait_until="load")
    rows = {row.locator("td").first.inner_text().strip(): row.locator("td").nth(1)
            for row in page.locator("tbody tr").all()}
    assert "Conjecture 1" in rows, f"no Conjecture 1 in the paper map: {list(rows)}"
    predict = rows["Conjecture 1"].locator(
        "a", has_text=re.compile(r"^correlators\.clusters\.predict(\(\))?$"))
    href = predict.first.get_attribute("href")
    assert href.endswith("widenets_nb.correlators.clusters.html"
                         "#widenets_nb.correlators.clusters.predict"), href
    assert not page.outside, f"requests beyond the site: {page.outside}"
