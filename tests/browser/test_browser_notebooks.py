"""Every notebook as a user meets it: opened in JupyterLab, run, looked at and touched.

For each ``notebooks/*.ipynb`` (quick profile): open it in a fresh JupyterLab workspace, run
all cells, wait for the kernel to go idle, then check that no cell has an error output, that
every widget view rendered (no "Error displaying widget" / "Model not found"), that at least
one plotly figure is drawn as SVG and none is blank, and that moving a control of the first
panel (a slider by default, see ``INTERACTIONS``) changes its figure's data, pressing the
panel's "Run" button when the control alone did not. Screenshots go to
``build/screenshots/``: ``<notebook>.png`` (the window at the touched panel),
``<notebook>-panel.png`` (that panel alone, the README's pictures) and
``<notebook>-figure<k>.png`` (each output that holds a plotly figure).

The page never reaches beyond the local server (other requests are aborted and reported)
and never writes a notebook back (save requests are aborted and reported).
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

OPEN_TIMEOUT_MS = 120_000
RUN_TIMEOUT_MS = 240_000
RENDER_TIMEOUT_MS = 60_000
INTERACTION_TIMEOUT_MS = 120_000
TALL_VIEWPORT_HEIGHT = 2400


@dataclass(frozen=True)
class Interaction:
    """What to touch in a notebook.

    ``panel`` counts the outputs that hold a plotly figure and a control (0 = first).
    ``slider`` / ``dropdown`` name a control by its description; when neither is given the
    panel's first slider is moved (else its first dropdown), one step up, or down when
    ``down`` (or at its maximum). ``button`` is pressed when the control alone left the
    figure unchanged (panels that compute only on request).
    """

    panel: int = 0
    slider: str | None = None
    dropdown: str | None = None
    button: str = "Run"
    down: bool = False


# Notebooks whose first slider is not the one to move (its change would be slow or do
# nothing visible). Others get Interaction().
INTERACTIONS: dict[str, Interaction] = {
    "00_start_here": Interaction(slider="log2 width"),
    "02_feynman_diagrams": Interaction(slider="diagram"),
    # fewer initializations: the Monte Carlo rerun stays short
    "01_correlation_functions": Interaction(slider="inits", down=True),
    # the smallest width up one step: the remaining widths are cached, the figure redraws
    "06_finite_width_theory": Interaction(slider="log2 widths"),
}

# The running notebook (JupyterLab exposes its application as window.jupyterapp).
JS_CURRENT = """
const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
const session = panel && panel.sessionContext && panel.sessionContext.session;
const kernel = session && session.kernel;
"""
JS_KERNEL_IDLE = f"""() => {{ {JS_CURRENT}
  return !!(panel && panel.context && panel.context.isReady && kernel
            && kernel.connectionStatus === 'connected' && kernel.status === 'idle');
}}"""
JS_RUN_ALL = """() => {
  window.__runAll = {done: false};
  window.jupyterapp.commands.execute('notebook:run-all-cells').then(
    ok => { window.__runAll = {done: true, ok: ok}; },
    err => { window.__runAll = {done: true, ok: false, error: String(err)}; });
}"""
JS_CELLS = f"""() => {{ {JS_CURRENT}
  const cells = panel.content.widgets.map((cell, index) => ({{cell, index}}))
    .filter(({{cell}}) => cell.model.type === 'code');
  return cells.map(({{cell, index}}) => ({{
    index,
    executed: cell.model.executionCount !== null,
    source: cell.model.sharedModel.getSource().slice(0, 300),
    errors: cell.model.outputs.toJSON().filter(o => o.output_type === 'error')
      .map(o => `${{o.ename}}: ${{o.evalue}}`),
    stderr: cell.model.outputs.toJSON()
      .filter(o => o.output_type === 'stream' && o.name === 'stderr')
      .map(o => [].concat(o.text).join('').slice(0, 500)),
  }}));
}}"""
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
JS_WIDGET_VIEWS = f"""() => {{ {JS_CURRENT}
  const views = [];
  panel.content.widgets.forEach((cell, index) => {{
    if (cell.model.type !== 'code') return;
    const outputs = cell.model.outputs.toJSON();
    const nodes = cell.node.querySelectorAll('.jp-OutputArea-output');
    outputs.forEach((output, k) => {{
      if (!(output.data && output.data['{WIDGET_MIME}'])) return;
      const node = nodes[k];
      const text = node ? node.innerText : '';
      if (node && node.classList.contains('lm-mod-hidden')) return;  // a closed widget
      views.push({{cell: index, text: text.slice(0, 200),
        broken: /Error displaying widget|model not found/i.test(text)
          || !!(node && node.querySelector('.jupyter-widgets-error-widget')),
        rendered: !!(node && node.querySelector('*')) && !/Loading widget/.test(text)}});
    }});
  }});
  return views;
}}"""
# The figures' data, without the trace ids plotly renews whenever traces are replaced.
JS_FINGERPRINT = """el => Array.from(el.querySelectorAll('.js-plotly-plot')).map(
  gd => JSON.stringify(gd.data || [],
    (k, v) => k === 'uid' ? undefined : ArrayBuffer.isView(v) ? Array.from(v) : v)
).join('\\n')"""
JS_FIGURES = """() => Array.from(
  document.querySelectorAll('.jp-Notebook .js-plotly-plot')).map(gd => {
  const svg = gd.querySelector('svg.main-svg');
  const box = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
  return {svg: !!svg, width: box.width, height: box.height,
          traces: (gd.data || []).length, title: gd.layout && gd.layout.title
            ? String(gd.layout.title.text || gd.layout.title) : ''};
})"""


class Clock:
    """Prints the seconds each phase took (shown by pytest for failing tests, or with -s)."""

    def __init__(self, name: str) -> None:
        self.name, self.last = name, time.monotonic()

    def __call__(self, phase: str) -> None:
        now = time.monotonic()
        print(f"{self.name}: {phase} ({now - self.last:.1f} s)")
        self.last = now


@dataclass
class PageLog:
    """What the page did that it should not: uncaught errors, outside requests, saves."""

    errors: list[str] = field(default_factory=list)
    external: list[str] = field(default_factory=list)
    writes: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)


def writes_notebook(request) -> bool:
    """A request that would change a notebook on disk (checkpoints go to a temporary dir)."""
    path = request.url.split("?")[0]
    if "/api/contents/" not in path or request.method in ("GET", "HEAD"):
        return False
    return not (request.method == "POST" and path.endswith("/checkpoints"))


def watch(page, lab) -> PageLog:
    """Abort requests that leave the server or write a notebook; record them and JS errors."""
    log = PageLog()
    page.on("pageerror", lambda error: log.errors.append(str(error)))
    page.on("console", lambda message: message.type == "error"
            and log.console.append(message.text[:300]))

    def route(route) -> None:
        request = route.request
        if not request.url.startswith(lab.url):
            log.external.append(request.url[:200])
            route.abort()
        elif writes_notebook(request):
            log.writes.append(f"{request.method} {request.url.split('?')[0]}")
            route.abort()
        else:
            route.continue_()

    page.route("**/*", route)
    return log


def wait_or_explain(page, condition: str, timeout_ms: int, what: str) -> None:
    """Wait for a JS condition; on timeout fail with any JupyterLab dialog on screen."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(condition, timeout=timeout_ms, polling=250)
    except PlaywrightTimeout:
        dialogs = page.locator(".jp-Dialog").all_inner_texts()
        pytest.fail(f"{what} within {timeout_ms / 1000:.0f} s"
                    + (f"; JupyterLab shows: {dialogs}" if dialogs else ""), pytrace=False)


