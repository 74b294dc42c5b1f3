"""Exact deep-linear correlators against an independent numpy Monte Carlo.

The brute force below writes the derivative tensors of a deep linear network out by hand
(no autodiff, no diagrams): f = sum_s n^{-(d-s)/2} V^T W_{d-1} ... W_{s+1} beta_s with
beta_0 = U x and beta_s = b_s (eq. 26); a derivative with respect to an entry (p, q) of one
layer cuts the matrix chain there into a row vector ending in p and a column vector
starting at q. Each summed letter is expanded over the layer type it acts on, and the
resulting products of chain pieces are contracted with ``np.einsum``.
"""

import itertools
from fractions import Fraction

import jax
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

from widenets_nb.correlators import NAMED, parse
from widenets_nb.diagrams import exact_correlator
from widenets_nb.diagrams.exact import exact_variance
from widenets_nb.nets import Network

TABLE_ROWS = [NAMED[f"table1.row{i}"] for i in range(1, 7)]


def sample_params(depth, width, input_dim, bias, count, rng):
    """``count`` draws of every parameter, iid N(0, 1), in the layout of ``Network``."""
    net = Network(input_dim=input_dim, width=width, depth=depth, activation="linear",
                  bias=bias)
    return {name: rng.standard_normal((count, *shape)) for name, shape in net.shapes().items()}


def _chain(depth, bias):
    """Per term s: the chain of layer types from its source (U or b_s) up to V."""
    starts = range(depth) if bias else range(1)
    return [["U" if s == 0 else f"b{s}"] + [f"W{l}" for l in range(s + 1, depth)] + ["V"]
            for s in starts]


def _matrix(params, t):
    """The raw layer as the matrix it multiplies by (batch first): W_l, or V^T."""
    return params["V"].transpose(0, 2, 1) if t == "V" else params[t]


def _product(params, types):
    """M_{types[-1]} ... M_{types[0]} as a (count, rows, cols) array, or None if empty."""
    out = None
    for t in types:
        m = _matrix(params, t)
        out = m if out is None else m @ out
    return out


def factor_terms(params, x, depth, bias, derivs, n, labels):
    """The derivative tensor of one factor as a list of einsum operand lists.

    ``derivs`` maps each letter of the factor to its layer type; ``labels[letter]`` gives
    the integer einsum labels (p, q) of that letter. Each term is a list of
    (array, labels) pairs whose contraction (over the batch axis 0) is one term s of
    eq. 26 differentiated by ``derivs``.
    """
    count = params["V"].shape[0]
    terms = []
    for chain in _chain(depth, bias):
        types = list(derivs.values())
        if any(t not in chain for t in types) or len(set(types)) != len(types):
            continue
        cut = sorted((chain.index(t), letter) for letter, t in derivs.items())
        ops = []
        below = 0  # chain position of the first not yet used element
        down = None  # label of the column index that the piece below must end on
        for position, letter in cut:
            t = chain[position]
            p, q = labels[letter]
            # the piece strictly between the previous cut (or the source) and this one
            source = (np.einsum("bij,j->bi", params["U"], x) if chain[0] == "U"
                      else params[chain[0]]) if below == 0 else None
            middle = _product(params, chain[max(below, 1):position])
            if below == 0 and position > 0:
                vec = source if middle is None else np.einsum("bij,bj->bi", middle, source)
                ops.append((vec, [0, q if t != "V" else p]))
            elif below > 0:
                eye = np.broadcast_to(np.eye(n), (count, n, n))
                mat = eye if middle is None else middle
                ops.append((mat, [0, q if t != "V" else p, down]))
            if t == "U":
                ops.append((np.broadcast_to(x, (count, len(x))), [0, q]))
            down = p
            below = position + 1
        top = _product(params, chain[max(below, 1):])
        if below == 0:  # no derivative: the value of the term itself
            source = (np.einsum("bij,j->bi", params["U"], x) if chain[0] == "U"
                      else params[chain[0]])
            ops.append((np.einsum("bij,bj->bi", top, source)[:, 0], [0]))
        elif top is not None:
            ops.append((top[:, 0, :], [0, down]))
        scale = n ** (-(len(chain) - 1) / 2)
        terms.append((scale, ops))
    return terms


def integrand(c, params, xs, depth, bias, n):
    """sum over all parameters of prod_a T(x_a): one value per parameter draw."""
    letters = [letter for letter, _ in c.contractions]
    labels = {letter: (1 + 2 * i, 2 + 2 * i) for i, letter in enumerate(letters)}
    types = ["U", *[f"W{l}" for l in range(1, depth)], "V"]
    if bias:
        types += [f"b{l}" for l in range(1, depth)]
    row = {k: xs[i] for i, k in enumerate(c.inputs)}
    count = params["V"].shape[0]
    total = np.zeros(count)
    for assignment in itertools.product(types, repeat=len(letters)):
        where = dict(zip(letters, assignment, strict=True))
        per_factor = [factor_terms(params, row[f.input], depth, bias,
                                   {letter: where[letter] for letter in f.indices}, n, labels)
                      for f in c.factors]
        for choice in itertools.product(*per_factor):
            scale = np.prod([s for s, _ in choice])
            args = [a for _, ops in choice for op in ops for a in op]
            total += scale * np.einsum(*args, [0], optimize=True)
    return total


