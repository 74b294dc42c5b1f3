"""Panel exports headlessly: the JSON and CSV equal the result on screen (values, fit,
controls, seed, version), the figure's data and plotly JSON equal the figure, the SVG is a
real SVG of the publication size, and every figure shown downloads as that SVG."""

import base64
import csv
import dataclasses
import html
import importlib.util
import json
import os
import shutil
import threading
import xml.etree.ElementTree as ET

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from widenets_nb import __version__, config, plots, results
from widenets_nb.correlators import experiments, panel
from widenets_nb.prior.experiments import PriorProtocol
from widenets_nb.prior.panel import init_distribution_panel
from widenets_nb.widgets import Panel, Update

PROTOCOL = experiments.ScalingProtocol("f1_a f2_a", (4, 8, 16), 20, seed=3, depth=1)
TIMEOUT = 10.0


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "CACHE_DIR", tmp_path / "cache")
    return tmp_path / "cache"


@pytest.fixture
def no_kaleido(monkeypatch):
    """Static image export unavailable, as on a machine without kaleido or Chromium."""

    def unavailable(*args, **kwargs):
        raise ValueError("Image export using the \"kaleido\" engine requires kaleido")

    monkeypatch.setattr(go.Figure, "to_image", unavailable)


def _rows(path):
    """The CSV rows of ``path`` as dicts, the ``#`` metadata lines apart."""
    lines = path.read_text().splitlines()
    meta = [line for line in lines if line.startswith("#")]
    return meta, list(csv.DictReader(line for line in lines if not line.startswith("#")))


def _cell(value):
    return "" if value is None else str(value)


def test_a_correlator_panel_exports_its_scaling_controls_and_figure(
        cache_dir, tmp_path, no_kaleido):
    p = panel.correlator_panel(PROTOCOL, max_inits=100)
    folder = p.export(tmp_path / "out")
    assert folder.parent == tmp_path / "out" and folder.name.startswith("correlator-")
    names = sorted(f.name for f in folder.iterdir())
    assert names == ["correlator-figure.csv", "correlator-scalings.csv", "correlator.html",
                     "correlator.json", "correlator.plotly.json"]
    assert str(folder.resolve()) in p.export_status.value and "no SVG" in p.export_status.value

    # the JSON is a Report with the scaling measured independently by the experiment
    s = experiments.correlator_scaling(PROTOCOL)
    report = results.Report.from_json(json.loads((folder / "correlator.json").read_text()))
    assert report.scalings == (s,) and report.target == "correlator"
    assert report.provenance.version == __version__
    assert report.provenance.profile == config.profile() and report.provenance.wall_time_s >= 0
    controls = report.protocol["controls"]
    assert controls == {"spec": "f1_a f2_a", "activation": PROTOCOL.activation, "depth": 1,
                        "init": "gaussian", "log2_widths": [2, 4], "inits": 20}
    assert report.protocol["seed"] == 3 and report.protocol["complete"] is True
    assert report.protocol["protocol"] == json.loads(json.dumps(dataclasses.asdict(PROTOCOL)))
    theory = experiments.theory_prediction(PROTOCOL.spec, PROTOCOL.activation, PROTOCOL.depth)
    assert report.data["status"] == f"{s.summary()}; {theory.summary()}"

    # the CSV: a row per width with the values and the fit, metadata in '#' lines
    meta, rows = _rows(folder / "correlator-scalings.csv")
    assert meta[0] == f"# widenets {__version__}: correlator"
    assert json.loads(meta[2].removeprefix("# protocol: "))["seed"] == 3
    assert [int(r["width"]) for r in rows] == list(s.widths)
    assert [float(r["value"]) for r in rows] == list(s.values)  # repr round trips exactly
    assert [float(r["stderr"]) for r in rows] == list(s.stderr)
    assert [int(r["n_samples"]) for r in rows] == [20, 20, 20]
    assert [r["resolved"] == "True" for r in rows] == list(s.resolved)
    assert {(r["slope"], r["slope_ci_low"], r["slope_ci_high"], r["method"]) for r in rows} == {
        (_cell(s.slope), _cell(s.slope_ci and s.slope_ci[0]),
         _cell(s.slope_ci and s.slope_ci[1]), s.method)}

    # the figure: its traces point by point, and the plotly JSON read back
    shown = p.figure
    _, points = _rows(folder / "correlator-figure.csv")
    first = [r for r in points if r["trace"] == "0"]
    assert [float(r["x"]) for r in first] == list(np.asarray(shown.data[0].x, float))
    assert [float(r["y"]) for r in first] == list(np.asarray(shown.data[0].y, float))
    assert [float(r["error_y"]) for r in first] == list(np.asarray(shown.data[0].error_y.array))
    assert len({r["trace"] for r in points}) == len(shown.data)
    back = json.loads((folder / "correlator.plotly.json").read_text())  # plotly.js format
    assert len(back["data"]) == len(shown.data)
    y = back["data"][0]["y"]  # a typed array: base64 of the float64 values
    np.testing.assert_array_equal(np.frombuffer(base64.b64decode(y["bdata"]), y["dtype"]),
                                  shown.data[0].y)
    assert pio.read_json(folder / "correlator.plotly.json").layout.title.text == (
        shown.layout.title.text)
    assert "<html" in (folder / "correlator.html").read_text()[:200].lower()


