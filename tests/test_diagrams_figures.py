"""Drawings of diagrams and the section's figures, with the values they hold."""

import numpy as np
import pytest

from widenets_nb.correlators import NAMED, parse
from widenets_nb.correlators.estimate import default_inputs
from widenets_nb.diagrams import (
    ExactVsMonteCarlo,
    exact_correlator,
    leading_diagrams,
    lemma2_census,
    polynomial_text,
)
from widenets_nb.diagrams.figures import (
    counts_figure,
    diagram_figure,
    double_line_figure,
    exact_vs_monte_carlo_figure,
    feynman_figure,
    lemma2_figure,
)
from widenets_nb.results import scaling


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
    vertices = fig.data[-1]
    assert list(vertices.text) == [f.text for f in c.factors]
    np.testing.assert_allclose(np.hypot(vertices.x, vertices.y), 1.0)  # on the unit circle


def test_double_line_drawing_has_a_curve_per_delta_coloured_by_loop():
    c = parse("f1 f2 f3 f4")
    diagrams, _ = leading_diagrams(c, 3, limit=8)
    for g in diagrams:
        fig = double_line_figure(g)
        curves = [t for t in _lines(fig) if t.line.dash != "dot"]
        # U and V edges are single lines, W edges double: (1 + 2 (d-1) + 1) m/2 deltas
        assert len(curves) == 2 * 3 * c.m // 2
        assert len({t.line.color for t in curves}) == min(g.loops, 10)
        assert fig.layout.title.text.startswith(f"n^{g.exponent}: {g.loops} loops")
    both = diagram_figure(diagrams[0])
    assert len(both.data) == len(feynman_figure(diagrams[0]).data) + len(
        double_line_figure(diagrams[0]).data)


def test_counts_figure_has_a_bar_per_power():
    # d = 1: E[f1 f2 f3 f4] = (1 + 2/n) x (three pairings): 3 diagrams at n^0, 6 at n^-1
    fig = counts_figure(exact_correlator("f1 f2 f3 f4", 1))
    assert list(fig.data[0].x) == ["n^0", "n^-1"] and list(fig.data[0].y) == [3, 6]
    assert fig.layout.title.text == "f1 f2 f3 f4, d = 1: diagrams at each power of n"


def test_lemma2_figure_puts_every_diagram_on_or_below_the_diagonal():
    census = lemma2_census("table1.row5", 2)
    fig = lemma2_figure(census)
    bubbles, diagonal = fig.data[:-1], fig.data[-1]
    counts = [int(t.split()[0]) for b in bubbles for t in b.text]
    assert sum(counts) == len(census.exponents) == exact_correlator("table1.row5", 2).n_diagrams
    assert all(y <= x for b in bubbles for x, y in zip(b.x, b.y, strict=True))
    # row 5: no disc, so every diagram sits strictly below the diagonal (Moebius bands)
    assert all(y < x for b in bubbles for x, y in zip(b.x, b.y, strict=True))
    assert {b.name for b in bubbles} == {f"chi = {chi}" for chi in set(census.eulers)}
    assert diagonal.x[0] == diagonal.y[0] and diagonal.x[1] == diagonal.y[1]


@pytest.fixture(scope="module")
def monte_carlo():
    """An ``ExactVsMonteCarlo`` whose "Monte Carlo" samples scatter around the exact
    values (the estimator itself is tested in test_diagrams_experiments.py)."""
    exact = exact_correlator("f1_a f2_b f3_ab f4", 2)
    xs = default_inputs(4, 4, 0)
    coefficients = {p: float(v) for p, v in exact.coefficients(xs.tolist()).items()}
    widths = (2, 4)
    rng = np.random.default_rng(0)
    values = [sum(c * n**p for p, c in coefficients.items()) for n in widths]
    samples = [v + rng.normal(0, abs(v), 2000) for v in values]
    return ExactVsMonteCarlo(exact.spec, 2, False, xs, coefficients,
                             scaling(exact.spec, widths, samples, predicted=-1))


def test_exact_vs_monte_carlo_figure_draws_the_polynomial_and_the_estimates(monte_carlo):
    r = monte_carlo
    fig = exact_vs_monte_carlo_figure(r, points=50)
    exact, leading, mc = fig.data
    np.testing.assert_allclose(exact.y, r.curve(exact.x))
    assert exact.x[0] == 2 and exact.x[-1] == pytest.approx(4)
    top = max(r.coefficients)
    np.testing.assert_allclose(leading.y, r.coefficients[top] * np.asarray(leading.x) ** top)
    np.testing.assert_allclose(mc.y, r.values)
    np.testing.assert_allclose(mc.error_y.array, 2 * r.stderr)
    assert list(mc.customdata) == [2000, 2000]
    assert polynomial_text(r.coefficients, 4) in fig.layout.title.text