def integrand_samples(c, depth, bias, n, xs, count, seed):
    rng = np.random.default_rng(seed)
    samples = []
    for _ in range(count // 5000):
        params = sample_params(depth, n, xs.shape[1], bias, 5000, rng)
        samples.append(integrand(c, params, xs, depth, bias, n))
    return np.concatenate(samples)


def monte_carlo(c, depth, bias, n, xs, count, seed):
    samples = integrand_samples(c, depth, bias, n, xs, count, seed)
    return samples.mean(), samples.std(ddof=1) / np.sqrt(samples.size)


def test_brute_force_matches_autodiff_of_the_network():
    # The hand-written derivative formulas agree with jax derivatives of Network.apply.
    depth, n, bias = 3, 3, True
    net = Network(input_dim=2, width=n, depth=depth, activation="linear", bias=bias)
    params = net.sample(jax.random.key(0))
    batch = {k: np.asarray(v)[None] for k, v in params.items()}
    xs = np.array([[0.3, -1.2], [0.8, 0.5]])
    flat, unravel = ravel_pytree(params)
    for spec in ("f1 f2", "f1_a f2_a", "f1_a f2_b f1_ab f2"):
        c = parse(spec)
        value = integrand(c, batch, xs, depth, bias, n)[0]
        tensors = []
        for f in c.factors:
            def fn(theta, x=xs[f.input - 1]):
                return net.scalar(unravel(theta), x)
            for _ in f.indices:
                fn = jax.jacfwd(fn)
            tensors.append(np.asarray(fn(flat)))
        subs = ",".join("".join(f.indices) for f in c.factors) + "->"
        assert value == pytest.approx(float(np.einsum(subs, *tensors)), rel=1e-10)


@pytest.mark.parametrize("depth,n", [(1, 2), (2, 2), (3, 2), (3, 3)])
@pytest.mark.parametrize("spec", TABLE_ROWS)
def test_table_rows_against_monte_carlo(spec, depth, n):
    # Small widths make the 1/n corrections large, so agreement within 4 standard errors
    # checks the subleading coefficients, not only the infinite-width value.
    c = parse(spec)
    xs = np.random.default_rng(1).uniform(size=(len(c.inputs), 2)) + 0.3
    exact = exact_correlator(c, depth)
    mean, stderr = monte_carlo(c, depth, False, n, xs, 20000, seed=depth + 10 * n)
    value = exact.value(xs, n)
    assert abs(value - mean) <= 4 * stderr, (value, mean, stderr)
    coefficients = exact.coefficients(xs)
    if not coefficients:  # row 5 at d = 1: every sample is exactly zero
        assert value == 0.0 and mean == 0.0
        return
    assert stderr < 0.2 * abs(value)  # a resolved value, not noise around zero
    leading = coefficients[exact.tight_exponent] * n ** exact.tight_exponent
    if len(coefficients) > 1:  # the 1/n corrections themselves are resolved
        assert abs(value - leading) > 4 * stderr


@pytest.mark.parametrize("spec", ["f1 f2 f3 f4", "f1_a f2_a", "f1_a f2_b f3_ab f4"])
def test_biased_network_against_monte_carlo(spec):
    c = parse(spec)
    xs = np.random.default_rng(2).uniform(size=(len(c.inputs), 2)) + 0.3
    depth, n = 3, 2
    exact = exact_correlator(c, depth, bias=True)
    mean, stderr = monte_carlo(c, depth, True, n, xs, 20000, seed=7)
    value = exact.value(xs, n)
    assert abs(value - mean) < 4 * stderr, (value, mean, stderr)
    assert abs(value - exact_correlator(c, depth).value(xs, n)) > 4 * stderr


@pytest.mark.parametrize("depth", [1, 2, 4, 6])
def test_two_point_function_is_the_dot_product_at_every_width(depth):
    x = [[1, 2, -3], [Fraction(1, 2), 5, 7]]
    for bias in (False, True):
        e = exact_correlator("f1 f2", depth, bias=bias)
        coefficients = e.coefficients(x)
        dot = Fraction(1, 2) + 10 - 21
        if not bias or depth == 1:
            assert coefficients == {0: dot}
        else:
            # each bias adds one single-line diagram: b_s feeds d - s layers
            assert coefficients == {0: dot + depth - 1}


@pytest.mark.parametrize("row,depth", [(1, 1), (3, 2), (3, 3), (4, 1)])
def test_variances_against_monte_carlo(row, depth):
    # Table 3: Var over initializations of the integrand, E[I^2] - E[I]^2, at n = 2
    c = parse(NAMED[f"table3.row{row}"])
    xs = np.random.default_rng(3).uniform(size=(len(c.inputs), 2)) + 0.3
    n = 2
    samples = integrand_samples(c, depth, False, n, xs, 40000, seed=row + depth)
    centred = (samples - samples.mean()) ** 2
    stderr = centred.std(ddof=1) / np.sqrt(samples.size)
    value = exact_variance(c, depth).value(xs, n)
    assert abs(value - samples.var(ddof=1)) < 4 * stderr, (value, samples.var(), stderr)
    assert stderr < 0.25 * value


def test_ntk_variance_by_hand():
    # d = 1: Theta = (1/n) sum_i [v_i^2 x1.x2 + (u_i.x1)(u_i.x2)], a mean of n iid terms, so
    # Var = (2 (x1.x2)^2 + |x1|^2 |x2|^2 + (x1.x2)^2) / n; the bound of Lemma 6 is n^0.
    x1, x2 = [1, 2, 0], [3, -1, 1]
    dot, s1, s2 = 1, 5, 11
    v = exact_variance("var:f1_a f2_a", 1)
    assert v.coefficients([x1, x2]) == {-1: s1 * s2 + 3 * dot**2}
    assert v.conjecture_exponent == 0 and v.tight_exponent == -1