def test_a_panel_without_a_result_object_exports_its_figure_data(tmp_path, no_kaleido):
    tiny = PriorProtocol(inits=300)
    p = init_distribution_panel(tiny)
    p.export_dir.value = str(tmp_path)
    p.export_button.click()
    (folder,) = tmp_path.iterdir()
    assert folder.name.startswith("init_distribution-")
    assert not (folder / "init_distribution-scalings.csv").exists()
    report = results.Report.from_json(json.loads(
        (folder / "init_distribution.json").read_text()))
    assert report.scalings == () and report.protocol["seed"] == tiny.seed
    assert report.protocol["controls"] == p.values()
    _, rows = _rows(folder / "init_distribution-figure.csv")
    samples = [float(r["x"]) for r in rows if r["trace"] == "0"]
    assert samples == list(np.asarray(p.figure.data[0].x, float)) and len(samples) == 300


def _synthetic(total: int, gate: threading.Event, reached: threading.Event):
    """A stream of ``total`` widths whose updates carry the ``Scaling`` so far; after the
    first it sets ``reached`` and waits for ``gate``."""
    widths = tuple(2**k for k in range(3, 3 + total))
    rng = np.random.default_rng(0)
    samples = [1 / n + rng.normal(0, 0.01 / n, 50) for n in widths]
    for k in range(1, total + 1):
        s = results.scaling("E[f]", widths[:k], samples[:k], labels={"width_count": k})
        yield Update(plots.scaling_figure(s, "t"), s.summary(), k, total, result=s)
        if k == 1:
            reached.set()
            assert gate.wait(TIMEOUT)


@dataclasses.dataclass(frozen=True)
class _Protocol:
    seed: int
    inits: int


def test_a_stopped_run_exports_what_it_finished_marked_partial(tmp_path, no_kaleido):
    gate, reached = threading.Event(), threading.Event()
    gate.set()

    def sweep_panel():
        def compute(total: int):
            return _synthetic(total, gate, reached)

        return Panel({"total": W.IntSlider(value=3, min=1, max=9)}, compute, "c",
                     auto=False, protocol=_Protocol(seed=7, inits=50))

    p = sweep_panel()
    assert p.name == "sweep"  # from the function that built the compute
    gate.clear()
    reached.clear()
    p.controls["total"].value = 4
    p.button.click()
    assert reached.wait(TIMEOUT)  # the first width is drawn, the Run waits in the second
    p.stop_button.click()  # the second width finishes, the Run ends after it
    gate.set()
    assert p.wait(TIMEOUT) and "stopped after" in p.status.value
    report = results.Report.from_json(json.loads(
        (p.export(tmp_path) / "sweep.json").read_text()))
    assert report.protocol["complete"] is False and report.protocol["controls"] == {"total": 4}
    assert report.protocol["protocol"] == {"seed": 7, "inits": 50}
    assert report.protocol["seed"] == 7
    (scaling,) = report.scalings
    assert scaling.widths == (8, 16) and scaling.labels == {"width_count": "2"}
    assert "partial" in p.export_status.value


