"""Run the notebooks once (standard profile) and keep static copies for the documentation.

Each ``notebooks/NN_*.ipynb`` is executed in a fresh kernel of this interpreter with
``WIDENETS_PROFILE`` set, and written with its outputs to ``docs/notebooks/`` (not
committed: ``make docs`` renders what is missing or stale in the standard profile, the
browser tests in the quick one), which the documentation renders without executing
anything (``docs/conf.py``).

Outputs are made static in the kernel, before they are stored:

- a plotly figure becomes an HTML fragment (a ``div`` and the ``Plotly.newPlot`` call on
  the figure's JSON) without plotly.js: the site serves plotly.js from the installed
  ``plotly`` package, once, for every page;
- a widget panel (``widgets.Panel`` or any ipywidgets box) is shown as what it draws after
  its first Run: its control values as one line, its HTML (formula, status, caption) and
  its figures as static plotly figures; buttons, hidden widgets and progress bars (the
  panel's and tqdm's) are left out;
- standard-error streams (progress text, library warnings) are dropped.

    .venv/bin/python scripts/render_notebooks.py              # every notebook
    .venv/bin/python scripts/render_notebooks.py 02 05        # notebooks whose name starts so

The results cache (``WIDENETS_CACHE``) makes a second render fast.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import itertools
import json
import os
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
OUT_DIR = REPO_ROOT / "docs" / "notebooks"
SETUP_TAG = "render-setup"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
#: Before a panel's control values: the page shows its first Run, the controls work live.
#: Notebooks rendered in another profile than ``standard`` by default, and why; their page
#: says so in a cell tagged ``NOTE_TAG`` (the only cell a render adds).
PROFILES: dict[str, tuple[str, str]] = {}
NOTE_TAG = "render-note"
CONTROLS_NOTE = ("<b>Panel</b> (its first Run; the controls work in JupyterLab, "
                 "<code>make lab</code>, or as an app, <code>make app</code>):")


# --- kernel side: installed by the setup cell, in the notebook's kernel -------------------

_FIGURE_NUMBERS = itertools.count(1)


def figure_html(fig: object) -> str:
    """A plotly figure as an HTML fragment that needs a global ``Plotly`` (no plotly.js
    inside). The ``div`` id is the figure's place in the notebook and a hash of it: unique
    in the page (a figure can be shown twice), the same text when a render repeats."""
    import plotly.graph_objects as go
    import plotly.io as pio

    from widenets_nb import plots

    figure = go.Figure(fig)
    spec = pio.to_json(figure, validate=False)
    digest = hashlib.sha1(spec.encode()).hexdigest()[:12]
    div_id = f"fig-{next(_FIGURE_NUMBERS)}-{digest}"
    # the package's plotly.js config (the toolbar's download), a panel's own on top
    config = {"responsive": True, "displaylogo": False, **getattr(plots, "CONFIG", {}),
              **(getattr(fig, "_config", None) or {})}
    return pio.to_html(figure, include_plotlyjs=False, full_html=False, div_id=div_id,
                       config=config, validate=False)


def _control_value(widget: object) -> str | None:
    """``description = value`` for a control with a description (None for anything else)."""
    import ipywidgets as W

    if not isinstance(widget, W.ValueWidget) or isinstance(
            widget, W.HTML | W.HTMLMath | W.Label | W.FloatProgress | W.IntProgress):
        return None
    label = getattr(widget, "description", "") or type(widget).__name__
    value = widget.value
    if isinstance(widget, W.Dropdown) and widget.label is not None:
        value = widget.label
    return f"{html.escape(str(label))} = <code>{html.escape(str(value))}</code>"


def static_outputs(widget: object) -> list[tuple[str, str]]:
    """What a widget draws, as ("html" | "figure" | "controls", html) pieces in page order
    ("controls": the values of the controls in one box, as ``description = value``)."""
    import ipywidgets as W
    import plotly.graph_objects as go

    if isinstance(widget, go.FigureWidget):
        return [("figure", figure_html(widget))]
    if isinstance(widget, W.DOMWidget) and widget.layout.display == "none":
        return []
    if isinstance(widget, W.FloatProgress | W.IntProgress):
        return []  # progress has no meaning in a page
    if isinstance(widget, W.Box):
        # a panel's export row: nothing to export from a page
        export = getattr(widget, "export_button", None)
        children = [c for c in widget.children if export not in getattr(c, "children", ())]
        controls = [v for v in map(_control_value, children) if v is not None]
        progress = any(isinstance(c, W.FloatProgress | W.IntProgress) for c in children)
        if progress and not controls:
            return []  # a progress bar with its texts (tqdm's)
        pieces = [("controls", ", ".join(controls))] if controls else []
        for child in children:
            if _control_value(child) is None and not (progress and isinstance(child, W.Label)):
                pieces.extend(static_outputs(child))
        return pieces
    if isinstance(widget, W.HTML | W.HTMLMath) and widget.value.strip():
        return [("html", widget.value)]
    if isinstance(widget, W.Label) and widget.value.strip():
        return [("html", f"<p>{html.escape(widget.value)}</p>")]
    control = _control_value(widget)
    return [("controls", control)] if control else []


def _display_static(widget: object) -> None:
    from IPython.display import HTML, display

    wait = getattr(widget, "wait", None)
    if callable(wait):
        wait()  # a panel's first Run has ended (it runs in the calling thread anyway)
    note = CONTROLS_NOTE  # before the first line of control values only
    for kind, text in static_outputs(widget):
        if kind == "controls":
            text, note = f"<p class='widenets-controls'>{note} {text}</p>", ""
        display(HTML(text))


def install_static_display() -> None:
    """In a kernel: plotly figures display as HTML fragments (``figure_html``), widgets as
    their static content (``static_outputs``)."""
    import ipywidgets as W
    import plotly.graph_objects as go
    import plotly.io as pio
    from plotly.io.base_renderers import MimetypeRenderer

    class StaticHTML(MimetypeRenderer):
        def to_mimebundle(self, fig_dict: dict) -> dict:
            return {"text/html": figure_html(fig_dict)}

    pio.renderers["widenets-static"] = StaticHTML()
    pio.renderers.default = "widenets-static"
    W.Widget._ipython_display_ = _display_static
    go.FigureWidget._ipython_display_ = lambda self: _display_static(self)


# --- driver side ---------------------------------------------------------------------------


def _setup_cell() -> object:
    import nbformat

    source = (f"import sys\nsys.path.insert(0, {str(Path(__file__).parent)!r})\n"
              "import render_notebooks\nrender_notebooks.install_static_display()")
    return nbformat.v4.new_code_cell(source, metadata={"tags": [SETUP_TAG]})


def _clean(nb: object) -> list[str]:
    """Drop the setup cell, stderr streams and any widget view left; the errors shown."""
    nb.cells = [c for c in nb.cells if SETUP_TAG not in c.metadata.get("tags", [])]
    nb.metadata.pop("widgets", None)
    errors = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for out in cell.outputs:
            if out.output_type == "stream" and out.name == "stderr":
                continue
            if out.output_type == "error":
                errors.append(f"{out.ename}: {out.evalue}")
            if WIDGET_MIME in out.get("data", {}):
                continue
            kept.append(out)
        cell.outputs = kept
    return errors


def render(path: Path, out_dir: Path, profile: str, timeout: int) -> tuple[Path, float]:
    """Execute ``path`` in ``profile`` and write the static copy; (its path, seconds)."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(0, _setup_cell())
    if profile != "standard":
        why = PROFILES.get(path.stem, (profile, "rendered in that profile on request"))[1]
        nb.cells.insert(2, nbformat.v4.new_markdown_cell(
            f"*This page shows the **{profile}** profile's outputs ({why}); run the notebook "
            "for the standard profile's numbers.*", metadata={"tags": [NOTE_TAG]}))
    os.environ["WIDENETS_PROFILE"] = profile
    start = time.perf_counter()
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}},
                            record_timing=False)
    client.execute()
    seconds = time.perf_counter() - start
    errors = _clean(nb)
    if errors:
        raise RuntimeError(f"{path.name} failed in the {profile} profile: {errors[0]}")
    from widenets_nb import __version__

    nb.metadata["widenets"] = {"profile": profile, "version": __version__}
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / path.name
    text = nbformat.writes(nb)
    target.write_text(text if text.endswith("\n") else text + "\n")
    return target, seconds


