"""Fig. 1a, Thm 10-11, App. E.2 and the infinite-width limit on small setups; the
profiles' protocols and the committed results."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from widenets_nb import Network, infinite_width, results
from widenets_nb.dynamics import TrainConfig, train
from widenets_nb.nets import init_many
from widenets_nb.ntk import ntk, ntk_entry
from widenets_nb.paper import SLOPES
from widenets_nb.training import experiments as te

TINY = te.DriftProtocol(activations=("tanh",), optimizers=("gd", "sgd"),
                        widths=(32, 128, 512), samples_per_class=4, steps=16, batch_size=4,
                        inits=8, variance_widths=(32, 128, 512), variance_inits=1000)


LINEARITY = te.LinearityProtocol(widths=(32, 128, 512), etas=(1.0, 8.0), inits=8,
                                 samples_per_class=4)
LIMIT = te.LimitProtocol(widths=(4, 16, 64), inits=2000, samples_per_class=4)


@pytest.fixture(autouse=True, scope="module")
def _private_cache(tmp_path_factory):
    """One cache for the module: ``fig1a`` below reuses the units of the tests before it."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(te.cache.config, "CACHE_DIR", tmp_path_factory.mktemp("cache"))
        yield


def test_profiles_keep_their_numbers():
    quick, paper = te.DriftProtocol.for_profile("quick"), te.DriftProtocol.for_profile("paper")
    assert te.DriftProtocol.for_profile("standard") == te.DriftProtocol()
    standard = te.DriftProtocol()
    assert (standard.widths, standard.inits, standard.variance_widths[-1],
            standard.variance_inits) == ((64, 128, 256, 512, 1024, 2048), 96, 4096, 2000)
    assert (quick.activations, quick.widths, quick.steps, quick.samples_per_class,
            quick.batch_size, quick.inits, quick.variance_widths, quick.variance_inits) == (
        ("relu", "tanh"), (32, 64, 128), 128, 4, 2, 8, (32, 64, 128, 256), 1000)
    assert (paper.widths[-1], paper.depth, paper.samples_per_class, paper.batch_size,
            paper.inits, paper.variance_inits) == (4096, 2, 1000, 100, 100, 10000)
    assert [(p.widths, p.inits, p.samples_per_class) for p in
            map(te.LinearityProtocol.for_profile, ("quick", "standard", "paper"))] == [
        ((32, 64, 128), 16, 8), ((64, 128, 256, 512, 1024), 32, 8),
        ((64, 128, 256, 512, 1024, 2048, 4096), 100, 1000)]
    assert [(p.widths[-1], p.inits) for p in
            map(te.LimitProtocol.for_profile, ("quick", "standard", "paper"))] == [
        (32, 2000), (64, 20000), (256, 200000)]


def test_components_come_from_one_stream_apart_from_the_data():
    first = te.components(16, 4, 0)
    np.testing.assert_array_equal(te.components(16, 8, 0)[:4], first)
    assert te.component(16, 0) == tuple(first[0])
    assert np.all(first[:, 0] != first[:, 1]) and first.min() >= 0 and first.max() < 16
    # the data subsample draws from default_rng(seed); the components do not
    assert not np.array_equal(first[0], np.random.default_rng(0).choice(16, 2, replace=False))
    assert not np.array_equal(te.components(16, 4, 1), first)