def test_exporting_before_any_result_is_one_line(tmp_path):
    p = init_distribution_panel(PriorProtocol(inits=300, input_dim=0))
    p.export_dir.value = str(tmp_path)
    p.export_button.click()
    assert "nothing to export yet: press Run first." in p.export_status.value
    assert "color:#b00" in p.export_status.value and list(tmp_path.iterdir()) == []


def test_every_figure_shown_downloads_as_a_publication_svg(cache_dir):
    p = panel.correlator_panel(PROTOCOL, max_inits=100)
    options = {"format": "svg", "width": plots.IMAGE_SIZE[0], "height": plots.IMAGE_SIZE[1],
               "scale": 1, "filename": "correlator"}
    # the FigureWidget drawn at build time, in the synced state its front end starts from
    assert p.figure.get_state()["_config"]["toImageButtonOptions"] == options
    graph = p.children[2]  # the correlator's cluster graph
    assert graph.get_state()["_config"]["toImageButtonOptions"]["format"] == "svg"
    # a go.Figure shown as a notebook output carries the same config in its mime bundle
    bundle = pio.renderers["plotly_mimetype"].to_mimebundle(go.Figure().to_dict())
    assert bundle["application/vnd.plotly.v1+json"]["config"]["toImageButtonOptions"][
        "width"] == plots.IMAGE_SIZE[0]


