"""Lazy Gaussian matrices and the lazy correlator backend, against dense references."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from widenets_nb.correlators import NAMED, estimate, lazy, lazy_matrix, parse
from widenets_nb.nets import Network

ROWS = tuple(NAMED[f"table1.row{i}"] for i in range(1, 7))
RNG = np.random.default_rng(0)


def _queries(w, blocks, seed=0):
    """Run interleaved ('right'|'left', rows) blocks; return all queries and answers."""
    rng = np.random.default_rng(seed)
    log = {"right": ([], []), "left": ([], [])}
    for side, rows in blocks:
        ask = getattr(lazy_matrix, side)
        size = w.Y.shape[1] if side == "right" else w.Z.shape[1]
        w, answers = ask(w, rows, rng.normal(size=(len(rows), size)))
        log[side][0].append(rows)
        log[side][1].append(np.asarray(answers))
    return {side: tuple(np.concatenate(x) for x in pair) for side, pair in log.items()}


def test_answers_are_consistent_with_one_matrix():
    """u^T (W v) = (W^T u)^T v for every pair, and linear dependences are respected."""
    n_out, n_in = 6, 5
    v = RNG.normal(size=(7, n_in))
    v[2] = v[0] - 2 * v[1]  # in the span of earlier queries
    v[6] = v[3]  # a repeat
    u = RNG.normal(size=(8, n_out))
    u[5] = 3 * u[0]
    w = lazy_matrix.empty(n_out, n_in)
    log = _queries(w, [("right", v[:3]), ("left", u[:4]), ("right", v[3:]),
                       ("left", u[4:])])
    (qv, wv), (qu, wtu) = log["right"], log["left"]
    np.testing.assert_allclose(qu @ wv.T, wtu @ qv.T, atol=1e-12)
    np.testing.assert_allclose(wv[2], wv[0] - 2 * wv[1], atol=1e-12)
    np.testing.assert_allclose(wv[6], wv[3], atol=1e-12)
    np.testing.assert_allclose(wtu[5], 3 * wtu[0], atol=1e-12)


def test_answers_have_the_law_of_a_gaussian_matrix():
    """Cov[(W v)_i, (W v')_j] = d_ij v.v', Cov[(W v)_i, (W^T u)_k] = u_i v_k,
    Cov[(W^T u)_k, (W^T u')_l] = d_kl u.u', all means 0: 20 000 draws, 4 standard errors."""
    n_out, n_in, draws = 3, 4, 20_000
    v = RNG.normal(size=(2, n_in))
    u = RNG.normal(size=(2, n_out))

    def sample(key):
        k = jax.random.split(key, 3)
        w = lazy_matrix.empty(n_out, n_in)
        w, a = lazy_matrix.right(w, v[:1], lazy_matrix.normal(k[0], (1, n_out)))
        w, b = lazy_matrix.left(w, u, lazy_matrix.normal(k[1], (2, n_in)))
        w, c = lazy_matrix.right(w, v[1:], lazy_matrix.normal(k[2], (1, n_out)))
        return jnp.concatenate([a.ravel(), c.ravel(), b.ravel()])

    x = np.asarray(jax.vmap(sample)(jax.random.split(jax.random.key(1), draws)))
    # exact covariance of (W v1, W v2, W^T u1, W^T u2) for iid N(0, 1) W
    cov = np.zeros((x.shape[1],) * 2)
    blocks = [("r", v[0]), ("r", v[1]), ("l", u[0]), ("l", u[1])]
    sizes = [n_out, n_out, n_in, n_in]
    offsets = np.cumsum([0] + sizes)
    for a, (sa, qa) in enumerate(blocks):
        for b, (sb, qb) in enumerate(blocks):
            block = np.eye(sizes[a]) * (qa @ qb) if sa == sb else np.outer(qb, qa)
            cov[offsets[a]:offsets[a + 1], offsets[b]:offsets[b + 1]] = block
    products = x[:, :, None] * x[:, None, :]
    stderr = products.std(axis=0) / np.sqrt(draws)
    assert np.all(np.abs(products.mean(axis=0) - cov) <= 4 * stderr + 1e-12)
    assert np.all(np.abs(x.mean(axis=0)) <= 4 * x.std(axis=0) / np.sqrt(draws))


def test_inverse_normal_cdf_matches_scipy():
    """AS 241 against scipy.special.ndtri over (0, 1), tails down to 1e-16: relative
    error below 4 ulp in float64, 8 ulp in float32 (inputs representable in float32)."""
    from scipy import special

    p = np.concatenate([np.logspace(-16, np.log10(0.5), 4001),
                        0.5 + np.linspace(0, 0.499, 1001)])
    p = np.concatenate([p, 1 - p[p > 1e-15]])
    with jax.enable_x64(True):
        got = np.asarray(lazy_matrix.inverse_normal_cdf(jnp.asarray(p, jnp.float64)))
    want = special.ndtri(p)
    np.testing.assert_allclose(got, want, rtol=4 * 2.0**-52, atol=1e-300)
    p32 = p[(p > 2.0**-24) & (p < 1 - 2.0**-24)].astype(np.float32)
    got32 = np.asarray(lazy_matrix.inverse_normal_cdf(jnp.asarray(p32)))
    np.testing.assert_allclose(got32, special.ndtri(p32.astype(np.float64)),
                               rtol=8 * 2.0**-23, atol=2e-6)


@pytest.mark.parametrize("x64", [False, True])
def test_normal_draws_are_standard_normal(x64):
    """200 000 draws: mean, variance, skewness and excess kurtosis within 4 standard
    errors of N(0, 1)'s, KS p > 1e-3; the same key gives the same draws, vmapped or not."""
    with jax.enable_x64(x64):
        key = jax.random.key(3)
        x = np.asarray(lazy_matrix.normal(key, (200_000,)))
        assert x.dtype == (np.float64 if x64 else np.float32)
        keys = jax.random.split(key, 3)
        batched = jax.vmap(lambda k: lazy_matrix.normal(k, (5,)))(keys)
        np.testing.assert_array_equal(batched[1], lazy_matrix.normal(keys[1], (5,)))
    m = x.size
    for value, se in ((x.mean(), 1 / np.sqrt(m)), (x.var() - 1, np.sqrt(2 / m)),
                      (stats.skew(x), np.sqrt(6 / m)), (stats.kurtosis(x), np.sqrt(24 / m))):
        assert abs(value) <= 4 * se, (value, se)
    assert stats.kstest(x, "norm").pvalue > 1e-3


def test_wrong_noise_shape_is_a_clear_error():
    w = lazy_matrix.empty(3, 3)
    with pytest.raises(ValueError, match="one fresh"):
        lazy_matrix.right(w, np.ones((2, 3)), np.ones((2, 4)))


class _DenseWeights:
    """The hidden matrices of sampled parameters, queried like the lazy ones."""

    def __init__(self, params):
        self.params = params

    def right(self, layer, vs):
        return vs @ self.params[f"W{layer}"].T

    def left(self, layer, us):
        return us @ self.params[f"W{layer}"]


NETS = [
    Network(input_dim=3, width=(5, 7, 4), depth=3, activation="tanh", bias=True,
            input_scaling=True),
    Network(input_dim=3, width=6, depth=3, activation="relu"),
    Network(input_dim=3, width=6, depth=3, activation="linear", bias=True),
    Network(input_dim=3, width=5, depth=2, activation="gelu", outputs=2),
    Network(input_dim=3, width=5, depth=1, activation="erf"),
    Network(input_dim=3, width=(5, 6, 4), depth=3, activation="tanh", bias=True,
            weight_std=1.3, bias_std=0.6, first_bias=True, readout_bias=True),
    Network(input_dim=3, width=6, depth=2, activation="erf", input_scaling=True,
            weight_std=0.8, bias_std=1.7, first_bias=True, outputs=2, readout_bias=True),
]
SPECS = ROWS + ("var:f1_a f2_a", "f2_a f1_a", "f3_b f1_ab f2_a", "f1_a f1_a",
                "f2_abc f1_a f1_b f1_c", "f2 f5")


@pytest.mark.parametrize("net", NETS, ids=lambda n: f"{n.activation}-d{n.depth}")
def test_propagation_equals_autodiff(net):
    """With the dense matrices plugged in, every integrand equals the estimator's (exact
    gradients and jvps of Network.scalar)."""
    cs = [parse(s) for s in SPECS]
    order = estimate.labels(cs)
    xs = jnp.asarray(RNG.normal(size=(len(order), net.input_dim)))
    params = net.sample(jax.random.key(3))
    got = lazy.integrands(lazy.plan(cs, order), net, params, _DenseWeights(params), xs)
    rows = [tuple(order.index(f.input) for f in c.factors) for c in cs]
    fns = [estimate.integrand(c, net, "forest", rows=r) for c, r in zip(cs, rows, strict=True)]
    want = jax.jit(lambda p, x: jnp.stack([fn(p, x, None) for fn in fns]))(params, xs)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("activation", ["softplus", "tanh"])
def test_a_padded_network_with_its_extra_units_off_is_the_narrow_one(activation):
    """``integrands`` on a wider network whose extra units have zero weights and biases
    and are masked by ``active`` equals the narrow network's autodiff integrands (softplus:
    s(0) != 0, so the mask is what switches the padded units off); ``padded`` widens up
    to ``PAD_WIDTH`` only."""
    net = Network(input_dim=3, width=(5, 6, 4), depth=3, activation=activation, bias=True,
                  weight_std=1.3, bias_std=0.6, first_bias=True, readout_bias=True)
    wide = dataclasses.replace(net, width=(9, 8, 7))
    cs = [parse(s) for s in SPECS]
    order = estimate.labels(cs)
    xs = jnp.asarray(RNG.normal(size=(len(order), net.input_dim)))
    params = net.sample(jax.random.key(4))
    embedded = {}
    for name, shape in wide.shapes().items():
        small = params[name]
        embedded[name] = jnp.zeros(shape, small.dtype).at[
            tuple(slice(0, k) for k in small.shape)].set(small)
    active = [(jnp.arange(w) < n).astype(xs.dtype) for w, n in zip(wide.widths, net.widths,
                                                                    strict=True)]
    got = lazy.integrands(lazy.plan(cs, order), wide, embedded, _DenseWeights(embedded), xs,
                          active)
    rows = [tuple(order.index(f.input) for f in c.factors) for c in cs]
    fns = [estimate.integrand(c, net, "forest", rows=r) for c, r in zip(cs, rows, strict=True)]
    want = jax.jit(lambda p, x: jnp.stack([fn(p, x, None) for fn in fns]))(params, xs)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    assert lazy.padded(net).widths == (lazy.PAD_WIDTH,) * 3
    big = Network(input_dim=3, width=lazy.PAD_WIDTH + 1, depth=3)
    assert lazy.padded(big) is big


def _mean(x):
    return x.mean(), x.std() / np.sqrt(x.size)


def _variance(x):
    return x.var(), _mean((x - x.mean()) ** 2)[1]


@pytest.mark.parametrize("activation", ["linear", "tanh"])
def test_lazy_matches_dense_in_distribution(activation):
    """n = 8, 3000 initializations each: means and variances within 4 standard errors,
    two-sample KS p > 1e-3 for all six Table 1 rows (linear exercises repeated spans)."""
    net = Network(input_dim=4, width=8, depth=3, activation=activation)
    xs = RNG.uniform(size=(6, 4))
    inits = 3000
    lazy_x = lazy.lazy_samples(ROWS, net, xs, inits, jax.random.key(7), progress=False)
    dense_x = estimate.sample_integrands(ROWS, net, xs, inits, seed=8, progress=False)
    for i in range(len(ROWS)):
        for statistic in (_mean, _variance):
            (a, sa), (b, sb) = statistic(lazy_x[:, i]), statistic(dense_x[:, i])
            assert abs(a - b) <= 4 * np.hypot(sa, sb), (ROWS[i], statistic, a, b)
        assert stats.ks_2samp(lazy_x[:, i], dense_x[:, i]).pvalue > 1e-3, ROWS[i]


@pytest.mark.parametrize("activation", ["linear", "tanh"])
def test_lazy_and_dense_agree_in_float32(activation, float32):
    """The float32 lane (the tables' precision): at n = 8, 2000 initializations each, the
    lazy and dense float32 samples have the same means and variances (within 4 standard
    errors) as each other and as float64 lazy samples; the span tolerance of repeated
    queries (linear) is float32's."""
    net = Network(input_dim=4, width=8, depth=3, activation=activation)
    assert net.sample(jax.random.key(0))["U"].dtype == jnp.float32
    xs = np.random.default_rng(1).uniform(size=(6, 4))
    inits = 2000
    key = jax.random.key(11)
    lazy32 = lazy.lazy_samples(ROWS, net, xs, inits, jax.random.fold_in(key, 0),
                               progress=False)
    dense32 = estimate.sample_integrands(ROWS, net, xs, inits, seed=12, progress=False)
    with jax.enable_x64(True):
        lazy64 = lazy.lazy_samples(ROWS, net, xs, inits, jax.random.fold_in(key, 1),
                                   progress=False)
    assert np.all(np.isfinite(lazy32)) and np.all(np.isfinite(dense32))
    for i in range(len(ROWS)):
        for statistic in (_mean, _variance):
            (a, sa), (b, sb), (c, sc) = (statistic(x[:, i]) for x in (lazy32, dense32, lazy64))
            assert abs(a - b) <= 4 * np.hypot(sa, sb), (ROWS[i], statistic, a, b)
            assert abs(a - c) <= 4 * np.hypot(sa, sc), (ROWS[i], statistic, a, c)


def test_samples_do_not_depend_on_chunking():
    """The same draws whatever the chunk: equal up to rounding, which a query nearly in
    the span of earlier ones (7 queries in n = 6) may amplify up to the sampler's own
    precision, ``lazy_matrix.tolerance`` (1e-6 in float64); another key's draw would
    differ by O(1)."""
    net = Network(input_dim=4, width=6, depth=2, activation="tanh")
    xs = RNG.uniform(size=(4, 4))
    cs = ROWS[:4]
    whole = lazy.lazy_samples(cs, net, xs, 10, jax.random.key(0), chunk=10, progress=False)
    parts = lazy.lazy_samples(cs, net, xs, 10, jax.random.key(0), chunk=3, progress=False)
    assert whole.shape == (10, 4)
    np.testing.assert_allclose(whole, parts, rtol=1e-6, atol=1e-12)
    assert np.min(np.abs(whole[1:] - whole[:-1])) > 1e-6  # distinct initializations


@pytest.mark.parametrize("spec", ["f1_ab f2_ab", "f1_aa", "f1_a f2_ab f3_bc f4_c"])
def test_unsupported_correlators_are_reported(spec):
    net = Network(input_dim=2, width=4, depth=2)
    assert not lazy.lazy_supported(spec, net)
    assert "not a star" in lazy.unsupported_reason(spec, net)
    with pytest.raises(ValueError, match="dense backend"):
        lazy.lazy_samples(spec, net, np.ones((len(parse(spec).inputs), 2)), 4,
                          jax.random.key(0))


def test_support_and_auto_choice():
    small, wide = (Network(input_dim=4, width=w, depth=3) for w in (8, 4096))
    rows = list(ROWS) + [NAMED[f"table3.row{i}"] for i in range(1, 7)]
    assert lazy.lazy_supported(rows, wide)
    assert lazy.prefer_lazy(rows, wide) and not lazy.prefer_lazy(rows, small)
    sign = Network(input_dim=4, width=4096, depth=3, init="sign")
    assert "Gaussian" in lazy.unsupported_reason(ROWS, sign)
    assert not lazy.prefer_lazy(ROWS, sign)


def test_scaled_networks_sample_lazily_and_agree_with_dense():
    """weight_std, bias_std and every bias, natively: at n = 8, 2000 initializations each,
    the lazy and dense means and variances of Table 1 rows 1, 3 and 4 (f f', g . g' and a
    second directional derivative) agree within 4 standard errors, and
    ``backend="auto"`` picks lazy for a wide scaled network. (Every row's integrand equals
    autodiff's on these options in ``test_propagation_equals_autodiff``.)"""
    net = Network(input_dim=4, width=8, depth=3, activation="tanh", bias=True,
                  weight_std=1.4, bias_std=0.7, first_bias=True, readout_bias=True)
    assert lazy.unsupported_reason(ROWS, net) is None
    assert estimate.choose_backend(ROWS, dataclasses.replace(net, width=4096)) == "lazy"
    rows = [ROWS[0], ROWS[2], ROWS[3]]
    xs = RNG.uniform(size=(4, 4))
    lazy_x = lazy.lazy_samples(rows, net, xs, 2000, jax.random.key(5), progress=False)
    dense_x = estimate.sample_integrands(rows, net, xs, 2000, seed=6, progress=False)
    for i, row in enumerate(rows):
        for statistic in (_mean, _variance):
            (a, sa), (b, sb) = statistic(lazy_x[:, i]), statistic(dense_x[:, i])
            assert abs(a - b) <= 4 * np.hypot(sa, sb), (row, statistic, a, b)


def test_scaled_linear_network_matches_its_exact_kernel():
    """Linear, depth 3, no input scaling, n = 16, 4000 initializations: through the
    estimator, E[f1 f2] = s_w^8 x1.x2; with every bias (lazy sampler), K_1 = s_w^2 x1.x2
    + s_b^2, K_{l+1} = s_w^2 K_l + s_b^2 and E[f1 f2] = s_w^2 K_3 + s_b^2. Both exact at
    any width; within 4 standard errors."""
    sw, sb = 1.3, 0.6
    m = estimate.measure("f1 f2", (16,), 4000, seed=3, activation="linear", depth=3,
                         weight_std=sw, bias_std=sb, backend="lazy")
    x1, x2 = m.inputs
    assert abs(m.values[0] - sw**8 * (x1 @ x2)) < 4 * m.stderr[0], (m.values, m.stderr)
    net = dataclasses.replace(m.network, bias=True, first_bias=True, readout_bias=True)
    value, stderr = _mean(lazy.lazy_samples("f1 f2", net, m.inputs, 4000,
                                            jax.random.key(4), progress=False)[:, 0])
    k = sw**2 * (x1 @ x2) + sb**2
    for _ in range(3):
        k = sw**2 * k + sb**2
    assert abs(value - k) < 4 * stderr, (value, k, stderr)


def test_bad_inputs_are_clear_errors():
    net = Network(input_dim=4, width=4, depth=2)
    with pytest.raises(ValueError, match=r"shape \(2, 4\)"):
        lazy.lazy_samples("f1 f2", net, np.ones((3, 4)), 4, jax.random.key(0))
    with pytest.raises(ValueError, match="inits"):
        lazy.lazy_samples("f1 f2", net, np.ones((2, 4)), 0, jax.random.key(0))


def test_an_unknown_compiler_option_falls_back_to_none(monkeypatch):
    """The sampler's XLA flag is experimental: an XLA without it compiles with no options."""
    assert lazy.compiler_options() in ({}, lazy.COMPILER_OPTIONS)
    monkeypatch.setattr(lazy, "COMPILER_OPTIONS", {"xla_cpu_no_such_flag": ""})
    lazy.compiler_options.cache_clear()
    try:
        assert lazy.compiler_options() == {}
    finally:
        lazy.compiler_options.cache_clear()
