"""Layer recursions of the dNTK: E[f1_a f2_b f3_ab f4] (Table 1 row 4) to leading order 1/n.

Conventions: those of ``recursions`` and ``ntk_recursions`` (the suite's network,
``nets.py``, all parameters N(0, 1), f = z_{d+1}, n the first hidden width, r_l = n / n_l).
Sums over mu, nu run over every parameter. For neurons i, j, k of layer l define

    R_l^{ijk}(a; b, c) = sum_{mu nu} d_mu z_{l;i}(x_a) d_mu d_nu z_{l;j}(x_b) d_nu z_{l;k}(x_c),

so that the correlator is sum_{mu nu} E[d_mu f_1 d_nu f_2 d_mu d_nu f_3 f_4] =
E[R(1; 3, 2) f(x_4)] with R the output's (i = j = k = 1). The book's dNTK (Roberts, Yaida &
Hanin 2022, ch. 11: dH_{i0 i1 i2} = sum_mu d_mu z_{i0} d_mu Theta_{i1 i2}, unit learning
rates as in ``ntk_recursions``) is R^{i0 i1 i2}(0; 1, 2) + R^{i0 i2 i1}(0; 2, 1).

(D1) Forward equation. With w_ik = s_w n_l^{-1/2} W_l[i, k] (variance sigma = s_w^2 / n_l),
s_k = s(z_{l;k}) and Theta_l^{pq} the layer-l NTK of ``ntk_recursions``, splitting mu and nu
into the new parameters (W_l, b_l: z_{l+1} is linear in them, and d_b d_nu z = 0) and the
old ones (layers <= l),

    R_{l+1}^{ijk}(a; b, c)
      = delta_ij sigma sum_{qp} s_q(a) s'_q(b) w_kp s'_p(c) Theta_l^{qp}(b, c)        (mu new)
      + delta_jk sigma sum_{qp} s_q(c) s'_q(b) w_ip s'_p(a) Theta_l^{pq}(a, b)        (nu new)
      + sum_{p m q} w_ip w_jm w_kq s'_p(a) s'_q(c) [ s''_m(b) Theta_l^{pm}(a, b)
                     Theta_l^{mq}(b, c) + s'_m(b) R_l^{pmq}(a; b, c) ]                (both old).

(D2) Index structure. Given layer l the rows of W_l are independent Gaussians, so Wick's
theorem on the rows i, j, k, m of R_{l+1}^{ijk} z_{l+1;m} gives, exactly,

    E[R_l^{ijk}(a; b, c) z_{l;m}(x_d)]
      = (delta_ij delta_km P1_l + delta_ik delta_jm P2_l + delta_im delta_jk P3_l)(a,b,c,d) / n,

with P3_l(a, b, c, d) = P1_l(c, b, a, d) (R^{ijk}(a; b, c) = R^{kji}(c; b, a)); all vanish
at layer 1 (z_1 is linear in the parameters). The output is one neuron, so

    E[f1_a f2_b f3_ab f4] = (P1 + P2 + P3)_{d+1}(1, 3, 2, 4) / n + O(n^-2),          (D3)

and its infinite-width value is 0 (odd in the readout; Table 1: leading order n^-1). In the
book's tensors (ch. 11: E[dH_{i0 i1 i2} z_{i3}] = (1/n_{l-1}) [delta_{i0 i1} delta_{i2 i3}
P_{0123} + delta_{i0 i2} delta_{i1 i3} P_{0213} + delta_{i0 i3} delta_{i1 i2} Q_{0123}])
this reads, up to the factor n_{l-1} / n, P_{0123} = P1(0,1,2,3) + P2(0,2,1,3) and
Q_{0123} = P1(2,1,0,3) + P1(1,2,0,3) (from (D2) and the definition of dH; the book's
equation numbers were not checked here).

(D4) Conditional Gaussian integration by parts. For single-neuron functions F, G and
neurons p != q of layer l, integrating (D1) (one layer down) over the rows w_p, w_q given
layer l - 1 gives E[w_qj G(z_q)] = sigma' sum_f <d_f G> s_j(f) and E[w_pj w_pk F(z_p)] =
sigma' delta_jk <F> + O(sigma'^2), hence to leading order

    E[F(z_p) R_l^{ppq}(a; b, c) G(z_q)] = <F> sum_f <d_f G> P1_l(a, b, c, f) / n,
    E[F(z_p) R_l^{pqp}(a; b, c) G(z_q)] = <F> sum_f <d_f G> P2_l(a, b, c, f) / n,

with <.> the Gaussian average at K_l and d_f = d / dz(x_f); the NTK statistics of
``ntk_recursions`` enter as E[F(z_p) Theta^{pq}(a, b) G(z_q)] = sum_{ef} <d_e F> <d_f G>
Q_l(ef; ab) / n and E[F(z_p) Theta^{pq}(a, b) Theta^{pq}(c, d) G(z_q)] = <F> <G>
P_l(ab; cd) / n (their Q, P). The diagonal terms p = q of the sums in (D1) give the
r-terms, with Theta_l^{pp} -> Theta_l; R_l^{ppp} (O(n^-1/2)) and every other cross term
are O(n^-2).

(D5) Recursion (coefficients of 1/n; everything on the right at layer l, r = r_l; S =
<s'_a s'_b> etc. at K_l; N(ijkl) = <s^(i)_a s^(j)_b s^(k)_c s^(l)_d>; G(ij)[e; a, b] =
<d_e (s^(i)_a s^(j)_b)> = delta_ea <s^(i+1)_a s^(j)_b> + delta_eb <s^(i)_a s^(j+1)_b>):

    P1_{l+1}(a,b,c,d) = s_w^4 [ r N(0110) Th_bc + r N(1210) Th_ab Th_bc
                 + sum_ef (G(01)[e; a,b] + Th_ab G(12)[e; a,b]) G(10)[f; c,d] Q(ef; bc)
                 + <s'_a s'_b> sum_f G(10)[f; c,d] P1_l(a,b,c,f) ],
    P2_{l+1}(a,b,c,d) = s_w^4 [ r N(1210) Th_ab Th_bc + <s'_a s'_c> <s''_b s_d> P(ab; cb)
                 + <s'_a s'_c> sum_g G(10)[g; b,d] P2_l(a,b,c,g) ],

Th = Theta_l (infinite width), Q, P the ``ntk_recursions`` tensors at layer l. Biases enter
only through K and Theta. Every average is on the rule of the inputs it involves, the rules
chosen per layer from K_l (``quadrature.choose``): pair averages from
``gaussian.pair_moments`` (1-D and 2-D rules, s up to its third derivative), the four-input
averages N from ``gaussian.four_moments`` (each distinct one once; 3-D or 4-D rule only
where 3 or 4 distinct inputs occur; exact for linear networks). For tanh at the default
inputs N(1210) agrees with a rule with L_jj h_j <= 0.25 on every axis to 5e-8 of its
largest entry at K_1 (s'' carries more of tanh's poles than s), 9e-9 at K_2, 1e-14 at
K_10; the coefficient at d = 1, 2, 3 to 2e-11, 1e-9, 7e-10 relative. Checks
(``tests/test_theory_dntk.py``, ``benchmarks/theory_checks.py``): linear networks against
the exact diagrams engine (d = 1..5, with and without biases), sin at d = 1 against closed
forms, tanh and gelu against Monte Carlo, each of P1, P2, P3 separately at d = 2.
ReLU is not covered: s'' = delta makes N(1210) an integral over z_b = 0 that the 2-input
closed forms of ``gaussian`` do not provide.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from ..nets import Network
from . import ntk_recursions
from .gaussian import CLOSED, Rules, four_moments, pair_moments
from .ntk_recursions import TangentMoments
from .recursions import Moments, check, input_kernel, rules, scales


@dataclasses.dataclass(frozen=True)
class DntkMoments:
    """The dNTK statistics of one layer on m inputs (coefficients of 1/n, (D2)).

    Attributes:
      tangent: K, Theta and the NTK statistics of ``ntk_recursions``.
      P1, P2: (m, m, m, m) the dNTK-preactivation tensors, [a, b, c, d].
    """

    tangent: TangentMoments
    P1: jax.Array
    P2: jax.Array


jax.tree_util.register_dataclass(DntkMoments, data_fields=["tangent", "P1", "P2"],
                                 meta_fields=[])


def _grad(e2: jax.Array, i: int, j: int) -> jax.Array:
    """G(ij)[e, a, b] = <d_e (s^(i)_a s^(j)_b)> from the pair averages e2 (D5)."""
    eye = jnp.eye(e2.shape[-1], dtype=e2.dtype)
    return eye[:, :, None] * e2[i + 1, j][None] + eye[:, None, :] * e2[i, j + 1][None]


def four_averages(name: str, k: jax.Array, axes: Rules = None
                  ) -> tuple[jax.Array, jax.Array]:
    """N(0110) and N(1210) of (D5), (m, m, m, m): each distinct average once, on the rule
    of the inputs it involves (``gaussian.four_moments``; ``axes`` from
    ``quadrature.choose``)."""
    return four_moments(name, k, (0, 1, 1, 0), axes), four_moments(name, k, (1, 2, 1, 0), axes)


def step(name: str, prev: DntkMoments, r: jax.Array, sw2: float, beta: jax.Array,
         axes: Rules = None) -> DntkMoments:
    """One layer, l -> l + 1: (D5) for P1, P2 and ``ntk_recursions.step`` for the rest
    (``axes`` from ``quadrature.choose``, None for the default rules)."""
    t = prev.tangent
    th = t.Theta
    e2 = pair_moments(name, t.kernel.K, 3, axes)
    n0110, n1210 = four_averages(name, t.kernel.K, axes)
    g01, g12, g10 = _grad(e2, 0, 1), _grad(e2, 1, 2), _grad(e2, 1, 0)
    th_bc = th[None, :, :, None]
    th_ab = th[:, :, None, None]
    diagonal = r * n1210 * th_ab * th_bc
    p1 = sw2**2 * (r * n0110 * th_bc + diagonal
                   + jnp.einsum("eab,fcd,efbc->abcd", g01 + th[None] * g12, g10, t.Q)
                   + e2[1, 1][:, :, None, None] * jnp.einsum("fcd,abcf->abcd", g10, prev.P1))
    s_ac = e2[1, 1][:, None, :, None]
    p2 = sw2**2 * (diagonal
                   + s_ac * e2[2, 0][None, :, None, :] * jnp.einsum("abcb->abc", t.P)[..., None]
                   + s_ac * jnp.einsum("gbd,abcg->abcd", g10, prev.P2))
    return DntkMoments(ntk_recursions.step(name, t, r, sw2, beta, axes), p1, p2)


#: ``step`` compiled once per activation, rules and number of inputs (any depth, widths,
#: scales).
_step = jax.jit(step, static_argnums=(0, 5))


def dntk_moments(net: Network, x: ArrayLike, ratios: ArrayLike | None = None) -> DntkMoments:
    """The statistics of the output f = z_{d+1} on the m <= 4 inputs ``x`` (m, D), float64;
    1/n is the first hidden width's unless ``ratios`` (r_l = n / n_l) says otherwise."""
    if net.activation in CLOSED:
        raise ValueError(f"the dNTK recursions need the activation's second derivative as a "
                         f"function; {net.activation}'s is a delta (use a smooth activation).")
    x, r = check(net, x, ratios)
    sw2, beta = scales(net)
    with jax.enable_x64(True):
        k = jnp.asarray(input_kernel(net, x[None])[0])
        zero2, zero4 = jnp.zeros_like(k), jnp.zeros(k.shape * 2, k.dtype)
        tangent = TangentMoments(Moments(k, zero2, zero4), k, zero2, zero4, zero4, zero4,
                                 zero4)
        moments = DntkMoments(tangent, zero4, zero4)
        for layer in range(net.depth):
            axes = rules(net.activation, moments.tangent.kernel.K)
            moments = _step(net.activation, moments, r[layer], sw2, beta[layer], axes)
        return jax.tree.map(np.asarray, moments)


def dntk_coefficient(net: Network, x: ArrayLike, ratios: ArrayLike | None = None) -> float:
    """The 1/n coefficient of E[f1_a f2_b f3_ab f4] (D3) for four inputs ``x`` (4, D), one
    per label (rows may repeat: the recursion runs on the distinct rows)."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] != 4:
        raise ValueError(f"dntk needs 4 input vectors (one per label of f1_a f2_b f3_ab f4), "
                         f"got an array of shape {x.shape}.")
    rows, label = np.unique(x, axis=0, return_inverse=True)
    a, c, b, d = label.reshape(-1)
    m = dntk_moments(net, rows, ratios)
    return float(m.P1[a, b, c, d] + m.P2[a, b, c, d] + m.P1[c, b, a, d])
