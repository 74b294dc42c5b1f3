"""Figs. 9-10 figure builders, fed the committed standard results (real values)."""

import numpy as np
import pytest

from widenets_nb.spectra import Fig9, Fig10, figures


@pytest.fixture(scope="module")
def fig9():
    return Fig9.load("standard")


@pytest.fixture(scope="module")
def fig10():
    return Fig10.load("standard")


def _points(fig, name):
    """x, y of the marker traces whose legend name starts with ``name``."""
    traces = [t for t in fig.data if t.mode == "markers" and t.name.startswith(name)]
    x = np.concatenate([t.x for t in traces])
    y = np.concatenate([t.y for t in traces])
    order = np.argsort(x)
    return x[order], y[order]


@pytest.mark.parametrize("builder,select,y_title", [
    (figures.fig9a, lambda f9, f10: f9.gaps[:2], "eigenvalue gap"),
    (figures.fig10a, lambda f9, f10: f10.moment_widths, "Tr Hᵐ"),
    (figures.fig10b, lambda f9, f10: f10.rms, "sqrt(Tr B² / P)"),
])
def test_width_views_draw_every_scaling_with_its_fit(fig9, fig10, builder, select, y_title):
    scalings = select(fig9, fig10)
    fig = builder(scalings, "title")
    assert y_title in fig.layout.yaxis.title.text and fig.layout.xaxis.type == "log"
    names = " ".join(t.name for t in fig.data)
    for s in scalings:
        x, y = _points(fig, s.name)
        np.testing.assert_array_equal(x, s.widths)
        np.testing.assert_allclose(y, np.abs(s.values))
        if s.fitted:
            assert s.label() in names
        if s.predicted is not None:
            assert f"predicted n^{s.predicted:+g}" in names


def test_fig9a_has_the_committed_slopes(fig9):
    fig = figures.fig9a(fig9.gaps, "Fig. 9a")
    names = [t.name for t in fig.data]
    drawn = [g for g in fig9.gaps if g.widths]
    assert drawn and all(f"{g.name}: {g.label()}" in names for g in drawn)


def test_top_eigenvalues_shows_theta_and_h_with_residual_bounds(fig9):
    """Theta as circles; H split into paired, B's cluster and unresolved, each point with
    its residual bound as error bar."""
    c = fig9.top.comparison
    k = len(c.hessian)
    fig = figures.top_eigenvalues(c, "Fig. 9b")
    theta, *hessian = fig.data
    np.testing.assert_array_equal(theta.y, c.theta[:k])
    x = np.concatenate([t.x for t in hessian])
    order = np.argsort(x)
    np.testing.assert_array_equal(x[order], np.arange(1, k + 1))
    np.testing.assert_array_equal(np.concatenate([t.y for t in hessian])[order], c.hessian)
    np.testing.assert_array_equal(
        np.concatenate([t.error_y.array for t in hessian])[order], c.bounds)
    paired = next(t for t in hessian if t.name == "H, paired with Θ")
    np.testing.assert_array_equal(paired.x, np.flatnonzero(c.paired) + 1)
    assert any(t.name == "H, unresolved" for t in hessian) == (not np.all(c.resolved))


def test_moment_gaps_bars_are_absolute_relative_gaps(fig10):
    gaps = fig10.moments_by_name
    fig = figures.moment_gaps(gaps, "Fig. 10a")
    assert [t.name for t in fig.data] == list(gaps)
    for bar, g in zip(fig.data, gaps.values(), strict=True):
        np.testing.assert_allclose(bar.y, np.abs(g.relative))
        np.testing.assert_allclose(bar.error_y.array, g.relative_se)
    assert fig.data[0].y[1] == pytest.approx(12.3, rel=0.01)  # m = 2 at init: Tr B^2


def test_density_draws_the_density_and_a_rug_of_theta(fig10):
    init, trained = fig10.densities["init"], fig10.densities["trained"]
    fig = figures.density(fig10.densities, "density")
    assert len(fig.data) == 4
    np.testing.assert_array_equal(fig.data[0].x, init.grid)
    np.testing.assert_allclose(fig.data[0].y, np.maximum(init.density, 1e-12))
    np.testing.assert_array_equal(fig.data[3].x, trained.theta)
    assert fig.data[1].y[0] > fig.data[3].y[0]  # the two rugs sit at different heights
