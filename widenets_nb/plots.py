"""Shared figure pieces: the ``widenets`` template and ``scaling_figure`` for every
``Scaling`` (results in, ``plotly.graph_objects.Figure`` out, never ``.show()``).

All figures share the ``widenets`` template (registered on import): white background,
light grid, one colour cycle, hover text with the numbers. Every figure the suite shows
downloads from plotly's toolbar as an SVG of ``IMAGE_SIZE`` (``CONFIG``: set on import for
plotly's notebook renderers, and by ``widgets.figure_widget`` for FigureWidgets);
``save_figure`` writes the same SVG to a file and ``figure_csv`` the figure's data.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

from .cache import atomic_write
from .results import Scaling

#: Width and height (px) of a downloaded or saved figure: at 96 px per inch a 7.5 x 5 inch
#: full-width journal figure, whose 13 px template font prints at about 9 pt when the
#: figure is set 7 inches wide.
IMAGE_SIZE: tuple[int, int] = (720, 480)
#: plotly.js config of every figure shown: the toolbar's camera downloads an SVG of
#: ``IMAGE_SIZE`` (a vector file, so ``scale`` 1).
CONFIG: dict[str, Any] = {"toImageButtonOptions": {"format": "svg", "width": IMAGE_SIZE[0],
                                                  "height": IMAGE_SIZE[1], "scale": 1,
                                                  "filename": "widenets"},
                          "displaylogo": False}


def _configure_renderers() -> None:
    """``CONFIG`` for every plotly renderer that takes one (those drawing a go.Figure
    output in a notebook, a Voila page or a rendered document)."""
    for name in pio.renderers:
        renderer = pio.renderers[name]
        if hasattr(renderer, "config"):
            renderer.config = {**(renderer.config or {}), **CONFIG}


_configure_renderers()

COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b")

pio.templates["widenets"] = go.layout.Template(
    layout=go.Layout(
        template=pio.templates["plotly_white"],
        colorway=COLORS,
        font=dict(family="Helvetica, Arial, sans-serif", size=13),
        margin=dict(l=60, r=20, t=50, b=50),
        hoverlabel=dict(namelength=-1),
        legend=dict(bgcolor="rgba(255,255,255,0.6)"),
        xaxis=dict(exponentformat="power"),
        yaxis=dict(exponentformat="power"),
    )
)


def themed(fig: go.Figure, title: str, x_title: str, y_title: str, **layout) -> go.Figure:
    """Apply the shared template, the title and the axis labels."""
    fig.update_layout(template="widenets", title=title, xaxis_title=x_title,
                      yaxis_title=y_title, **layout)
    return fig


def scaling_figure(scalings: Sequence[Scaling] | Scaling, title: str, y_title: str = "|C|",
                   names: Sequence[str] | None = None,
                   guides: Mapping[str, float] | None = None) -> go.Figure:
    """|statistic| against width on log-log axes, one colour per ``Scaling``.

    Points carry one standard error; unresolved widths (|value| < 2 stderr) are open
    markers; the fitted power law is solid with ``format_slope`` in the legend; the
    predicted exponent (where the scaling has one) is dashed through the fit's value at the
    smallest width; ``guides`` ({label: slope}) are grey reference slopes through the first
    scaling's first point.
    """
    scalings = [scalings] if isinstance(scalings, Scaling) else list(scalings)
    names = list(names) if names is not None else [s.name for s in scalings]
    fig = go.Figure()
    for color, name, s in zip(COLORS * 4, names, scalings, strict=False):
        n = np.asarray(s.widths, dtype=float)
        values, stderr = np.abs(np.asarray(s.values)), np.asarray(s.stderr)
        mask = np.asarray(s.resolved, dtype=bool)
        for keep, symbol, suffix in ((mask, "circle", f": {s.label()}"),
                                     (~mask, "circle-open", " (unresolved)")):
            if keep.any():
                fig.add_trace(go.Scatter(
                    x=n[keep], y=values[keep], error_y=dict(type="data", array=stderr[keep]),
                    mode="markers", marker=dict(color=color, size=9, symbol=symbol),
                    name=name + suffix, legendgroup=name,
                    customdata=np.asarray(s.counts)[keep],
                    hovertemplate="n = %{x}<br>%{y:.4g}<br>%{customdata} samples<extra>"
                    + name + "</extra>"))
        if s.fitted:
            grid, curve = s.curve()
            fig.add_trace(go.Scatter(x=grid, y=curve, mode="lines", line=dict(color=color),
                                     name=f"{name} fit", legendgroup=name, showlegend=False,
                                     hoverinfo="skip"))
        if s.predicted is not None:
            grid = np.geomspace(n.min(), n.max(), 50)
            anchor = (np.exp(s.intercept) * grid[0] ** s.slope if s.fitted
                      else float(values[0]))
            fig.add_trace(go.Scatter(
                x=grid, y=anchor * (grid / grid[0]) ** s.predicted, mode="lines",
                line=dict(color=color, dash="dash"), legendgroup=name,
                name=f"{name}: predicted n^{s.predicted:+g}", hoverinfo="skip"))
    if guides and scalings:
        first = scalings[0]
        n = np.asarray(first.widths, dtype=float)
        anchor = float(np.abs(first.values[0]))
        for (label, slope), dash in zip(guides.items(), ("dot", "dashdot", "longdash"),
                                        strict=False):
            fig.add_trace(go.Scatter(x=n, y=anchor * (n / n[0]) ** slope, mode="lines",
                                     line=dict(color="gray", dash=dash), name=label,
                                     hoverinfo="skip"))
    fig = themed(fig, title, "width n", y_title)
    fig.update_xaxes(type="log")
    fig.update_yaxes(type="log", exponentformat="power")
    return fig


def figure_csv(fig: go.Figure) -> str:
    """The data of ``fig``'s traces as one tidy CSV table: a row per point, with columns
    ``trace`` (its index), ``name``, ``type``, ``xaxis``, ``yaxis`` (the subplot), ``point``,
    ``x``, ``y``, ``error_y`` (empty where a trace has none; a histogram's samples are its
    ``x``, a line's gaps empty cells).

    >>> print(figure_csv(go.Figure(go.Scatter(x=[1, 2], y=[3.5, None], name="a"))), end="")
    trace,name,type,xaxis,yaxis,point,x,y,error_y
    0,a,scatter,x,y,0,1,3.5,
    0,a,scatter,x,y,1,2,,
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["trace", "name", "type", "xaxis", "yaxis", "point", "x", "y", "error_y"])
    for index, trace in enumerate(fig.data):
        error = getattr(trace, "error_y", None)
        columns = [_cells(trace.x), _cells(trace.y),
                   _cells(error.array if error is not None else None)]
        for point in range(max(len(c) for c in columns)):
            writer.writerow([index, trace.name or "", trace.type,
                             getattr(trace, "xaxis", None) or "x",
                             getattr(trace, "yaxis", None) or "y", point,
                             *(c[point] if point < len(c) else "" for c in columns)])
    return out.getvalue()