def open_notebook(page, lab, notebook: Path) -> None:
    page.goto(lab.notebook_url(notebook.name))
    wait_or_explain(page, JS_KERNEL_IDLE, OPEN_TIMEOUT_MS,
                    f"{notebook.name} did not open with an idle kernel")
    page.evaluate("() => window.jupyterapp.shell.collapseLeft()")


def run_all_cells(page, notebook: Path) -> None:
    """Run every cell and wait until the run has finished and the kernel is idle."""
    page.evaluate(JS_RUN_ALL)
    wait_or_explain(page, "() => window.__runAll.done", RUN_TIMEOUT_MS,
                    f"{notebook.name}: running all cells did not finish")
    wait_or_explain(page, JS_KERNEL_IDLE, RUN_TIMEOUT_MS,
                    f"{notebook.name}: the kernel did not go idle")


def describe_errors(cells: list[dict]) -> str:
    return "\n".join(f"cell {c['index']}: {'; '.join(c['errors'])}\n  source: "
                     f"{c['source'][:200]!r}" for c in cells if c["errors"])


def wait_for_widget_views(page) -> list[dict]:
    """The widget-view outputs once each has rendered or failed (or the wait ran out)."""
    deadline = time.monotonic() + RENDER_TIMEOUT_MS / 1000
    while True:
        views = page.evaluate(JS_WIDGET_VIEWS)
        if all(v["rendered"] or v["broken"] for v in views) or time.monotonic() > deadline:
            return views
        page.wait_for_timeout(250)


