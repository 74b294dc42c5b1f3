"""Sec. 1 (notebook 00): f(x) at initialization, its figure and its panel."""

import dataclasses

import jax
import numpy as np
import pytest

from widenets_nb.nets import Network, outputs_at_init
from widenets_nb.prior import (
    PriorProtocol,
    default_input,
    init_distribution,
    kurtosis_table,
    one_layer_kurtosis,
)
from widenets_nb.prior.figures import init_histogram
from widenets_nb.prior.panel import init_distribution_panel

# One hidden ReLU layer: E[f^2] = E[relu(z)^2] = K(x, x) at every width, and the excess
# kurtosis is exactly 15/n (``one_layer_kurtosis``).
TABLE = PriorProtocol(inits=4000, widths=(4, 64), seed=2)
TINY = PriorProtocol(inits=300)


@pytest.fixture(scope="module", autouse=True)
def _cache(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("widenets_nb.config.CACHE_DIR", tmp_path_factory.mktemp("cache"))
        yield


@pytest.fixture(scope="module")
def table():
    return kurtosis_table(TABLE)


def test_protocols_differ_by_profile_in_inits_only():
    quick, standard, paper = (PriorProtocol.for_profile(p)
                              for p in ("quick", "standard", "paper"))
    assert (quick.inits, standard.inits, paper.inits) == (1000, 4000, 20000)
    assert dataclasses.replace(paper, inits=1000) == quick


def test_variance_matches_the_nngp_at_every_width(table):
    x = default_input(4)
    for r in table.rows:
        assert r.nngp_variance == pytest.approx(float(x @ x) / 4 / 2)  # E[relu(z)^2] = q/2
        assert abs(r.z_score) < 4  # a standard normal draw
        assert r.samples.shape == (4000,)
    assert [r.width for r in table.rows] == [4, 64]


def test_each_width_draws_from_its_own_folded_stream_and_is_cached(table):
    net = Network(input_dim=4, width=4, depth=1, activation="relu", input_scaling=True)
    x = default_input(4).reshape(1, -1)
    key = jax.random.fold_in(jax.random.key(TABLE.seed), 4)
    expected = np.asarray(outputs_at_init(net, x, 4000, key, chunk=250)[:, 0])
    np.testing.assert_allclose(table.rows[0].samples, expected, rtol=1e-12)
    again = init_distribution(net, x, 4000, seed=TABLE.seed)  # from the disk cache
    np.testing.assert_array_equal(again.samples, table.rows[0].samples)


def test_one_layer_kurtosis_closed_forms():
    # 3 E[s^4]/E[s^2]^2 - 3: ReLU 3 (3/2)/(1/2)^2 - 3, linear 3 * 3 - 3, for any variance.
    assert one_layer_kurtosis("relu", 0.37) == pytest.approx(15.0, abs=1e-9)
    assert one_layer_kurtosis("linear", 2.0) == pytest.approx(6.0, abs=1e-9)
    # tanh is linear near 0 and saturates (towards a sign, kurtosis 3 - 3 = 0) far out
    assert one_layer_kurtosis("tanh", 1e-4) == pytest.approx(6.0, abs=1e-2)
    assert one_layer_kurtosis("tanh", 25.0) < 1.0


def test_kurtosis_table_falls_like_one_over_n(table):
    assert table.limit == pytest.approx(15.0)
    narrow, wide = table.rows
    # n = 4: 15/4 = 3.75, a fourth moment over 4000 draws (noisy: allow ~+-50%);
    # n = 64: 0.23, far below it
    assert 2.0 < narrow.excess_kurtosis < 6.0
    assert wide.excess_kurtosis < 1.0
    md = table.markdown()
    assert md.count("\n") == 3 and "limit 15" in md
    assert f"{4 * narrow.excess_kurtosis:+.2f}" in md


def test_init_histogram_holds_the_samples_and_a_normalized_density(table):
    r = table.rows[0]
    fig = init_histogram(r, "t")
    hist, curve = fig.data
    np.testing.assert_array_equal(np.asarray(hist.x), r.samples)
    assert hist.histnorm == "probability density"
    x, y = np.asarray(curve.x), np.asarray(curve.y)
    assert np.trapezoid(y, x) == pytest.approx(1.0, abs=1e-3)  # covers >= 4 sd
    assert x.max() >= np.abs(r.samples).max()
    assert y.max() == pytest.approx(1 / np.sqrt(2 * np.pi * r.nngp_variance), rel=1e-3)
    assert f"{r.nngp_variance:.3g}" in curve.name and fig.layout.title.text == "t"


def test_panel_follows_its_controls_and_answers_a_repeat_from_memory():
    panel = init_distribution_panel(TINY)
    first = np.asarray(panel.figure.data[0].x)
    assert first.size == 300 and "sample variance" in panel.status.value
    panel.controls["log2_width"].value = 6
    second = np.asarray(panel.figure.data[0].x)
    assert not np.array_equal(first, second)
    assert "width 64" in panel.figure.layout.title.text
    calls = []
    compute = panel.compute
    panel.compute = lambda **v: calls.append(v) or compute(**v)
    panel.controls["log2_width"].value = 4
    panel.button.click()
    assert calls == [] and np.array_equal(np.asarray(panel.figure.data[0].x), first)


def test_panel_shows_bad_settings_as_one_line():
    panel = init_distribution_panel(dataclasses.replace(TINY, input_dim=0))
    assert "input_dim must be a positive integer" in panel.status.value
    assert "Traceback" not in panel.status.value and "\n" not in panel.status.value
