"""Infinite-width kernels of the paper's network: the NNGP covariance and the analytic NTK.

At n -> infinity f(x) is a centred Gaussian process with covariance K (the NNGP kernel)
and Theta_0 becomes the deterministic kernel Theta_inf. Both follow the layer recursion

    K_1 = c^2 x.x',   K_{l+1} = E_{(u,v)~N(0,K_l)}[s(u) s(v)] + [bias],
    T_1 = K_1,        T_{l+1} = T_l E[s'(u) s'(v)] + K_{l+1},

with the output K_f = E[s s] at layer d and Theta_f = T_d E[s' s'] + K_f. Gaussian
expectations are closed forms for linear, ReLU (arc-cosine) and erf, and 2-D Gauss-Hermite
quadrature otherwise (tanh, gelu, sin, softplus). Computed in float64 NumPy; the
activation inside the quadrature is evaluated in JAX's default float (float64 with x64).
"""

from __future__ import annotations

import dataclasses
from functools import cache

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from .nets import Network, activation

_QUADRATURE_POINTS = 80


@dataclasses.dataclass(frozen=True)
class Kernels:
    """Infinite-width kernels on a set of N inputs.

    Attributes:
      nngp: (N, N) covariance of f at initialization, E[f(x) f(x')].
      ntk: (N, N) the deterministic infinite-width NTK Theta_inf(x, x').
    """

    nngp: np.ndarray
    ntk: np.ndarray


@cache
def _hermite(points: int) -> tuple[np.ndarray, np.ndarray]:
    z, w = np.polynomial.hermite_e.hermegauss(points)
    return z, w / np.sqrt(2.0 * np.pi)


@cache
def _numpy_fns(name: str):
    s = activation(name)
    ds = jax.vmap(jax.grad(lambda z: s(z)))

    def f(z: np.ndarray) -> np.ndarray:
        return np.asarray(s(jnp.asarray(z, jnp.result_type(float))), np.float64)

    def df(z: np.ndarray) -> np.ndarray:
        flat = jnp.asarray(z.ravel(), jnp.result_type(float))
        return np.asarray(ds(flat), np.float64).reshape(z.shape)

    return f, df


def _quadrature(fn, k11: np.ndarray, k22: np.ndarray, k12: np.ndarray) -> np.ndarray:
    """E[fn(u) fn(v)] for (u, v) ~ N(0, [[k11, k12], [k12, k22]]), elementwise."""
    z, w = _hermite(_QUADRATURE_POINTS)
    s1, s2 = np.sqrt(k11), np.sqrt(k22)
    rho = np.clip(k12 / np.maximum(s1 * s2, 1e-300), -1.0, 1.0)
    u = s1[..., None, None] * z[:, None]
    v = s2[..., None, None] * (
        rho[..., None, None] * z[:, None] + np.sqrt(1 - rho**2)[..., None, None] * z[None, :]
    )
    return np.einsum("...ij,i,j->...", fn(u) * fn(v), w, w)


def gaussian_expectations(
    name: str, k11: np.ndarray, k22: np.ndarray, k12: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(E[s(u)s(v)], E[s'(u)s'(v)]) for (u, v) ~ N(0, [[k11, k12], [k12, k22]])."""
    if name == "linear":
        return k12, np.ones_like(k12)
    if name == "relu":
        s1s2 = np.sqrt(k11 * k22)
        cos = np.clip(k12 / np.maximum(s1s2, 1e-300), -1.0, 1.0)
        theta = np.arccos(cos)
        ss = s1s2 / (2 * np.pi) * (np.sin(theta) + (np.pi - theta) * cos)
        return ss, (np.pi - theta) / (2 * np.pi)
    if name == "erf":
        a, b = 1 + 2 * k11, 1 + 2 * k22
        ss = 2 / np.pi * np.arcsin(np.clip(2 * k12 / np.sqrt(a * b), -1.0, 1.0))
        return ss, 4 / np.pi / np.sqrt(a * b - 4 * k12**2)
    f, df = _numpy_fns(name)
    return _quadrature(f, k11, k22, k12), _quadrature(df, k11, k22, k12)


def infinite_width(net: Network, x: ArrayLike) -> Kernels:
    """The NNGP kernel and the infinite-width NTK of ``net`` on inputs ``x`` (N, D).

    The width of ``net`` is ignored; its depth, activation, bias and input scaling count.
    Sign init has the same infinite-width limit as Gaussian init (unit variance).
    """
    x = np.asarray(x, np.float64)
    if x.ndim != 2 or x.shape[1] != net.input_dim:
        raise ValueError(f"x must have shape (N, {net.input_dim}); got {x.shape}.")
    scale2 = 1.0 / net.input_dim if net.input_scaling else 1.0
    k = scale2 * x @ x.T
    theta = k.copy()
    for _ in range(net.depth - 1):
        ss, dd = _layer(net.activation, k)
        k = ss + (1.0 if net.bias else 0.0)
        theta = theta * dd + k
    ss, dd = _layer(net.activation, k)
    return Kernels(nngp=ss, ntk=theta * dd + ss)


def _layer(name: str, k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    d = np.diag(k)
    k11 = np.broadcast_to(d[:, None], k.shape)
    k22 = np.broadcast_to(d[None, :], k.shape)
    return gaussian_expectations(name, k11, k22, k)
