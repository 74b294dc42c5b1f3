"""Layer-to-layer recursions of the kernel, its 1/n correction and the four-point vertex.

Conventions (the suite's network, ``nets.py``). Hidden preactivations z_l (width n_l,
l = 1..d) and the output f = z_{d+1}:

    z_1 = s_w c U x [+ s_b b_0],   z_{l+1} = s_w n_l^{-1/2} W_l s(z_l) [+ s_b b_l],

all parameters iid N(0, 1). Given layer l, the n_{l+1} components of z_{l+1} are iid
centred Gaussians with the random covariance

    G^_{l+1}(a, b) = beta_{l+1} + (s_w^2 / n_l) sum_j s(z_{l;j,a}) s(z_{l;j,b}),

beta = s_b^2 where that layer has a bias, else 0. The book's (Roberts, Yaida & Hanin 2022,
ch. 4) C_W = s_w^2 and C_b = s_b^2 for every layer; its "first layer" is our U with
C_W^(1) = s_w^2 c^2 (c = D^{-1/2} with ``input_scaling``, else 1), its L = d + 1, and its
r = n_l / n_{l-1}. We expand in 1/n with n_l = n / r_l (``ratios`` r_l = n / n_l, all 1
for equal widths) and write every O(1/n) quantity as its coefficient of 1/n:

    E[G^_l(a,b)] = K_l(a,b) + K1_l(a,b) / n + O(n^-2),
    Cov(G^_l(a,b), G^_l(c,d)) = V_l(ab, cd) / n + O(n^-2),

so V_l here is the book's V^(l) times n / n_{l-1} (its four-point decomposition, sec. 4.3:
E[z z z z]_c = (1/n_{l-1}) (delta delta V + 2 perms)); our ``ratios`` n / n_l are not the
book's r. The single-neuron fourth cumulant of z_l is (V(12,34) + V(13,24)
+ V(14,23)) / n and distinct neurons share the cross term V(12,34) / n. Layer 1 is exactly
Gaussian: K_1 = s_w^2 c^2 x.x' [+ s_b^2], K1_1 = 0, V_1 = 0.

The Gaussian averages at K_l and their derivatives with respect to K_l (ordered entries,
K(a,b) and K(b,a) separately) come from ``gaussian``: Price's theorem and quadrature for
smooth activations, closed forms for ReLU (m <= 2 inputs).
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from ..nets import Network
from . import quadrature
from .gaussian import CLOSED, POLYNOMIAL_POINTS, SMOOTH, Averages, Rules, averages

MAX_INPUTS = 4


@dataclasses.dataclass(frozen=True)
class Moments:
    """The statistics of one layer's preactivations on m inputs (coefficients of 1/n).

    Attributes:
      K: (m, m) infinite-width kernel.
      K1: (m, m) the 1/n coefficient of E[z_a z_b] (one component).
      V: (m, m, m, m) the 1/n coefficient of Cov(G^(a,b), G^(c,d)), the four-point vertex.
    """

    K: jax.Array
    K1: jax.Array
    V: jax.Array


jax.tree_util.register_dataclass(Moments, data_fields=["K", "K1", "V"], meta_fields=[])


def step(name: str, prev: Moments, r: jax.Array, sw2: float, beta: jax.Array,
         axes: Rules = None) -> Moments:
    """One layer, l -> l + 1, to O(1/n), with r = n / n_l and beta the new bias variance
    (``update`` at the averages of ``gaussian``; ``axes`` from ``quadrature.choose``)."""
    return update(averages(name, prev.K, axes=axes), prev, r, sw2, beta)


def update(g: Averages, prev: Moments, r: jax.Array, sw2: float, beta: jax.Array
           ) -> Moments:
    """One layer from the Gaussian averages ``g`` at K_l (d0, h0: the first and second
    derivatives of <s_a s_b>_K; xx = <s_a s_b s_c s_d>_K):

        K_{l+1} = beta + s_w^2 <s_a s_b>_K,
        K1_{l+1} = s_w^2 [ sum_{cd} d<s_a s_b>/dK(c,d) K1(c,d)
                           + (1/2) sum d^2<s_a s_b>/dK(c1,c2)dK(c3,c4) V(c1c2, c3c4) ],
        V_{l+1}(ab, cd) = s_w^4 [ r (<s_a s_b s_c s_d>_K - <s_a s_b>_K <s_c s_d>_K)
                                 + sum D(ab, ef) D(cd, gh) V(ef, gh) ],

    D(ab, ef) = d<s_a s_b>/dK(e,f). Derivation: E[s_a s_b] over the nearly Gaussian single
    neuron of layer l is, given layer l - 1, the Gaussian average <s_a s_b>_G at the random
    kernel G = G^_l; expanding it to second order around K with E[G] - K = K1 / n and
    Cov(G) = V / n gives K1 (the book's recursion for K^{1}, sec. 4.5, after Gaussian
    integration by parts). Cov(G^_{l+1}) is the sum of (s_w^4 / n_l) times the
    single-neuron covariance of s_a s_b and s_c s_d (to leading order the Gaussian one) and
    s_w^4 times the covariance of two distinct neurons, which only the shared G couples: to
    leading order D V D (the book's recursion for V, sec. 4.3). Section numbers are given
    instead of equation numbers, which were not checked here.
    """
    a = g.a0
    k = beta + sw2 * a
    k1 = sw2 * (jnp.einsum("abef,ef->ab", g.d0, prev.K1)
                + 0.5 * jnp.einsum("abefgh,efgh->ab", g.h0, prev.V))
    source = g.xx - a[:, :, None, None] * a[None, None, :, :]
    v = sw2**2 * (r * source + jnp.einsum("abef,cdgh,efgh->abcd", g.d0, g.d0, prev.V))
    return Moments(k, k1, v)


def check(net: Network, x: ArrayLike, ratios: ArrayLike | None = None
          ) -> tuple[np.ndarray, np.ndarray]:
    """Validate the network and inputs; the inputs (m, D) and ratios r_l = n / n_l (d,)."""
    if net.activation not in SMOOTH and net.activation not in CLOSED:
        raise ValueError(f"the 1/n recursions need an activation with five smooth "
                         f"derivatives ({', '.join(SMOOTH)}) or closed forms "
                         f"({', '.join(CLOSED)}); got {net.activation!r}.")
    if net.init != "gaussian":
        raise ValueError("the 1/n recursions assume Gaussian parameters (init='gaussian'); "
                         f"sign weights add fourth-cumulant terms, got init={net.init!r}.")
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != net.input_dim or not 1 <= x.shape[0] <= MAX_INPUTS:
        raise ValueError(f"inputs must have shape (m, {net.input_dim}) with 1 <= m <= "
                         f"{MAX_INPUTS}; got {x.shape}.")
    if net.activation in CLOSED:
        _check_closed(net, x)
    widths = np.asarray(net.widths, dtype=np.float64)
    r = widths[0] / widths if ratios is None else np.asarray(ratios, dtype=np.float64)
    if r.shape != (net.depth,) or not np.all(r > 0):
        raise ValueError(f"ratios must be {net.depth} positive numbers n / n_l, got {r}.")
    return x, r


def _check_closed(net: Network, x: np.ndarray) -> None:
    """ReLU's closed forms: at most ``CLOSED`` inputs, no two of them parallel."""
    most = CLOSED[net.activation]
    if x.shape[0] > most:
        raise ValueError(f"{net.activation}'s 1/n recursions use 2-D closed forms and take at "
                         f"most {most} distinct inputs; got {x.shape[0]}.")
    k = input_kernel(net, x[None])[0]
    diag = np.sqrt(np.diagonal(k))
    if np.any(diag == 0):
        raise ValueError(f"{net.activation}'s 1/n recursions need nonzero inputs (or biases).")
    cos = k / np.outer(diag, diag)
    if x.shape[0] == 2 and abs(cos[0, 1]) > 1 - 1e-9:
        raise ValueError(f"{net.activation}'s 1/n recursions need inputs that are not "
                         "parallel (the arc-cosine kernel is not differentiable at "
                         "correlation +-1); for x_1 = x_2 pass the input once.")


def output_moments(net: Network, x: ArrayLike, ratios: ArrayLike | None = None) -> Moments:
    """K, K1 and V of the output f = z_{d+1} on the m <= 4 inputs ``x`` (m, D), in float64.

    1/n is the first hidden width's unless ``ratios`` (r_l = n / n_l) says otherwise; the
    width of ``net`` enters only through these ratios. Every Gaussian average is computed
    on the rule of the inputs it involves (``gaussian.four_moments``), so K and K1 equal
    those of ``pair_output_moments`` (each pair's own recursion) to ~2e-13 and the V
    entries of four distinct inputs carry the 4-D rule's error (below 1e-8, ``quadrature``).
    Each layer's rules are chosen from its kernel (``quadrature.choose``).
    """
    x, r = check(net, x, ratios)
    return jax.tree.map(lambda a: a[0], _run(net, x[None], r))


def pair_output_moments(net: Network, x: ArrayLike, ratios: ArrayLike | None = None
                        ) -> Moments:
    """The moments of every pair (x_a, x_b) of the m inputs by its own 2-input recursion,
    batched over the pairs a <= b: K, K1 (m, m, 2, 2) and V (m, m, 2, 2, 2, 2), pair axes
    first (the (b, a) entry holds the (a, b) recursion)."""
    x, r = check(net, x, ratios)
    if net.activation in CLOSED:
        raise ValueError(f"{net.activation}'s closed forms need distinct, non-parallel inputs; "
                         "the pair recursion repeats each input: use output_moments.")
    m = x.shape[0]
    a, b = np.triu_indices(m)
    index = np.zeros((m, m), dtype=int)
    index[a, b] = index[b, a] = np.arange(len(a))
    moments = _run(net, np.stack([x[a], x[b]], 1), r)
    return jax.tree.map(lambda v: v[index], moments)


def scales(net: Network) -> tuple[float, np.ndarray]:
    """s_w^2 and the bias variance beta_{l+1} added by each of the d steps (the book's
    C_W and C_b^(l+1); 0 where that layer has no bias)."""
    hidden = net.bias_std**2 if net.bias else 0.0
    out = net.bias_std**2 if net.readout_bias else 0.0
    return net.weight_std**2, np.array([hidden] * (net.depth - 1) + [out])


def input_kernel(net: Network, xs: np.ndarray) -> np.ndarray:
    """K_1 = s_w^2 c^2 x.x' [+ s_b^2] for a batch of input sets ``xs`` (B, m, D): the exact
    first-layer kernel, also its NTK (the first layer's parameters have unit variance)."""
    first = net.bias_std**2 if net.first_bias else 0.0
    c2 = 1.0 / net.input_dim if net.input_scaling else 1.0
    return net.weight_std**2 * c2 * np.einsum("bmi,bni->bmn", xs, xs) + first


def _run(net: Network, xs: np.ndarray, r: np.ndarray) -> Moments:
    """The recursion for a batch of input sets ``xs`` (B, m, D)."""
    sw2, beta = scales(net)
    with jax.enable_x64(True):
        k = jnp.asarray(input_kernel(net, xs))
        moments = Moments(k, jnp.zeros_like(k), jnp.zeros(k.shape + k.shape[1:], k.dtype))
        for layer in range(net.depth):
            axes = rules(net.activation, moments.K)
            moments = _step(net.activation, axes, moments, r[layer], sw2, beta[layer])
        return moments


def rules(name: str, k: jax.Array) -> Rules:
    """The quadrature rules of ``name`` for a batch of kernels (B, m, m):
    ``quadrature.choose`` (it reads the kernels on the host, once per layer); None where
    the averages do not depend on them (closed forms, polynomials)."""
    if name in CLOSED or name in POLYNOMIAL_POINTS:
        return None
    return quadrature.choose(np.asarray(k))


def _batched(name: str, axes: Rules, prev: Moments, r: jax.Array, sw2: float,
             beta: jax.Array) -> Moments:
    return jax.vmap(lambda p: step(name, p, r, sw2, beta, axes))(prev)


#: ``step`` batched over input sets, compiled once per activation, rules, batch size and
#: number of inputs (any depth, widths and scales).
_step = jax.jit(_batched, static_argnums=(0, 1))