def source_cells(path: Path) -> list[tuple[str, str]]:
    """(type, source) of every cell but the one a render adds (``NOTE_TAG``)."""
    return [(c["cell_type"], "".join(c["source"]))
            for c in json.loads(path.read_text())["cells"]
            if NOTE_TAG not in c.get("metadata", {}).get("tags", [])]


def current(path: Path, copy: Path, profile: str) -> bool:
    """Whether ``copy`` is a render of ``path``'s cells in ``profile``."""
    return copy.exists() and source_cells(copy) == source_cells(path) and json.loads(
        copy.read_text())["metadata"].get("widenets", {}).get("profile") == profile


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*",
                        help="notebooks to render, by name prefix (default: every NN_*.ipynb)")
    parser.add_argument("--profile", default=None, choices=("quick", "standard", "paper"),
                        help="default: standard, or the notebook's entry in PROFILES")
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    parser.add_argument("--stale", action="store_true",
                        help="only notebooks whose copy is missing, has other cells or "
                             "another profile")
    parser.add_argument("--timeout", type=int, default=3600,
                        help="seconds one cell may run (default 3600)")
    args = parser.parse_args()
    paths = sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))
    if args.names:
        paths = [p for p in paths if any(p.name.startswith(n) for n in args.names)]
        if not paths:
            sys.exit(f"no notebook in {NOTEBOOKS_DIR} starts with {' or '.join(args.names)}; "
                     "give a prefix such as 02")
    for path in paths:
        profile = args.profile or PROFILES.get(path.stem, ("standard", ""))[0]
        if args.stale and current(path, args.out / path.name, profile):
            continue
        target, seconds = render(path, args.out, profile, args.timeout)
        size = target.stat().st_size / 1e6
        print(json.dumps({"notebook": path.name, "profile": profile,
                          "seconds": round(seconds, 1), "megabytes": round(size, 2)}),
              flush=True)


if __name__ == "__main__":
    main()