def test_kernel_drift_falls_like_one_over_width():
    result = te.kernel_drift(TINY, progress=False)
    assert result.theta.shape == (1, 2, 3, 8, TINY.components, len(te.log_steps(16)))
    # the recorded component at step 0 is Theta_0 of that initialization (first block),
    # on the Gram-equivalent inputs
    net = TINY.reduced_network("tanh", 32)
    x = te.gram_inputs(te.mnist_pair(TINY.samples_per_class, TINY.seed)[0])
    width_key = jax.random.fold_in(jax.random.key(TINY.seed), 32)
    params = init_many(net, jax.random.fold_in(jax.random.fold_in(width_key, 0), 0),
                       TINY.inits)
    i, j = result.components[3]
    first = ntk_entry(net, jax.tree.map(lambda a: a[0], params), x[i], x[j])
    assert result.theta[0, 0, 0, 0, 3, 0] == pytest.approx(float(first), rel=1e-5)
    assert tuple(result.components[0]) == te.component(2 * TINY.samples_per_class, TINY.seed)
    assert np.all(result.loss[..., -1] < result.loss[..., 0])
    for optimizer in ("gd", "sgd"):
        assert result.drift_single["tanh", optimizer].fitted
        fit = result.drift["tanh", optimizer]
        assert fit.labels == {"quantity": "drift", "activation": "tanh", "optimizer": optimizer}
        assert fit.predicted == SLOPES["fig1a.drift"].value
        assert abs(fit.slope + 1) < 0.25, optimizer
        assert fit.slope_ci[1] < -0.5, optimizer  # excludes Jacot et al.'s n^-1/2
        # the drift's values are the per-init component averages at the last step
        np.testing.assert_allclose(fit.values, result.mean_drift()[0, 0, :, :, -1].mean(-1)
                                   if optimizer == "gd" else
                                   result.mean_drift()[0, 1, :, :, -1].mean(-1), rtol=1e-12)
    # At depth 1 Theta_0 is a mean of n iid terms, so Var[Theta_0] ~ n^-1 exactly; with
    # 1000 initializations its exponent is known to about +-0.1 (95%). With 8
    # initializations Var[Theta_T - Theta_0] is too noisy for a fitted exponent at every
    # width, but from n = 32 to 512 it falls by far more than n^-1.2 would (Thm 11: -2).
    init = result.variance_init["tanh"]
    assert init.counts == (1000,) * 3 and result.initial.shape == (1, 3, 1000)
    assert abs(init.slope - SLOPES["fig1a.variance_init"].value) < 0.15, init.summary()
    assert init.slope_ci[0] < SLOPES["fig1a.variance_init"].value < init.slope_ci[1]
    np.testing.assert_allclose(init.values, result.initial[0].var(-1, ddof=1), rtol=1e-12)
    for optimizer in ("gd", "sgd"):
        values = result.variance_drift["tanh", optimizer].values
        assert values[-1] < values[0] * 16.0**-1.2, (optimizer, values)
    assert len(result.scalings) == 2 + 2 + 1 + 2


def test_one_step_remainder_against_dense_kernel_and_its_width_scaling():
    x, y = (jnp.asarray(a) for a in te.mnist_pair(4, 0))
    net = Network(input_dim=784, width=32, depth=1, activation="tanh", input_scaling=True)
    params = net.sample(jax.random.key(1))
    eta = 4.0
    grads = jax.grad(lambda p: 0.5 * jnp.mean((net.apply(p, x) - y) ** 2) * 1)(params)
    f0 = net.apply(params, x)
    f1 = net.apply(jax.tree.map(lambda p, g: p - eta * g, params, grads), x)
    dense = f1 - f0 + eta * ntk(net, params, x) @ (f0 - y) / len(x)
    remainder, step = te._one_step(net, params, x, y, eta)
    assert float(remainder) == pytest.approx(float(jnp.sqrt(jnp.mean(dense**2))), rel=1e-6)
    assert float(step) == pytest.approx(float(jnp.sqrt(jnp.mean((f1 - f0) ** 2))), rel=1e-9)
    result = te.step_linearity(LINEARITY, progress=False)
    assert [f.labels["eta"] for f in result.fits] == ["1", "8"]
    for fit in result.fits:
        assert fit.fitted and abs(fit.slope + 1) < 0.25, fit.summary()
    assert np.all(result.remainder < result.step)