def _image_export_unavailable() -> str:
    """Why kaleido cannot draw here ('' when it can)."""
    if importlib.util.find_spec("kaleido") is None:
        return "kaleido is not installed (pip install kaleido)"
    if not (os.environ.get("BROWSER_PATH") or any(
            shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome"))):
        return "no Chromium or Chrome for kaleido (apt-get install chromium)"
    return ""


def test_the_exported_figure_is_an_svg_of_the_publication_size(tmp_path):
    reason = _image_export_unavailable()
    if reason:
        if os.environ.get("WIDENETS_REQUIRE_BROWSER", "0").strip() in ("1", "true", "yes"):
            pytest.fail(f"{reason} (required: WIDENETS_REQUIRE_BROWSER=1)", pytrace=False)
        pytest.skip(f"SVG export not tested: {reason}")
    fig = plots.scaling_figure(results.scaling(
        "E[f]", (8, 16, 32), [[1.0, 1.2, 0.8], [0.5, 0.6, 0.4], [0.2, 0.3, 0.25]]), "demo")
    written, note = plots.save_figure(fig, tmp_path / "demo")
    assert note == "" and [p.name for p in written] == ["demo.plotly.json", "demo.svg"]
    root = ET.parse(tmp_path / "demo.svg").getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert (root.get("width"), root.get("height")) == tuple(map(str, plots.IMAGE_SIZE))
    text = " ".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
    assert "demo" in text and "width n" in text  # the title and axis drawn, not a blank


def test_figure_csv_has_a_row_per_point_of_every_trace():
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=2)
    fig.add_trace(go.Scatter(x=[1, 2, None, 4], y=[0.5, 0.25, None, 0.125], name="line",
                             error_y=dict(type="data", array=[0.1, 0.2, 0.0, 0.3])), 1, 1)
    fig.add_trace(go.Bar(x=["a", "b"], y=[3, 4], name="bars"), 1, 2)
    fig.add_trace(go.Histogram(x=np.array([0.5, -1.5, 2.0]), name="h"))
    rows = list(csv.DictReader(plots.figure_csv(fig).splitlines()))
    assert [(r["trace"], r["name"], r["type"], r["xaxis"], r["yaxis"]) for r in rows] == (
        [("0", "line", "scatter", "x", "y")] * 4 + [("1", "bars", "bar", "x2", "y2")] * 2
        + [("2", "h", "histogram", "x", "y")] * 3)
    assert [(r["x"], r["y"], r["error_y"]) for r in rows[:4]] == [
        ("1", "0.5", "0.1"), ("2", "0.25", "0.2"), ("", "", "0.0"), ("4", "0.125", "0.3")]
    assert [(r["x"], r["y"]) for r in rows[4:6]] == [("a", "3"), ("b", "4")]
    assert [(r["x"], r["y"], r["point"]) for r in rows[6:]] == [
        ("0.5", "", "0"), ("-1.5", "", "1"), ("2.0", "", "2")]


def test_a_panel_is_named_after_the_function_that_built_it():
    def drift_panel():
        def compute(total: int):
            return go.Figure(), "ok"

        return Panel({"total": W.IntSlider(value=1)}, compute, "c")

    assert drift_panel().name == "drift"
    assert Panel({"total": W.IntSlider(value=1)}, lambda total: (go.Figure(), ""), "c",
                 name="My panel!").name == "mypanel"


def test_a_wrong_result_object_is_one_line_and_two_exports_get_two_folders(tmp_path,
                                                                           no_kaleido):
    slider = W.IntSlider(value=1)
    p = Panel({"total": slider}, lambda total: (go.Figure(), "ok", {"slope": 1}), "c",
              name="odd")
    p.export_dir.value = str(tmp_path)
    p.export_button.click()
    assert html.unescape(p.export_status.value) == (
        "<span style='color:#b00'>TypeError: odd: a panel's result object must be a "
        "Report, a Scaling or a sequence of Scalings, not dict.</span>")
    fine = Panel({"total": slider}, lambda total: (go.Figure(), "ok"), "c", name="fine")
    first, second = fine.export(tmp_path), fine.export(tmp_path)
    assert first != second and {first.parent, second.parent} == {tmp_path}
    assert (second / "fine.json").exists() and (first / "fine.json").exists()


def test_section_panels_export_their_scalings_or_their_figure(tmp_path, cache_dir,
                                                              no_kaleido):
    from widenets_nb.corrections import experiments as corrections
    from widenets_nb.corrections.panel import error_panel
    from widenets_nb.diagrams.panel import diagram_panel
    from widenets_nb.training import experiments as training
    from widenets_nb.training.panel import limit_panel

    sweep = corrections.Fig11.from_report(results.load("fig11", "standard"))
    p = error_panel(sweep)
    report = results.Report.from_json(json.loads((p.export(tmp_path) / "error.json")
                                                 .read_text()))
    activation = p.controls["activation"].value
    assert report.scalings == sweep.view(activation, "theta")
    assert report.protocol["controls"] == {"activation": activation, "quantity": "theta"}
    assert report.protocol["protocol"]["inits"] == sweep.protocol.inits

    limit = training.LimitProtocol(activations=("erf",), widths=(4, 8), inits=64,
                                   samples_per_class=2)
    p = limit_panel(limit)  # a stream: the last update's Scalings are exported
    report = results.Report.from_json(json.loads((p.export(tmp_path) / "limit.json")
                                                 .read_text()))
    assert report.scalings == training.infinite_width_limit(limit, progress=False).fits
    assert report.protocol["seed"] == limit.seed and report.protocol["complete"] is True

    p = diagram_panel("table1.row5", 2)  # exact: no result object, no protocol, no seed
    folder = p.export(tmp_path)
    report = results.Report.from_json(json.loads((folder / "diagram.json").read_text()))
    assert report.scalings == () and report.protocol["seed"] is None
    assert report.protocol["controls"] == {"spec": "table1.row5", "depth": 2, "bias": False,
                                           "number": 1}
    assert (folder / "diagram-figure.csv").read_text().count("\n") == 1 + sum(
        len(t.x) for t in p.figure.data)
