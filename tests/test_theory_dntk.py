"""The dNTK recursion (``widenets_nb.theory.dntk``, Table 1 row 4) against independent
computations: the exact deep-linear engine, closed-form Gaussian integrals of sin/cos, and
Monte Carlo of ``f1_a f2_b f3_ab f4`` sampled by ``correlators.estimate`` (gradients and
Hessian-vector products of the suite's network, no code shared with the recursion)."""

import argparse
import itertools
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from widenets_nb.correlators.estimate import default_inputs, sample_integrands
from widenets_nb.diagrams.exact import exact
from widenets_nb.nets import Network
from widenets_nb.theory import cli
from widenets_nb.theory.dntk import dntk_moments
from widenets_nb.theory.statistics import STATISTICS, dntk, for_correlator

X = default_inputs(4, 4)
ROW4 = "f1_a f2_b f3_ab f4"


def _relative(a: float, b: float) -> float:
    return abs(a - b) / abs(b)


@pytest.mark.parametrize("bias", [False, True])
def test_linear_matches_exact_engine(bias):
    """Linear networks: E_inf = 0 and the 1/n coefficient equal the diagrams engine's (Wick
    matchings, no code shared) at d = 1..5 to 1e-10 relative."""
    for depth in range(1, 6):
        want = exact(ROW4, depth, bias=bias).coefficients(X.tolist())
        assert 0 not in want  # leading order n^-1 (Table 1)
        p = dntk(Network(input_dim=4, depth=depth, activation="linear", bias=bias), X)
        assert float(p.infinite_width) == 0.0
        assert _relative(float(p.coefficient_1_over_n), want[-1]) < 1e-10


def test_linear_per_layer_widths():
    """A linear network without biases has Theta_l = l K, Q_{l+1}(ad; bc) = K_ad K_bc
    sum_{k<=l} k r_k and P1_{l+1} = P1_l + r_l l K_ad K_bc + Q_l(ad; bc) (eq. D5 with
    s'' = 0, P2 = 0), so the coefficient is (K_13 K_24 + K_14 K_23) sum_k r_k k (d - k + 1);
    equal widths give the engine's d (d + 1) (d + 2) / 6 times the d = 1 value. Every
    derivative of f scales as s_w^(d + 1) (unit-variance parameters): the coefficient as
    s_w^(4 (d + 1))."""
    one = exact(ROW4, 1).coefficients(X.tolist())[-1]
    ratios = (0.5, 2.0, 1.25)
    p = dntk(Network(input_dim=4, depth=3, activation="linear"), X, ratios)
    weights = sum(r * k * (3 - k + 1) for k, r in enumerate(ratios, 1))
    assert _relative(float(p.coefficient_1_over_n), one * weights) < 1e-10
    scaled = dntk(Network(input_dim=4, depth=3, activation="linear", weight_std=1.3), X)
    assert _relative(float(scaled.coefficient_1_over_n), one * 10 * 1.3**16) < 1e-10


def _trig_average(k: np.ndarray, factors: list[tuple[int, int]]) -> float:
    """E[prod s^(i)(z_a)] for s = sin, z ~ N(0, k), factors (a, i): s^(i) is sin, cos,
    -sin, -cos for i = 0..3 mod 4, each a sum of exp(+-i z) / 2 (sin: / i), and
    E[exp(i t.z)] = exp(-t.k.t / 2)."""
    total = 0.0
    for signs in itertools.product((1, -1), repeat=len(factors)):
        t, coefficient = np.zeros(len(k)), 1.0 + 0j
        for (a, i), sign in zip(factors, signs, strict=True):
            t[a] += sign
            coefficient *= (1 if i % 2 else sign / 1j) * (-1 if i % 4 >= 2 else 1) / 2
        total += coefficient * np.exp(-t @ k @ t / 2)
    return float(np.real(total))


def test_sin_depth_one_closed_form():
    """One hidden layer: E[R(a; b, c) f_d] = (1/n) [<s_a s'_b s'_c s_d> K_bc + <s'_a s'_b s_c
    s_d> K_ab + 3 <s'_a s''_b s'_c s_d> K_ab K_bc] exactly (neurons iid, E[v^4] = 3); for
    sin every average is a closed form. (a, b, c, d) = (x_1, x_3, x_2, x_4); 1e-9 relative."""
    k = X @ X.T
    a, b, c, d = 0, 2, 1, 3
    want = (_trig_average(k, [(a, 0), (b, 1), (c, 1), (d, 0)]) * k[b, c]
            + _trig_average(k, [(a, 1), (b, 1), (c, 0), (d, 0)]) * k[a, b]
            + 3 * _trig_average(k, [(a, 1), (b, 2), (c, 1), (d, 0)]) * k[a, b] * k[b, c])
    p = dntk(Network(input_dim=4, depth=1, activation="sin"), X)
    assert _relative(float(p.coefficient_1_over_n), want) < 1e-9


def _scaled_samples(activation: str, depth: int, width: int, inits: int, seed: int
                    ) -> tuple[float, float]:
    """n E_MC(n) and its standard error (``sample_integrands``, explicit seed)."""
    net = Network(input_dim=4, width=width, depth=depth, activation=activation)
    s = sample_integrands([ROW4], net, X, inits, seed=seed, progress=False)[:, 0]
    return width * s.mean(), width * s.std(ddof=1) / np.sqrt(inits)


