"""The integrand estimator against explicit dense derivative tensors, and deep-linear
closed forms."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

from widenets_nb.correlators import NAMED, estimate
from widenets_nb.correlators.estimate import default_inputs, integrand, measure
from widenets_nb.nets import Network

NETS = [
    Network(input_dim=3, width=3, depth=2, activation="tanh", bias=True),
    Network(input_dim=2, width=(3, 2, 3), depth=3, activation="gelu", init="sign"),
]


def _tensors(net, params, x, order):
    """f, grad, Hessian and third derivative at x via jax.hessian/jacfwd on flat params."""
    flat, unravel = ravel_pytree(params)

    def f(theta):
        return net.scalar(unravel(theta), x)

    return [f, jax.grad(f), jax.hessian(f), jax.jacfwd(jax.hessian(f))][order](flat)


def _reference(row, net, params, xs):
    """The six Table 1 integrands written out by hand with einsum."""
    t = lambda k, order: _tensors(net, params, xs[k - 1], order)  # noqa: E731
    if row == 1:
        return t(1, 0) * t(2, 0)
    if row == 2:
        return t(1, 0) * t(2, 0) * t(3, 0) * t(4, 0)
    if row == 3:
        return jnp.dot(t(1, 1), t(2, 1))
    if row == 4:
        return jnp.einsum("a,b,ab", t(1, 1), t(2, 1), t(3, 2)) * t(4, 0)
    if row == 5:
        return jnp.einsum("a,b,c,abc", t(1, 1), t(2, 1), t(3, 1), t(4, 3))
    return (jnp.einsum("a,b,ab", t(1, 1), t(2, 1), t(3, 2))
            * jnp.einsum("c,d,cd", t(4, 1), t(5, 1), t(6, 2)))


@pytest.mark.parametrize(("net", "row"), [(NETS[0], row) for row in range(1, 7)]
                         + [(NETS[1], row) for row in (3, 5, 6)])
def test_forest_matches_dense_einsum(net, row):
    spec = NAMED[f"table1.row{row}"]
    params = net.sample(jax.random.key(row))
    xs = jnp.asarray(default_inputs(len(spec.split()), net.input_dim, seed=row))
    want = _reference(row, net, params, xs)
    key = jax.random.key(0)
    for method in ("forest", "dense"):
        got = integrand(spec, net, method)(params, xs, key)
        assert got == pytest.approx(float(want), rel=1e-10, abs=1e-14)


def test_repeated_inputs_and_trace_dense():
    net = NETS[0]
    params = net.sample(jax.random.key(7))
    xs = jnp.asarray(default_inputs(2, net.input_dim, seed=7))
    g1 = _tensors(net, params, xs[0], 1)
    h1 = _tensors(net, params, xs[0], 2)
    assert integrand("f1_a f1_a", net)(params, xs[:1], None) == pytest.approx(
        float(g1 @ g1), rel=1e-12)
    trace = integrand("f1_aa f2", net, "dense")(params, xs, None)
    assert trace == pytest.approx(float(jnp.trace(h1) * _tensors(net, params, xs[1], 0)),
                                  rel=1e-12)


@pytest.mark.parametrize(("spec", "reference"), [
    ("f1_ab f2_ab", lambda h1, h2, f2: jnp.einsum("ab,ab", h1, h2)),
    ("f1_aa f2", lambda h1, h2, f2: jnp.trace(h1) * f2),
])
def test_hutchinson_is_unbiased_for_cycles(spec, reference):
    net = NETS[0]
    params = net.sample(jax.random.key(3))
    xs = jnp.asarray(default_inputs(2, net.input_dim, seed=3))
    h1, h2 = (_tensors(net, params, x, 2) for x in xs)
    want = float(reference(h1, h2, _tensors(net, params, xs[1], 0)))
    assert integrand(spec, net, "dense")(params, xs, None) == pytest.approx(want, rel=1e-10)
    one = jax.jit(jax.vmap(lambda k: integrand(spec, net, "hutchinson", probes=1)(
        params, xs, k)))
    draws = np.asarray(one(jax.random.split(jax.random.key(0), 4000)))
    se = draws.std(ddof=1) / np.sqrt(draws.size)
    assert abs(draws.mean() - want) < 4 * se
    assert se < 0.2 * abs(want)  # the check has power
    with pytest.raises(ValueError, match="cycle or trace"):
        integrand(spec, net, "forest")


@pytest.mark.parametrize("init", ["gaussian", "sign"])
def test_deep_linear_closed_forms(init):
    # Deep linear, no bias: E[f(x1) f(x2)] = x1.x2 and the mean NTK is (d + 1) x1.x2
    # (each of the d + 1 weight layers contributes x1.x2) at every width.
    depth, inits = 3, 1500
    xs = default_inputs(2, 4, seed=0)
    dot = float(xs[0] @ xs[1])
    nngp, ntk = estimate.measure_all(["f1 f2", "f1_a f2_a"], widths=[8], inits=inits, seed=1,
                                     activation="linear", depth=depth, init=init,
                                     input_dim=4, inputs=xs, progress=False)
    for m, want in ((nngp, dot), (ntk, (depth + 1) * dot)):
        assert abs(m.values[0] - want) < 4 * m.stderr[0]
        assert m.stderr[0] < 0.1 * want  # the check has power


def test_measure_reproducible_and_checked():
    a = measure("f1_a f2_a", [4, 8], inits=6, seed=3, depth=2, progress=False)
    b = measure("f1_a f2_a", [8, 4], inits=6, seed=3, depth=2, progress=False)
    assert a.widths == (4, 8)
    np.testing.assert_array_equal(a.samples[1], b.samples[1])
    assert a.statistic == "mean"
    v = measure("var:f1_a f2_a", [4], inits=6, seed=3, depth=2, progress=False)
    np.testing.assert_array_equal(v.samples[0], a.samples[0])
    assert v.values[0] == pytest.approx(np.var(a.samples[0], ddof=1))
    with pytest.raises(ValueError, match="one input per distinct label"):
        measure("f1 f2", [4], inits=4, inputs=np.ones((3, 4)), progress=False)
    with pytest.raises(ValueError, match="backend"):
        measure("f1 f2", [4], inits=4, backend="gpu", progress=False)
    with pytest.raises(ValueError, match="probes would add"):
        measure("var:f1_ab f2_ab", [4], inits=4, progress=False)
    with pytest.raises(ValueError, match="inits"):
        measure("f1 f2", [4], inits=1, progress=False)
    with pytest.raises(ValueError, match="dense tensors"):
        integrand("f1_abc f2_abc", Network(input_dim=4, width=64, depth=2), "dense")


@dataclasses.dataclass(frozen=True)
class _OwnModel:
    """A model of one's own for the dense backend: a tuple pytree, a tanh layer and a
    readout (the interface in ``estimate``'s docstring)."""

    input_dim: int = 3
    widths: tuple[int, ...] = (6,)
    num_params: int = 24

    def sample(self, key):
        k1, k2 = jax.random.split(key)
        return jax.random.normal(k1, (6, 3)), jax.random.normal(k2, (6,))

    def scalar(self, params, x):
        w, v = params
        return jnp.tanh(w @ x) @ v / jnp.sqrt(6.0)


def test_a_model_of_ones_own_on_the_dense_path():
    """``sample_integrands`` on a non-Network model: initialization i has the documented
    key, and its integrands equal f(x1) f(x2) and grad f(x1) . grad f(x2) by hand."""
    model = _OwnModel()
    xs = np.random.default_rng(2).normal(size=(2, 3))
    got = estimate.sample_integrands(["f1 f2", "f1_a f2_a"], model, xs, 4, seed=5,
                                     progress=False)
    keys = jax.random.split(jax.random.fold_in(jax.random.key(5), 6), 4)
    for row, key in zip(got, keys, strict=True):
        params = model.sample(key)
        f = [model.scalar(params, x) for x in xs]
        g = [jax.grad(model.scalar)(params, x) for x in xs]
        gram = sum(jnp.vdot(a, b) for a, b in zip(*g, strict=True))
        np.testing.assert_allclose(row, [f[0] * f[1], gram], rtol=1e-12)


def test_result_cache_key_names_the_lazy_stream(monkeypatch):
    """A change of the lazy sampler's random streams (``lazy.STREAM``) changes the result
    cache's key, so samples drawn by an earlier stream are never returned for a seed."""
    from widenets_nb import cache
    from widenets_nb.correlators import estimate, lazy

    keys = []

    def record(name, params, compute, directory=None):
        keys.append(cache.cache_key(name, params))
        return compute()

    monkeypatch.setattr(cache, "cached", record)
    for stream in (lazy.STREAM, lazy.STREAM + 1):
        monkeypatch.setattr(lazy, "STREAM", stream)
        estimate.measure_all(["f1 f2"], (8,), 4, backend="lazy", use_cache=True,
                             progress=False)
    assert len(keys) == 2 and keys[0] != keys[1]
