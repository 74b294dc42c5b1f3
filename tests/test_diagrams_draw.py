"""Drawings, the Conjecture 1 comparison, the notebook panel, and exact vs the estimator."""

from fractions import Fraction

import numpy as np
import pytest

from widenets_nb.correlators import NAMED, parse
from widenets_nb.diagrams import leading_diagrams
from widenets_nb.diagrams.experiments import exact_vs_monte_carlo, tightness
from widenets_nb.diagrams.figures import (
    counts_figure,
    diagram_figure,
    double_line_figure,
    feynman_figure,
    lemma2_figure,
)
from widenets_nb.diagrams.panel import diagram_panel, polynomial_text


def _lines(fig):
    return [t for t in fig.data if t.mode == "lines" and t.x[0] is not None]


def test_feynman_drawing_has_an_edge_per_pair_and_dashes_the_forced_ones():
    c = parse(NAMED["table1.row5"])
    (g,), _ = leading_diagrams(c, 3, limit=1)
    fig = feynman_figure(g, [f.text for f in c.factors])
    edges = _lines(fig)
    assert len(edges) == (3 + 1) * c.m // 2  # one edge per tensor pair and layer type
    assert sum(t.line.dash == "dash" for t in edges) == len(g.forced) == 3
    assert {t.name for t in fig.data if t.showlegend is not False} >= {"U", "W1", "W2", "V"}


def test_double_line_drawing_has_a_curve_per_delta_coloured_by_loop():
    c = parse("f1 f2 f3 f4")
    diagrams, _ = leading_diagrams(c, 3, limit=8)
    for g in diagrams:
        fig = double_line_figure(g)
        curves = [t for t in _lines(fig) if t.line.dash != "dot"]
        # U and V edges are single lines, W edges double: (1 + 2 (d-1) + 1) m/2 deltas
        assert len(curves) == 2 * 3 * c.m // 2
        assert len({t.line.color for t in curves}) == min(g.loops, 10)
    both = diagram_figure(diagrams[0])
    assert len(both.data) == len(feynman_figure(diagrams[0]).data) + len(
        double_line_figure(diagrams[0]).data)


def test_counts_and_lemma2_figures():
    fig = counts_figure({0: 3, -1: 12, -2: 12}, "t")
    assert list(fig.data[0].y) == [3, 12, 12]
    fig = lemma2_figure([0, -1, -1], [0, 0, -1], [2, 1, 1], "t")
    assert sum(len(t.x) for t in fig.data[:-1]) == 3  # (0,0), (0,-1), (-1,-1)


def test_polynomial_text():
    assert polynomial_text({0: 3, -1: 12, -2: Fraction(1, 2)}) == "3 +12/n +0.5/n^2"
    assert polynomial_text({}) == "0"


def test_tightness_explains_the_starred_row():
    t = tightness(NAMED["table1.row5"], 2)
    assert (t.conjecture, t.lemma2, t.tight) == (-1, -1, -2) and not t.is_tight
    assert t.leading_surfaces == {"Moebius band": 6}
    t = tightness(NAMED["table1.row4"], 2)
    assert t.is_tight and t.leading_surfaces == {"disc": 8}
    assert tightness(NAMED["table1.row6"], 3, max_diagrams=100).lemma2 is None


def test_diagram_panel_steps_and_reports_errors():
    panel = diagram_panel("table1.row5", 2)
    assert "diagram 1 of 6" in panel.status.value
    assert panel.controls["number"].max == 6
    panel.controls["number"].value = 4
    assert "diagram 4 of 6" in panel.status.value
    c = parse(NAMED["table1.row5"])
    g = leading_diagrams(c, 2, limit=6)[0][3]
    expected = diagram_figure(g, [f.text for f in c.factors])
    assert len(panel.figure.data) == len(expected.data)  # the old traces are gone
    assert panel.figure.layout.title.text == expected.layout.title.text
    panel.controls["spec"].value = "f1 f2 f3"
    assert "vanishes identically" in panel.status.value
    panel.controls["spec"].value = "f1 f2 f3 f4"
    assert panel.controls["number"].max == 27


@pytest.mark.parametrize("spec,depth", [("f1_a f2_b f3_ab f4", 2)])
def test_exact_agrees_with_the_correlator_estimator(spec, depth):
    r = exact_vs_monte_carlo(spec, depth, (2,), 2000, seed=4)
    assert np.all(np.abs(r.z_scores) < 4), r.z_scores
    assert np.all(r.stderr < 0.25 * np.abs(r.exact))