@pytest.mark.parametrize("optimizer", ["gd", "sgd"])
def test_training_on_gram_inputs_is_training_on_the_images(optimizer):
    """x / sqrt(D) = (L / sqrt(N)) Q^T: the net on L with U Q follows the net on x with U,
    step by step (f, Theta and the loss), so both have the same law for Gaussian U."""
    images, y = te.mnist_pair(4, 0)
    x = te.gram_inputs(images)
    q = images.T @ np.linalg.inv(x.T) * np.sqrt(x.shape[1] / images.shape[1])
    np.testing.assert_allclose(q.T @ q, np.eye(8), atol=1e-10)
    wide = Network(input_dim=784, width=16, depth=2, activation="tanh", input_scaling=True)
    small = dataclasses.replace(wide, input_dim=8)
    params = wide.sample(jax.random.key(3))
    reduced = {**params, "U": params["U"] @ q}
    config = TrainConfig(learning_rate=1.0, steps=8, optimizer=optimizer, batch_size=3,
                            record_steps=(0, 2, 8))
    pairs = te.components(8, 4, 0)
    a = train(wide, params, images, y, config, pairs=pairs)
    b = train(small, reduced, x, y, config, pairs=pairs)
    for field in ("f", "theta", "loss"):
        np.testing.assert_allclose(getattr(b, field), getattr(a, field), rtol=1e-9,
                                   atol=1e-12, err_msg=field)
    assert not np.allclose(a.theta[-1], a.theta[0])  # the kernel moved


def test_gram_inputs_preserve_the_kernel_and_its_distribution():
    images, _ = te.mnist_pair(4, 0)
    pair = images[:2]
    x = te.gram_inputs(pair)
    np.testing.assert_allclose(x @ x.T / 2, pair @ pair.T / 784, rtol=1e-6)
    wide = Network(input_dim=784, width=8, depth=2, activation="erf", input_scaling=True)
    small = dataclasses.replace(wide, input_dim=2)
    np.testing.assert_allclose(infinite_width(small, x).ntk, infinite_width(wide, pair).ntk,
                               rtol=1e-6)
    keys = jax.random.split(jax.random.key(2), 1000)
    a = np.asarray(jax.vmap(lambda k: ntk_entry(wide, wide.sample(k), pair[0], pair[1]))(keys))
    b = np.asarray(jax.vmap(lambda k: ntk_entry(small, small.sample(k), x[0], x[1]))(keys))
    se = np.sqrt(a.var() / a.size + b.var() / b.size)
    assert abs(a.mean() - b.mean()) < 4 * se
    assert a.std() == pytest.approx(b.std(), rel=0.15)


def test_infinite_width_limit_shrinks_the_bias():
    result = te.infinite_width_limit(LIMIT, progress=False)
    bias = np.abs(result.samples.mean(-1) - result.exact[:, None])
    se = result.samples.std(-1) / np.sqrt(2000)
    assert np.all(bias[:, 1] < bias[:, 0] + 2 * se[:, 0])
    assert np.all(bias[:, 1] < 0.05 * result.exact)
    for fit, samples, exact in zip(result.fits, result.samples, result.exact, strict=True):
        np.testing.assert_allclose(fit.values, samples.mean(-1) - exact, rtol=1e-12)
        # three widths fix a/n + b/n^2 with one residual, not the three-term series
        assert result.expansions[fit.labels["activation"]] == [
            te.expansion(fit.widths, fit.values, fit.stderr, (1, 2))]


def test_expansion_recovers_coefficients_and_flags_a_vanishing_one():
    rng = np.random.default_rng(0)
    widths = np.array([4, 8, 16, 32, 64])
    stderr = 0.01 / widths
    for a, resolved in ((2.0, True), (0.0, False)):
        values = a / widths + 3.0 / widths**2 + rng.normal(0, stderr)
        fit = te.expansion(widths, values, stderr)
        assert fit["resolved"] is resolved and fit["dof"] == 3
        for k, true in enumerate((a, 3.0)):
            assert abs(fit["coefficients"][k] - true) < 4 * fit["stderr"][k]
    with pytest.raises(ValueError, match="2 widths cannot fix 2 coefficients"):
        te.expansion((4, 8), (0.1, 0.05), (0.01, 0.01))


