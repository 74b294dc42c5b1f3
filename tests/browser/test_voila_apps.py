"""Notebooks as standalone apps (``make app``): opened in Voila, touched, redrawn.

For notebooks 01 and 04 (quick profile): open the Voila page, wait until the whole notebook
has run (the page finishes loading), check that no code is shown and no cell failed, that
the widget views rendered and a plotly figure is drawn, then move the first panel's control
and press its "Run" button until the figure's data changes (as in JupyterLab, see
``test_browser_notebooks.interact``). Screenshots go to ``build/screenshots/voila-*.png``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_browser_notebooks import (
    RUN_TIMEOUT_MS,
    Clock,
    interact,
    wait_for_figures,
)

APPS = ("01_correlation_functions", "04_finite_width_dynamics")
# Voila has no JupyterLab application to ask whether the kernel is idle; the interaction
# waits for the figure itself instead.
ALWAYS = "() => true"
# jupyterlab-plotly's renderer, once a static figure is drawn, stores a PNG of it in the
# output model (``model.setData``); Voila's output models are read-only and lack that
# method. The figure itself is drawn (asserted below); only that PNG cache fails.
KNOWN_ERRORS = re.compile(r"\bsetData is not a function")
JS_VIEWS = """() => Array.from(document.querySelectorAll('.jp-OutputArea-output'))
  .filter(node => node.querySelector('.widget-button, .widget-slider, .widget-dropdown')
                  || /Loading widget|Error displaying widget/.test(node.innerText))
  .map(node => ({broken: /Error displaying widget|model not found/i.test(node.innerText),
                 loading: /Loading widget/.test(node.innerText)}))"""


@pytest.mark.parametrize("name", APPS)
def test_notebook_as_a_voila_app(name: str, voila, browser_context,
                                 screenshots_dir: Path) -> None:
    page = browser_context.new_page()
    page.set_default_timeout(30_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    clock = Clock(f"voila {name}")
    try:
        # The page streams each cell's outputs as it runs; "load" fires once all have run.
        page.goto(voila.notebook_url(f"{name}.ipynb"), wait_until="commit")
        page.wait_for_load_state("load", timeout=RUN_TIMEOUT_MS)
        clock("all cells ran")
        text = page.inner_text("body")
        assert "import widenets_nb" not in text and "from widenets_nb" not in text, (
            f"{name}: the app shows code cells")
        assert "Traceback" not in text, f"{name}: a cell failed:\n{text[-2000:]}"
        figures = wait_for_figures(page)
        assert any(f["svg"] and f["width"] > 0 for f in figures), (
            f"{name}: no plotly figure drawn (found {figures})")
        page.wait_for_function(f"() => ({JS_VIEWS})().every(v => !v.loading)",
                               timeout=60_000, polling=250)
        views = page.evaluate(JS_VIEWS)
        assert views and not any(v["broken"] for v in views), (
            f"{name}: widget views did not render: {views}\n{voila.log_tail()}")
        clock("widgets rendered")
        panel, steps = interact(page, Path(f"{name}.ipynb"), idle=ALWAYS)
        clock(f"figure changed after {'; '.join(steps)}")
        panel.screenshot(path=screenshots_dir / f"voila-{name}.png")
        unexpected = [e for e in errors if not KNOWN_ERRORS.search(e)]
        assert not unexpected, f"{name}: uncaught errors in the page: {unexpected}"
    finally:
        page.close()