@pytest.mark.parametrize("activation", ["tanh", "gelu"])
def test_depth_one_against_monte_carlo(activation):
    """One hidden layer without biases: E = c_1 / n exactly (previous test), so n E_MC at
    n = 4 (10000 networks) agrees with c_1 within 4 SE, and c_1 is resolved (> 10 SE)."""
    c1 = float(dntk(Network(input_dim=4, depth=1, activation=activation), X)
               .coefficient_1_over_n)
    y, se = _scaled_samples(activation, 1, 4, 10_000, seed=5)
    assert abs(y - c1) < 4 * se
    assert abs(c1) > 10 * se


def test_tanh_depth_two_against_monte_carlo():
    """Depth-2 tanh: n E_MC(n) at n = 8 and 16 (10000 networks each) extrapolated by
    c_1 + c_2 / n agrees with the predicted c_1 = 0.187 within 4 SE (~0.016). The full
    check (widths 8..32, depths 1-3, tanh and gelu, every term P1, P2, P3 separately) is
    in benchmarks/theory_checks.py."""
    c1 = float(dntk(Network(input_dim=4, depth=2, activation="tanh"), X).coefficient_1_over_n)
    (y8, s8), (y16, s16) = (_scaled_samples("tanh", 2, n, 10_000, seed=6) for n in (8, 16))
    extrapolated, se = 2 * y16 - y8, np.hypot(2 * s16, s8)
    assert abs(extrapolated - c1) < 4 * se
    assert se < 0.1 * c1


def _pairings(net: Network, keys: jax.Array) -> jax.Array:
    """Per network, E over the two output orders of R^{iik} f_k, R^{iki} f_k, R^{ikk} f_i
    (i != k outputs; (a, b, c, d) = (x_1, x_3, x_2, x_4)): P1, P2, P3 of eq. (D2) times 1/n,
    by gradients and a Hessian-vector product of ``net.apply``."""
    x = jnp.asarray(X)

    def f(p, row, i):
        return net.apply(p, x[row])[i]

    def r(p, i, j, k):
        grad_i, grad_k = jax.grad(f)(p, 0, i), jax.grad(f)(p, 1, k)
        hvp = jax.jvp(lambda q: jax.grad(f)(q, 2, j), (p,), (grad_k,))[1]
        return sum(jnp.vdot(grad_i[name], hvp[name]) for name in hvp)

    def one(key):
        p = net.sample(key)
        z = (f(p, 3, 0), f(p, 3, 1))
        return jnp.stack([(r(p, 0, 0, 1) * z[1] + r(p, 1, 1, 0) * z[0]) / 2,
                          (r(p, 0, 1, 0) * z[1] + r(p, 1, 0, 1) * z[0]) / 2,
                          (r(p, 0, 1, 1) * z[0] + r(p, 1, 0, 0) * z[1]) / 2])

    return jax.jit(jax.vmap(one))(keys)


def test_gelu_pairings_against_monte_carlo():
    """Depth-2 gelu with two outputs: each Wick pairing of (D2) separately (P1, P2 = 0.072
    with its NTK-NTK term P(ab; cb), P3), n E_MC at n = 16 and 32 (8000 networks each)
    extrapolated by c_1 + c_2 / n, within 4 SE of the recursion; P2 resolved (> 4 SE)."""
    m = dntk_moments(Network(input_dim=4, depth=2, activation="gelu"), X)
    a, b, c, d = 0, 2, 1, 3
    want = np.array([m.P1[a, b, c, d], m.P2[a, b, c, d], m.P1[c, b, a, d]])
    y, se = {}, {}
    for n in (16, 32):
        net = Network(input_dim=4, width=n, depth=2, activation="gelu", outputs=2)
        s = np.asarray(_pairings(net, jax.random.split(jax.random.key(n), 8000)))
        y[n], se[n] = n * s.mean(0), n * s.std(0, ddof=1) / np.sqrt(len(s))
    extrapolated, error = 2 * y[32] - y[16], np.hypot(2 * se[32], se[16])
    assert np.all(np.abs(extrapolated - want) < 4 * error)
    assert abs(want[1]) > 4 * error[1]


def test_registry_and_cli():
    """``dntk`` is Table 1 row 4 in the registry and the CLI prints its JSON; ``ddntk``
    and ReLU exit with a one-line reason."""
    assert for_correlator("table1.row4") == "dntk" and STATISTICS["dntk"][1] == ROW4
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["theory", "dntk", "--activation", "linear", "--depth", "3",
                              "--bias"])
    out = json.loads(json.dumps(args.run(args)))
    want = exact(ROW4, 3, bias=True).coefficients(out["inputs"])
    assert {"statistic", "activation", "depth", "infinite_width", "coefficient_1_over_n",
            "method"} <= set(out)
    assert out["infinite_width"] == 0.0
    assert _relative(out["coefficient_1_over_n"], want[-1]) < 1e-10
    for argv, message in ((["theory", "ddntk"], "not covered"),
                          (["theory", "dntk", "--activation", "relu"], "delta"),
                          (["theory", "dntk", "--inputs", "[[1, 2], [3, 4]]"],
                           "4 input vectors")):
        args = parser.parse_args(argv)
        with pytest.raises(ValueError, match=message) as err:
            args.run(args)
        assert "\n" not in str(err.value)
