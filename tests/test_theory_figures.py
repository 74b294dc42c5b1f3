"""Notebook 06's figure builders on hand-made results (nothing sampled)."""

import numpy as np
import pytest

from widenets_nb.theory import figures
from widenets_nb.theory.experiments import (
    CoefficientProtocol,
    Comparison,
    DepthWidth,
    DepthWidthProtocol,
    fit_coefficient,
)

WIDTHS = (8, 16, 32)
E_INF, C1 = 0.1, 0.16
VALUES = (0.121, 0.111, 0.1052)
STDERR = (0.001, 0.0008, 0.0005)


def _comparison() -> Comparison:
    p = CoefficientProtocol("four_point", "tanh", 2, widths=WIDTHS, inits=2000)
    n = np.array(WIDTHS, dtype=float)
    fit = fit_coefficient(n, n * (np.array(VALUES) - E_INF), n * np.array(STDERR))
    return Comparison(p, E_INF, C1, VALUES, STDERR, (2000,) * 3, fit, "conditional")


def _trace(fig, prefix):
    found = [t for t in fig.data if t.name.startswith(prefix)]
    assert len(found) == 1, [t.name for t in fig.data]
    return found[0]


def test_value_figure_points_limit_and_first_order_curve():
    c = _comparison()
    fig = figures.value_figure(c)
    points = _trace(fig, figures.MEASURED)
    assert list(points.x) == list(WIDTHS) and list(points.y) == list(VALUES)
    assert list(points.error_y.array) == list(STDERR)
    assert np.all(np.asarray(_trace(fig, figures.INFINITE).y) == E_INF)
    curve = _trace(fig, figures.FIRST_ORDER)
    np.testing.assert_allclose(curve.y, E_INF + C1 / np.asarray(curve.x), rtol=1e-12)
    assert fig.layout.xaxis.type == "log"
    assert "f1 f2 f3 f4 (four_point, tanh, depth 2)" in fig.layout.title.text
    assert f"z = {c.z:+.1f} SE" in fig.layout.title.text


def test_residual_figure_against_predicted_coefficient():
    c = _comparison()
    fig = figures.residual_figure(c)
    points = _trace(fig, "n (E_MC - E_inf)")
    n = np.array(WIDTHS, dtype=float)
    np.testing.assert_allclose(points.y, n * (np.array(VALUES) - E_INF), rtol=1e-12)
    np.testing.assert_allclose(points.error_y.array, n * np.array(STDERR), rtol=1e-12)
    assert f"c_1 = {c.fit.c1:+.4g} ± {c.fit.c1_se:.2g}" in points.name
    assert np.all(np.asarray(_trace(fig, figures.PREDICTED).y) == C1)
    fitted = _trace(fig, figures.FITTED)
    np.testing.assert_allclose(fitted.y, c.fit.c1 + c.fit.c2 / np.asarray(fitted.x))


def test_comparison_figure_has_both_panels():
    fig = figures.comparison_figure(_comparison())
    assert len(fig.data) == 6
    assert {t.xaxis for t in fig.data} == {"x", "x2"}
    assert fig.layout.xaxis.type == fig.layout.xaxis2.type == "log"


def test_depth_width_figure():
    p = DepthWidthProtocol(32, (1, 4, 16, 32), 1000)
    r = DepthWidth(p, (1.1, 1.4, 8.0, 25.0), (0.01, 0.05, 1.0, 5.0), 3.0, 0.1, 0.1, 3.4,
                   0.2, 0.05)
    assert r.failure_beta == pytest.approx(0.5)  # 8.0 vs 1 + 3 * 0.5: > 3 SE
    fig = figures.depth_width_figure(r)
    points = _trace(fig, figures.MEASURED)
    assert list(points.x) == [1 / 32, 4 / 32, 16 / 32, 1.0] and list(points.y) == list(r.ratio)
    hn = _trace(fig, figures.EXPONENTIAL)
    np.testing.assert_allclose(hn.y, np.exp(5 * np.asarray(hn.x)))
    line = _trace(fig, figures.LINEAR)
    np.testing.assert_allclose(line.y, 1 + 3.0 * np.asarray(line.x))
    assert "fitted, β ≤ 0.1" in line.name
    rate = _trace(fig, "fit exp(a + κ β)")
    np.testing.assert_allclose(rate.y, np.exp(0.05 + 3.4 * np.asarray(rate.x)))
    assert fig.layout.shapes[0].x0 == pytest.approx(0.5)
    assert fig.layout.xaxis.type == fig.layout.yaxis.type == "log"
    unfitted = DepthWidth(p, r.ratio, r.ratio_se, None, None, 0.01, None, None, None)
    names = [t.name for t in figures.depth_width_figure(unfitted).data]
    assert len(names) == 2


def test_depth_width_figure_with_the_recursions_first_order():
    p = DepthWidthProtocol(32, (1, 4, 16, 32), 1000)
    r = DepthWidth(p, (1.1, 1.4, 8.0, 25.0), (0.01, 0.05, 1.0, 5.0), 3.0, 0.1, 0.1, 3.4,
                   0.2, 0.05, (1, 2, 4, 16, 32), (1.1, 1.2, 1.42, 2.5, 4.0))
    assert r.reference() == (1.1, 1.42, 2.5, 4.0)  # the recursions', at the measured depths
    assert r.failure_beta == pytest.approx(0.5)  # |8.0 - 2.5| > 3 * 1.0; 1.4 vs 1.42 is not
    fig = figures.depth_width_figure(r)
    theory = _trace(fig, figures.THEORY)
    assert list(theory.x) == [1 / 32, 2 / 32, 4 / 32, 0.5, 1.0]
    assert list(theory.y) == [1.1, 1.2, 1.42, 2.5, 4.0]
    assert "first order (recursions) first fails" in fig.layout.title.text
