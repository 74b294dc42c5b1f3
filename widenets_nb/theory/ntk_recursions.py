"""Layer recursions of the NTK at initialization: its mean to O(1/n) and its variance.

Conventions: those of ``recursions`` (the suite's network, ``nets.py``, all parameters
N(0, 1), f = z_{d+1}). The NTK of layer l sums over every parameter of layers <= l:

    Th_l^{ij}(a, b) = sum_mu d z_{l;i}(x_a) / d mu  d z_{l;j}(x_b) / d mu,
    Th_1^{ij} = delta_ij K_1,
    Th_{l+1}^{ij}(a, b) = delta_ij G^_{l+1}(a, b) + sum_{kk'} w_ik w_jk' psi_kk'(a, b),
    psi_kk'(a, b) = s'(z_{l;k,a}) s'(z_{l;k',b}) Th_l^{kk'}(a, b),

w_ik = s_w n_l^{-1/2} W_l[i, k] (variance s_w^2 / n_l), the first term from the
derivatives with respect to W_l and b_l themselves. This is the book's NTK forward
equation (Roberts, Yaida & Hanin 2022, ch. 8, sec. 8.0) with its learning-rate
tensor lambda_W = C_W = s_w^2 and lambda_b = C_b = s_b^2 (0 without biases), its
lambda_W^(1) = C_W^(1) = s_w^2 c^2: in the NTK parameterization with unit-variance
parameters the lambda terms are exactly the kernel, so Th_{l+1} = K_{l+1} + s_w^2
<s'_a s'_b> Th_l at infinite width (book sec. 8.3's frozen NTK recursion).

Derivation (in our own variables; equation numbers of the book were not checked). Given
layer l - 1, a neuron k of layer l has z_k = w_k . phi (+ bias), exactly Gaussian with
covariance G^_l, and Th_l^{kk} = T_l + eps_k with the conditional mean
T_l(a, b) = G^_l(a, b) + (s_w^2 / n_{l-1}) sum_j psi_jj(a, b). Gaussian integration by parts
in w_k gives, for any F,

    E[F(z_k) Th_l^{kk}(a, b) | l - 1] = <F>_G^ T_l(a, b) + sum_{cd} <d_c d_d F>_G^ Q^_l(cd; ab),
    Q^_l(cd; ab) = (s_w^4 / n_{l-1}^2) sum_{jj'} phi_j(c) phi_j'(d) psi_jj'(a, b),

and, for k != k' (conditionally independent rows w_k, w_k'),
E[F(z_k) Th^{kk'}(a, b) G(z_k')] = sum_{ef} <d_e F> <d_f G> Q^_l(ef; ab). Expanding every
Gaussian average at the random G^_l around K_l (``gaussian``) to O(1/n) closes the
recursion on the coefficients of 1/n (n = the first hidden width, r_l = n / n_l, not the
book's r = n_l / n_{l-1}; see ``recursions``)

    E[T_l(a,b)]            = Th_l(a,b) + Th1_l(a,b) / n          (the NTK mean),
    Cov(G^_l(e,f), T_l(a,b)) = C_l(ef; ab) / n     (the role of the book's D, F),
    E[Q^_l(cd; ab)]        = Q_l(cd; ab) / n,
    Cov(T_l(a,b), T_l(c,d)) = A_l(ab; cd) / n       (the role of the book's A),
    E[(s_w^4/n_{l-1}^2) sum_{jj'} psi_jj'(a,b) psi_jj'(c,d)] = P_l(ab; cd) / n  (of its B),

with (s = <s'_a s'_b>_K, D^(ij)(ab; ef) = d<s^(i)_a s^(j)_b>_K / dK(e,f),
J(ab; ef) = D^(00)(ab; ef) + Th(ab) D^(11)(ab; ef), E1(c, a; e) = <d_e (s_c s'_a)>_K,
X_ab = s_a s_b, Y_ab = s'_a s'_b, everything at layer l on the right):

    Th_{l+1}  = K_{l+1} + s_w^2 s Th_l,
    Th1_{l+1} = K1_{l+1} + s_w^2 [ s Th1 + Th (D^(11) K1 + (1/2) D^(11)' V)
                                   + sum_ef D^(11)(ab; ef) (C(ef; ab) + 2 Q(ef; ab)) ],
    C_{l+1}(cd; ab) = s_w^4 [ r Cov_K(X_cd, X_ab + Th_ab Y_ab) + D^(00) J V + D^(00) s C ],
    Q_{l+1}(cd; ab) = s_w^4 [ r Th_ab <s_c s_d s'_a s'_b> + sum_ef E1(c,a;e) E1(d,b;f) Q(ef; ab) ],
    A_{l+1}(ab; cd) = s_w^4 [ r Cov_K(X_ab + Th_ab Y_ab, X_cd + Th_cd Y_cd) + J J V
                              + J(ab) s_cd C(.; cd) + s_ab J(cd) C(.; ab) + s_ab s_cd A ],
    P_{l+1}(ab; cd) = s_w^4 [ r Th_ab Th_cd <s'_a s'_b s'_c s'_d> + s_ac s_bd P(ab; cd) ],

(D^(11)' V: the second derivative of <s'_a s'_b> contracted with V, as for K1), all zero
at layer 1 (exactly Gaussian, Th_1 = K_1). The output f = z_{d+1} is one neuron of layer
d + 1, so E[Th(a,b)] = Th_{d+1} + Th1_{d+1} / n and, since Var(w^T M w) =
(s_w^2 / n_d)^2 (|M|_F^2 + tr M^2) for the readout w and psi_jj'(c,d) = psi_j'j(d,c),

    Var Th(a, b) = (A_{d+1}(ab; ab) + P_{d+1}(ab; ab) + P_{d+1}(ab; ba)) / n + O(n^-2).

The tensors C, A, P are normalized as coefficients of 1/n of our own covariances; the
book's D, F, A, B (sec. 8.3) carry factors n_{l-1} and split by neuron-index structure
instead, so only the resulting NTK mean and variance are compared (the checks: linear
networks against the exact diagrams engine, ReLU at depth 1 against a closed form, tanh,
gelu, erf and ReLU against Monte Carlo). The averages come from ``gaussian``: for smooth
activations they need s up to its fifth derivative and each four-point one uses the rule
of the inputs it involves (``gaussian.four_moments``; 2-D for one pair of inputs); ReLU
has closed forms (m <= 2).
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from ..nets import Network
from .gaussian import Rules, averages
from .recursions import Moments, check, input_kernel, rules, scales, update


@dataclasses.dataclass(frozen=True)
class TangentMoments:
    """The kernel and NTK statistics of one layer on m inputs (coefficients of 1/n; see
    the module docstring for each definition).

    Attributes:
      kernel: K, K1, V of ``recursions``.
      Theta, Theta1: (m, m) the NTK mean and its 1/n coefficient.
      C, Q, A, P: (m, m, m, m) the NTK-preactivation and NTK-NTK statistics.
    """

    kernel: Moments
    Theta: jax.Array
    Theta1: jax.Array
    C: jax.Array
    Q: jax.Array
    A: jax.Array
    P: jax.Array


jax.tree_util.register_dataclass(
    TangentMoments, data_fields=["kernel", "Theta", "Theta1", "C", "Q", "A", "P"],
    meta_fields=[])


def step(name: str, prev: TangentMoments, r: jax.Array, sw2: float, beta: jax.Array,
         axes: Rules = None) -> TangentMoments:
    """One layer, l -> l + 1 (the recursions of the module docstring; ``axes`` from
    ``quadrature.choose``, None for the default rules)."""
    km = prev.kernel
    g = averages(name, km.K, tangent=True, axes=axes)
    kernel = update(g, km, r, sw2, beta)
    th = prev.Theta
    a0, s, d0, d1, xx, xy, yy = g.a0, g.s, g.d0, g.d1, g.xx, g.xy, g.yy
    jac = d0 + th[:, :, None, None] * d1
    eye = jnp.eye(th.shape[0], dtype=th.dtype)
    # E1[c, a, e] = <d_e (s_c s'_a)> = d_ec <s'_c s'_a> + d_ea <s_c s''_a>
    e1 = eye.T[:, None, :] * s[:, :, None] + eye[None, :, :] * g.p02[:, :, None]

    theta = kernel.K + sw2 * s * th
    mean_s = (jnp.einsum("abef,ef->ab", d1, km.K1)
              + 0.5 * jnp.einsum("abefgh,efgh->ab", g.h1, km.V))
    cross = jnp.einsum("abef,efab->ab", d1, prev.C + 2 * prev.Q)
    theta1 = kernel.K1 + sw2 * (s * prev.Theta1 + th * mean_s + cross)

    mixed = xx + th[None, None] * xy  # [c, d, a, b]: <X_cd (X_ab + Th_ab Y_ab)>
    lead = a0 + th * s  # <X_ab + Th_ab Y_ab>
    c = sw2**2 * (r * (mixed - a0[:, :, None, None] * lead[None, None])
                  + jnp.einsum("cdef,abgh,efgh->cdab", d0, jac, km.V)
                  + jnp.einsum("cdef,ab,efab->cdab", d0, s, prev.C))
    q = sw2**2 * (r * th[None, None] * xy
                  + jnp.einsum("cae,dbf,efab->cdab", e1, e1, prev.Q))
    tt = th[:, :, None, None] * th[None, None]
    single = (xx + th[:, :, None, None] * xy.transpose(2, 3, 0, 1)
              + th[None, None] * xy + tt * yy - lead[:, :, None, None] * lead[None, None])
    a = sw2**2 * (r * single
                  + jnp.einsum("abef,cdgh,efgh->abcd", jac, jac, km.V)
                  + jnp.einsum("abef,cd,efcd->abcd", jac, s, prev.C)
                  + jnp.einsum("ab,cdgh,ghab->abcd", s, jac, prev.C)
                  + s[:, :, None, None] * s[None, None] * prev.A)
    p = sw2**2 * (r * tt * yy + jnp.einsum("ac,bd,abcd->abcd", s, s, prev.P))
    return TangentMoments(kernel, theta, theta1, c, q, a, p)


def _batched(name: str, axes: Rules, prev: TangentMoments, r: jax.Array, sw2: float,
             beta: jax.Array) -> TangentMoments:
    return jax.vmap(lambda p: step(name, p, r, sw2, beta, axes))(prev)


#: ``step`` batched over input sets, compiled once per activation, rules, batch and input
#: count.
_step = jax.jit(_batched, static_argnums=(0, 1))


def tangent_moments(net: Network, x: ArrayLike, ratios: ArrayLike | None = None
                    ) -> TangentMoments:
    """The statistics of the output f = z_{d+1} on the m <= 4 inputs ``x`` (m, D), float64;
    1/n is the first hidden width's unless ``ratios`` (r_l = n / n_l) says otherwise."""
    x, r = check(net, x, ratios)
    sw2, beta = scales(net)
    with jax.enable_x64(True):
        k = jnp.asarray(input_kernel(net, x[None]))
        zero2, zero4 = jnp.zeros_like(k), jnp.zeros(k.shape + k.shape[1:], k.dtype)
        moments = TangentMoments(Moments(k, zero2, zero4), k, zero2, zero4, zero4, zero4,
                                 zero4)
        for layer in range(net.depth):
            axes = rules(net.activation, moments.kernel.K)
            moments = _step(net.activation, axes, moments, r[layer], sw2, beta[layer])
        return jax.tree.map(lambda v: np.asarray(v[0]), moments)


def ntk_variance_coefficient(t: TangentMoments) -> np.ndarray:
    """The 1/n coefficient of Var Th(a, b), (m, m): A(ab; ab) + P(ab; ab) + P(ab; ba)."""
    a, p = np.asarray(t.A), np.asarray(t.P)
    return (np.einsum("abab->ab", a) + np.einsum("abab->ab", p)
            + np.einsum("abba->ab", p))