def wait_for_figures(page) -> list[dict]:
    """The plotly figures in the notebook, after waiting for at least one SVG."""
    try:
        page.wait_for_selector(".jp-Notebook .js-plotly-plot svg.main-svg",
                               state="attached", timeout=RENDER_TIMEOUT_MS)
    except Exception:  # reported by the caller's assertion with what was found
        pass
    return page.evaluate(JS_FIGURES)


def control(panel, kind: str, name: str | None):
    """The named (or first) control of ``kind`` ('slider' or 'dropdown') in ``panel``."""
    found = panel.locator(f".widget-{kind}")
    if name is not None:
        label = re.compile(rf"^\s*{re.escape(name)}\s*$")
        found = found.filter(has=panel.page.locator(".widget-label", has_text=label))
    return found.first if found.count() else None


def move_slider(slider, down: bool) -> str:
    """Move a slider one step with the keyboard, as a user would; returns what happened."""
    handle = slider.locator(".noUi-handle").first
    now = float(handle.get_attribute("aria-valuenow"))
    low = float(handle.get_attribute("aria-valuemin"))
    high = float(handle.get_attribute("aria-valuemax"))
    before = slider.locator(".widget-readout").inner_text()
    handle.focus()
    handle.press("ArrowLeft" if (down and now > low) or now >= high else "ArrowRight")
    after = slider.locator(".widget-readout").inner_text()
    assert after != before, f"slider did not move (readout {before!r})"
    return f"slider {label_of(slider)!r}: {before} -> {after}"


def switch_dropdown(dropdown) -> str:
    select = dropdown.locator("select")
    options = select.locator("option").all_inner_texts()
    current = select.evaluate("s => s.options[s.selectedIndex].text")
    choice = options[(options.index(current) + 1) % len(options)]
    select.select_option(label=choice)
    return f"dropdown {label_of(dropdown)!r}: {current} -> {choice}"


def label_of(widget) -> str:
    return widget.locator(".widget-label").first.inner_text().strip()


def changed(page, panel, before: str, timeout_ms: int) -> bool:
    """Whether the panel's figure data differs from ``before`` within the timeout."""
    try:
        page.wait_for_function(f"([el, before]) => ({JS_FINGERPRINT})(el) !== before",
                               arg=[panel.element_handle(), before], timeout=timeout_ms,
                               polling=250)
        return True
    except Exception:  # a timeout: the figure did not change
        return False


def interact(page, notebook: Path, idle: str = JS_KERNEL_IDLE) -> tuple[object, list[str]]:
    """Touch the notebook's panel; returns the panel and the steps taken (asserts change).

    ``idle`` is a JS condition that holds once the kernel has nothing left to do (Voila
    pages have no JupyterLab application to ask, and pass one of their own)."""
    spec = INTERACTIONS.get(notebook.stem, Interaction())
    panels = (page.locator(".jp-Notebook .jp-OutputArea-output")
              .filter(has=page.locator(".js-plotly-plot"))
              .filter(has=page.locator(".widget-slider, .widget-dropdown, .widget-button")))
    assert panels.count() > spec.panel, (
        f"{notebook.name}: found {panels.count()} widget panel(s) with a plotly figure and "
        f"controls; the interaction needs panel #{spec.panel}")
    panel = panels.nth(spec.panel)
    panel.scroll_into_view_if_needed()
    before = panel.evaluate(JS_FINGERPRINT)
    steps = []
    if spec.dropdown is not None:
        widget = control(panel, "dropdown", spec.dropdown)
        assert widget is not None, f"no dropdown {spec.dropdown!r} in panel #{spec.panel}"
        steps.append(switch_dropdown(widget))
    else:
        widget = control(panel, "slider", spec.slider)
        if widget is None and spec.slider is None:
            widget = control(panel, "dropdown", None)
            if widget is not None:
                steps.append(switch_dropdown(widget))
        else:
            assert widget is not None, f"no slider {spec.slider!r} in panel #{spec.panel}"
            steps.append(move_slider(widget, spec.down))
    if not steps or not changed(page, panel, before, timeout_ms=5_000 if steps else 0):
        page.wait_for_function(idle, timeout=INTERACTION_TIMEOUT_MS)
        if not steps or not changed(page, panel, before, timeout_ms=1_000):
            button = panel.locator(".widget-button", has_text=spec.button)
            assert button.count(), (f"the figure did not change after {steps} and the panel "
                                    f"has no {spec.button!r} button")
            button.first.click()
            steps.append(f"pressed {spec.button!r}")
    assert changed(page, panel, before, timeout_ms=INTERACTION_TIMEOUT_MS), (
        f"{notebook.name}: the figure's data did not change after: {'; '.join(steps)}")
    page.wait_for_function(idle, timeout=INTERACTION_TIMEOUT_MS)
    return panel, steps


