"""Monte Carlo references for the 1/n predictions, on the suite's own network (``nets``).

Given the last hidden layer, f is Gaussian with covariance G^_{d+1}(a, b) = beta_out +
(s_w^2 / n_d) sum_j s(z_{d;j,a}) s(z_{d;j,b}), so per sampled network the conditional
expectations

    E[f_a f_b | z_d] = G^(a, b),   E[f_1 f_2 f_3 f_4 | z_d] = sum_{pairings} G^_P G^_Q

are unbiased estimators of the correlators with a variance O(1/n) instead of O(1) (the
readout is integrated out exactly). G^ is read off ``nets.forward`` itself: with the
readout V replaced by the identity, the n_d outputs are s_w n_d^{-1/2} s(z_d).

The NTK statistics are sampled directly: Theta(x_a, x_b) of each network by ``ntk.ntk``
(the suite's layer-structure NTK), its mean and variance over the networks.
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from ..nets import Network, forward
from ..ntk import ntk
from .statistics import PAIRINGS


@dataclasses.dataclass(frozen=True)
class Estimate:
    """A Monte Carlo mean with its standard error over ``count`` networks."""

    mean: np.ndarray
    stderr: np.ndarray
    count: int


def readout_kernel(net: Network, params: dict[str, jax.Array], x: jax.Array) -> jax.Array:
    """G^_{d+1} (m, m) of one network at inputs ``x`` (m, D)."""
    width = net.widths[-1]
    features = dataclasses.replace(net, outputs=width, readout_bias=False)
    params = {**params, "V": jnp.eye(width, dtype=x.dtype)}
    phi = forward(params, x, features)
    beta = net.bias_std**2 if net.readout_bias else 0.0
    return phi @ phi.T + beta


def conditional_moments(net: Network, x: ArrayLike, count: int, key: jax.Array,
                        chunk: int = 4096) -> tuple[Estimate, Estimate | None]:
    """Estimates of E[f_a f_b] (m, m) and, for m = 4 inputs, E[f_1 f_2 f_3 f_4], from
    ``count`` networks drawn by ``split(key, count)`` (float64, chunked)."""
    with jax.enable_x64(True):
        x = jnp.asarray(x, jnp.float64)
        keys = jax.random.split(key, count)
        parts = [_chunk(net, keys[i:i + chunk], x) for i in range(0, count, chunk)]
        g = np.concatenate([np.asarray(p[0]) for p in parts])
        four = np.concatenate([np.asarray(p[1]) for p in parts])
    kernel = Estimate(g.mean(0), g.std(0, ddof=1) / np.sqrt(count), count)
    if x.shape[0] != 4:
        return kernel, None
    return kernel, Estimate(four.mean(), four.std(ddof=1) / np.sqrt(count), count)


@functools.partial(jax.jit, static_argnums=0)
def _chunk(net: Network, keys: jax.Array, x: jax.Array) -> tuple[jax.Array, jax.Array]:
    def one(key: jax.Array) -> tuple[jax.Array, jax.Array]:
        g = readout_kernel(net, net.sample(key), x)
        if x.shape[0] != 4:
            return g, jnp.zeros(())
        return g, sum(g[p] * g[q] for p, q in PAIRINGS)

    return jax.vmap(one)(keys)


def ntk_moments(net: Network, x: ArrayLike, count: int, key: jax.Array, chunk: int = 4096
                ) -> tuple[Estimate, Estimate]:
    """The mean and the variance of Theta(x_a, x_b) (m, m) over ``count`` networks drawn
    by ``split(key, count)`` (float64, chunked). The variance's standard error is
    sqrt((m_4 - var^2) / count), m_4 the fourth central moment."""
    with jax.enable_x64(True):
        x = jnp.asarray(x, jnp.float64)
        keys = jax.random.split(key, count)
        theta = np.concatenate([np.asarray(_ntk_chunk(net, keys[i:i + chunk], x))
                                for i in range(0, count, chunk)])
    mean = Estimate(theta.mean(0), theta.std(0, ddof=1) / np.sqrt(count), count)
    centred = (theta - theta.mean(0)) ** 2
    variance = Estimate(centred.sum(0) / (count - 1), centred.std(0, ddof=1) / np.sqrt(count),
                        count)
    return mean, variance


@functools.partial(jax.jit, static_argnums=0)
def _ntk_chunk(net: Network, keys: jax.Array, x: jax.Array) -> jax.Array:
    return jax.vmap(lambda key: ntk(net, net.sample(key), x))(keys)