def _cells(values: object) -> list:
    """A trace's array as CSV cells (None and NaN empty)."""
    if values is None:
        return []
    return ["" if v is None or (isinstance(v, float) and np.isnan(v)) else v
            for v in np.asarray(values, dtype=object).ravel().tolist()]


def save_figure(fig: go.Figure, stem: Path) -> tuple[tuple[Path, ...], str]:
    """Write ``fig`` as ``<stem>.plotly.json`` (``plotly.io.read_json`` reads it back) and
    as an SVG of ``IMAGE_SIZE``, which needs kaleido and a Chrome or Chromium; without them
    a self-contained ``<stem>.html`` (interactive, with its toolbar's SVG download) is
    written instead. Returns the paths written and an empty note, or why there is no SVG.
    """
    stem = Path(stem)
    written = [atomic_write(stem.with_name(stem.name + ".plotly.json"),
                            lambda fh: fh.write(fig.to_json()), binary=False)]
    try:
        image = fig.to_image(format="svg", width=IMAGE_SIZE[0], height=IMAGE_SIZE[1], scale=1)
        written.append(atomic_write(stem.with_suffix(".svg"), lambda fh: fh.write(image)))
        return tuple(written), ""
    except Exception as err:  # noqa: BLE001 -- kaleido missing, no browser, a crash: all one
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    page = fig.to_html(include_plotlyjs=True, full_html=True, config=CONFIG)
    written.append(atomic_write(stem.with_suffix(".html"), lambda fh: fh.write(page),
                                binary=False))
    return tuple(written), (f"no SVG ({reason}; install kaleido and Chromium for one): "
                            f"the figure is saved as {written[-1].name}")