def save_screenshots(page, notebook: Path, directory: Path, panel=None) -> None:
    """``<stem>.png``: the window at the touched panel, ``<stem>-panel.png``: that panel,
    ``<stem>-figure<k>.png``: each output holding a plotly figure."""
    for old in directory.glob(f"{notebook.stem}*.png"):
        old.unlink()
    outputs = (page.locator(".jp-Notebook .jp-OutputArea-output")
               .filter(has=page.locator(".js-plotly-plot")))
    page.mouse.move(0, 0)  # no plotly toolbar or hover label in the pictures
    viewport = page.viewport_size
    # a whole output fits inside the notebook area
    page.set_viewport_size({"width": viewport["width"], "height": TALL_VIEWPORT_HEIGHT})
    page.wait_for_timeout(500)
    try:
        for k in range(outputs.count()):
            outputs.nth(k).screenshot(path=directory / f"{notebook.stem}-figure{k}.png")
        if panel is not None:
            panel.screenshot(path=directory / f"{notebook.stem}-panel.png")
    finally:
        page.set_viewport_size(viewport)
        page.wait_for_timeout(500)
    if panel is not None:
        panel.evaluate("el => el.scrollIntoView({block: 'start'})")
        page.wait_for_timeout(500)
    page.screenshot(path=directory / f"{notebook.stem}.png")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One test per ``NN_*.ipynb`` under the notebooks directory (see ``--notebooks``)."""
    if "notebook" in metafunc.fixturenames:
        directory = Path(metafunc.config.getoption("--notebooks")).resolve()
        notebooks = sorted(directory.glob("[0-9][0-9]_*.ipynb"))
        if not notebooks:
            raise pytest.UsageError(f"no NN_*.ipynb notebooks in {directory}")
        metafunc.parametrize("notebook", notebooks, ids=[path.stem for path in notebooks])


def test_notebook_in_jupyterlab(notebook: Path, lab, lab_page,
                                screenshots_dir: Path) -> None:
    page = lab_page
    log = watch(page, lab)
    panel = None
    clock = Clock(notebook.name)
    try:
        open_notebook(page, lab, notebook)
        clock("opened, kernel idle")
        run_all_cells(page, notebook)
        clock("ran all cells")
        cells = page.evaluate(JS_CELLS)
        assert not any(c["errors"] for c in cells), (
            f"{notebook.name}: error output\n{describe_errors(cells)}")
        unexecuted = [c["index"] for c in cells if not c["executed"]]
        assert not unexecuted, f"{notebook.name}: cells {unexecuted} did not run"

        views = wait_for_widget_views(page)
        bad = [v for v in views if v["broken"] or not v["rendered"]]
        assert not bad, f"{notebook.name}: widget views not rendered: {json.dumps(bad)}"

        figures = wait_for_figures(page)
        assert any(f["svg"] and f["width"] > 0 for f in figures), (
            f"{notebook.name}: no plotly figure drawn as SVG (found {figures})")
        blank = [f for f in figures if not f["svg"] or f["traces"] == 0]
        assert not blank, f"{notebook.name}: blank plotly figures: {blank}"

        clock("widgets and figures rendered")
        panel, steps = interact(page, notebook)
        clock(f"figure changed after {'; '.join(steps)}")
        figures = page.evaluate(JS_FIGURES)
        assert all(f["svg"] and f["traces"] for f in figures), (
            f"{notebook.name}: a figure went blank after {steps}: {figures}")
    except BaseException:
        with contextlib.suppress(Exception):  # the failure above is the one to report
            save_screenshots(page, notebook, screenshots_dir, panel)
        print(f"browser console errors: {log.console}" if log.console else "")
        raise
    save_screenshots(page, notebook, screenshots_dir, panel)
    clock("screenshots saved")
    assert not log.errors, f"{notebook.name}: uncaught errors in the page: {log.errors}"
    assert not log.external, f"{notebook.name}: requests beyond the server: {log.external}"
    assert not log.writes, f"{notebook.name}: the page tried to save: {log.writes}"
