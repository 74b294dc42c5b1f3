"""Fig. 1a, Thm 10-11, App. E.2 and the infinite-width limit on small setups."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from widenets_nb import Network, infinite_width
from widenets_nb.nets import init_many
from widenets_nb.ntk import ntk, ntk_entry
from widenets_nb.training import experiments as te

TINY = te.DriftSetup(activations=("tanh",), optimizers=("gd", "sgd"), widths=(32, 128, 512),
                     samples_per_class=4, steps=16, batch_size=4, inits=8)


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(te.cache.config, "CACHE_DIR", tmp_path)


def test_kernel_drift_falls_like_one_over_width():
    result = te.kernel_drift(TINY, progress=False)
    assert result.theta.shape == (1, 2, 3, 8, TINY.components, len(te.log_steps(16)))
    # the recorded component at step 0 is Theta_0 of that initialization
    net = TINY.network("tanh", 32)
    x, _ = te.mnist_pair(TINY.samples_per_class, TINY.seed)
    params = init_many(net, jax.random.fold_in(jax.random.PRNGKey(TINY.seed), 32), TINY.inits)
    i, j = result.components[3]
    first = ntk_entry(net, jax.tree.map(lambda a: a[0], params), x[i], x[j])
    assert result.theta[0, 0, 0, 0, 3, 0] == pytest.approx(float(first), rel=1e-5)
    assert tuple(result.components[0]) == te.component(2 * TINY.samples_per_class, TINY.seed)
    assert np.all(result.components[:, 0] != result.components[:, 1])
    assert np.all(result.loss[..., -1] < result.loss[..., 0])
    for name in ("tanh/gd", "tanh/sgd"):
        assert result.drift_single[name] is not None
        fit = result.drift[name]
        assert fit is not None and abs(fit.slope + 1) < 0.25, name
        assert fit.slope_ci[1] < -0.5, name  # excludes Jacot et al.'s n^-1/2
    assert result.variance_init["tanh"].slope == pytest.approx(-1, abs=0.4)
    assert result.variance_drift["tanh/gd"].slope == pytest.approx(-2, abs=0.4)


def test_one_step_remainder_against_dense_kernel_and_its_width_scaling():
    x, y = (jnp.asarray(a) for a in te.mnist_pair(4, 0))
    net = Network(input_dim=784, width=32, depth=1, activation="tanh", input_scaling=True)
    params = net.sample(jax.random.PRNGKey(1))
    eta = 4.0
    grads = jax.grad(lambda p: 0.5 * jnp.mean((net.apply(p, x) - y) ** 2) * 1)(params)
    f0 = net.apply(params, x)
    f1 = net.apply(jax.tree.map(lambda p, g: p - eta * g, params, grads), x)
    dense = f1 - f0 + eta * ntk(net, params, x) @ (f0 - y) / len(x)
    remainder, step = te._one_step(net, params, x, y, eta)
    assert float(remainder) == pytest.approx(float(jnp.sqrt(jnp.mean(dense**2))), rel=1e-6)
    assert float(step) == pytest.approx(float(jnp.sqrt(jnp.mean((f1 - f0) ** 2))), rel=1e-9)
    result = te.step_linearity("tanh", 1, (32, 128, 512), (1.0, 8.0), inits=8,
                               samples_per_class=4, progress=False)
    for eta, fit in result.fits.items():
        assert fit is not None and abs(fit.slope + 1) < 0.25, eta
    assert np.all(result.remainder < result.step)


def test_gram_inputs_preserve_the_kernel_and_its_distribution():
    images, _ = te.mnist_pair(4, 0)
    pair = images[:2]
    x = te.gram_inputs(pair)
    np.testing.assert_allclose(x @ x.T / 2, pair @ pair.T / 784, rtol=1e-6)
    wide = Network(input_dim=784, width=8, depth=2, activation="erf", input_scaling=True)
    small = dataclasses.replace(wide, input_dim=2)
    np.testing.assert_allclose(infinite_width(small, x).ntk, infinite_width(wide, pair).ntk,
                               rtol=1e-6)
    keys = jax.random.split(jax.random.PRNGKey(2), 1000)
    a = np.asarray(jax.vmap(lambda k: ntk_entry(wide, wide.sample(k), pair[0], pair[1]))(keys))
    b = np.asarray(jax.vmap(lambda k: ntk_entry(small, small.sample(k), x[0], x[1]))(keys))
    se = np.sqrt(a.var() / a.size + b.var() / b.size)
    assert abs(a.mean() - b.mean()) < 4 * se
    assert a.std() == pytest.approx(b.std(), rel=0.15)


def test_infinite_width_limit_shrinks_the_bias():
    result = te.infinite_width_limit(("relu", "erf"), 2, (4, 64), inits=2000, samples_per_class=4,
                                     progress=False)
    bias = np.abs(result.samples.mean(-1) - result.exact[:, None])
    se = result.samples.std(-1) / np.sqrt(2000)
    assert np.all(bias[:, 1] < bias[:, 0] + 2 * se[:, 0])
    assert np.all(bias[:, 1] < 0.05 * result.exact)


def test_fig1a_report_lists_every_fit(monkeypatch):
    monkeypatch.setitem(te.DRIFT_PROFILES, "quick",
                        dataclasses.replace(TINY, widths=(16, 64), steps=8, inits=4))
    monkeypatch.setitem(te.LINEARITY_PROFILES, "quick",
                        dict(widths=(16, 64), inits=4, samples_per_class=4))
    monkeypatch.setitem(te.LIMIT_PROFILES, "quick", dict(widths=(4, 16), inits=200,
                                                          samples_per_class=4))
    report = te.fig1a("quick")
    assert set(report.payload["drift"]) == {"tanh/gd", "tanh/sgd"}
    assert report.payload["paper"]["drift"] == -1.0
    assert "| tanh | sgd |" in report.markdown
    assert report.markdown.count("| 1 |") + report.markdown.count("| 4 |") >= 1