def test_fig1a_report_round_trips_every_fit(monkeypatch, tmp_path):
    tiny = {te.DriftProtocol: TINY, te.LinearityProtocol: LINEARITY, te.LimitProtocol: LIMIT}
    for cls in tiny:
        monkeypatch.setattr(cls, "for_profile", classmethod(lambda c, name=None: tiny[c]))
    report = te.fig1a("quick")
    quantities = [s.labels["quantity"] for s in report.scalings]
    assert {q: quantities.count(q) for q in quantities} == {
        "drift": 2, "drift_single": 2, "variance_init": 1, "variance_drift": 2,
        "linearity": 2, "limit": 2}
    assert report.find(quantity="variance_drift", optimizer="sgd").predicted == -2.0
    assert report.find(quantity="linearity", eta="8").predicted == SLOPES["e2.remainder"].value
    results.save(report, "quick", 1.0, tmp_path)
    fig = te.Fig1a.from_report(results.load("fig1a", "quick", tmp_path))
    assert (fig.drift, fig.linearity, fig.limit) == tuple(tiny.values())
    assert fig.report.scalings == report.scalings
    assert fig.limit_component == te.component(8, 0) == tuple(fig.components[0])
    for s in report.scalings:  # every fit appears in the table, formatted once
        assert s.label() in report.markdown
    assert "| tanh | sgd |" in report.markdown


def test_committed_fig1a_loads_with_its_numbers():
    fig = te.Fig1a.load("standard")
    assert fig.drift == te.DriftProtocol.for_profile("standard")
    assert fig.linearity == te.LinearityProtocol.for_profile("standard")
    assert fig.limit == te.LimitProtocol.for_profile("standard")
    assert len(fig.report.scalings) == 33
    # Thm 10: at least 1000 initializations per width up to 4096, exponent within 0.15 of -1
    for s in fig.scalings("variance_init"):
        assert s.counts == (2000,) * 7 and s.widths[-1] == 4096
        assert abs(s.slope + 1) < 0.15, s.summary()
    # trained quantities: 96 initializations per width up to 2048; every Var[Theta_T -
    # Theta_0] interval within +-0.15 of its slope
    for s in fig.scalings("variance_drift"):
        assert s.counts == (96,) * 6 and s.widths[-1] == 2048
        assert max(s.slope - s.slope_ci[0], s.slope_ci[1] - s.slope) <= 0.15, s.summary()
    # the drift's straight fit reads above -1; with the 1/n correction it is -0.99 to -1.00
    # for linear, tanh and erf and -1.04 to -1.05 for ReLU (the notebook's reading)
    for s in fig.scalings("drift"):
        assert -0.98 < s.slope < -0.94, s.summary()
        if s.labels["activation"] == "relu":
            assert -1.05 < s.corrected.slope < -1.03, s.summary()
        else:
            assert abs(s.corrected.slope + 1) < 0.01, s.summary()
    drift = fig.report.find(quantity="drift", activation="linear", optimizer="gd")
    assert drift.label() == "-0.97 [-0.97, -0.96]" and drift.counts == (96,) * 6
    assert set(fig.expansions) == {"relu", "erf"}
    assert [len(e) for e in fig.expansions.values()] == [2, 2]
    assert fig.limit_component == (10, 9) == tuple(fig.components[0])
    assert fig.report.provenance.wall_time_s == 77.0
    assert fig.table() in fig.report.markdown


def test_committed_limit_agrees_with_the_1_over_n_theory():
    # 20000 inits per width at widths 4-64: the fitted a_1 of E[Θ_0] - Θ_∞ (two and three
    # terms) lies within 2 standard errors of the recursions' NTK-mean correction, which
    # is far from 0 in units of those errors for both activations
    fig = te.Fig1a.load("standard")
    predicted = te.limit_theory(fig.limit)
    assert set(predicted) == {"relu", "erf"}
    for a, c in predicted.items():
        for fit in fig.expansions[a]:
            value, se = fit["coefficients"][0], fit["stderr"][0]
            assert abs(value - c) < 2 * se, (a, fit["orders"], value, se, c)
        assert abs(c) > 2 * fig.expansions[a][0]["stderr"][0]
    table = fig.limit_theory_table()
    assert f"{predicted['relu']:+.4f}" in table and table.count("\n") == 3
