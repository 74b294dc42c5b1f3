"""The paper's MLP in NTK parameterization (eq. 2, 15, 23-26).

    f(x) = s_w n_d^{-1/2} V^T s(z_d) [+ s_b b_out],
    z_{l+1} = s_w n_l^{-1/2} W_l s(z_l) + s_b b_l,   z_1 = s_w c U x [+ s_b b_0]

with c = D^{-1/2} when ``input_scaling`` (the MNIST experiments, eq. 15) and c = 1 otherwise
(Table 1), s_w = ``weight_std`` and s_b = ``bias_std`` (both 1 in the paper). Every parameter
is iid N(0, 1) (``init="gaussian"``) or uniform on {-1, +1} (``init="sign"``, Table 2), so
the effective weights s_w W have variance s_w^2 while gradient descent acts on unit-variance
parameters (neural-tangents' ``stax.Dense(W_std, b_std, parameterization="ntk")``
convention). Biases b_1..b_{d-1} follow each hidden weight matrix (``bias``, App. B.3);
``first_bias`` adds b_0 after U and ``readout_bias`` adds b_out to f.

Parameters are a flat dict pytree: ``U`` (n_1, D), ``b0`` (n_1,) when ``first_bias``,
``W1``..``W{d-1}`` (n_{l+1}, n_l), ``b1``..``b{d-1}`` (n_{l+1},) when ``bias``, ``V``
(n_d, outputs) and ``bout`` (outputs,) when ``readout_bias``.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

Params = dict[str, jax.Array]

ACTIVATIONS: dict[str, Callable[[jax.Array], jax.Array]] = {
    "linear": lambda z: z,
    "relu": jax.nn.relu,
    "tanh": jnp.tanh,
    "erf": jax.scipy.special.erf,
    "gelu": lambda z: jax.nn.gelu(z, approximate=False),
    "sin": jnp.sin,
    "softplus": jax.nn.softplus,
}
INITS: tuple[str, ...] = ("gaussian", "sign")


def activation(name: str) -> Callable[[jax.Array], jax.Array]:
    """The activation function called ``name``; a clear error for unknown names."""
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(
            f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}."
        ) from None


def derivatives(name: str, order: int) -> list[Callable[[jax.Array], jax.Array]]:
    """s, s', ..., s^{(order)} of the activation ``name``, elementwise, by nested ``jvp``.

    >>> [float(d(jnp.float32(0.0))) for d in derivatives("tanh", 2)]
    [0.0, 1.0, 0.0]
    """
    fns = [activation(name)]
    for _ in range(order):
        fns.append(functools.partial(_elementwise_derivative, fns[-1]))
    return fns


def _elementwise_derivative(fn: Callable[[jax.Array], jax.Array], z: jax.Array) -> jax.Array:
    return jax.jvp(fn, (z,), (jnp.ones_like(z),))[1]


def _positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    return value


@dataclasses.dataclass(frozen=True)
class Network:
    """A fully connected network of the paper (eq. 2), hashable so it can be a static arg.

    Attributes:
      input_dim: D, the input dimension.
      width: n, one int for every hidden layer or a tuple of d per-layer widths.
      depth: d >= 1, the number of hidden layers.
      activation: a name from ``ACTIVATIONS``.
      init: ``"gaussian"`` (N(0,1)) or ``"sign"`` (uniform on {-1, +1}).
      bias: add biases after every hidden weight matrix W_l (App. B.3).
      input_scaling: multiply the first layer by D^{-1/2} (eq. 15).
      outputs: the number of outputs (the paper's f is scalar: 1).
      weight_std: s_w, the standard deviation of every effective weight (U, W_l, V).
      bias_std: s_b, that of every bias.
      first_bias: add a bias b_0 after the first layer U.
      readout_bias: add a bias b_out to the outputs.
    """

    input_dim: int
    width: int | tuple[int, ...] = 512
    depth: int = 1
    activation: str = "relu"
    init: str = "gaussian"
    bias: bool = False
    input_scaling: bool = False
    outputs: int = 1
    weight_std: float = 1.0
    bias_std: float = 1.0
    first_bias: bool = False
    readout_bias: bool = False

    def __post_init__(self) -> None:
        for name in ("weight_std", "bias_std"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
                    math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive finite number, got {value!r}.")
            object.__setattr__(self, name, float(value))
        _positive_int("input_dim", self.input_dim)
        _positive_int("depth", self.depth)
        _positive_int("outputs", self.outputs)
        activation(self.activation)
        if self.init not in INITS:
            raise ValueError(f"unknown init {self.init!r}; choose one of {', '.join(INITS)}.")
        if isinstance(self.width, (tuple, list)):
            widths = tuple(_positive_int("width", w) for w in self.width)
            if len(widths) != self.depth:
                raise ValueError(
                    f"width has {len(widths)} entries but depth is {self.depth}; "
                    "give one width per hidden layer or a single int."
                )
            object.__setattr__(self, "width", widths)
        else:
            _positive_int("width", self.width)

    @property
    def widths(self) -> tuple[int, ...]:
        """The d hidden-layer widths (n_1, ..., n_d)."""
        return self.width if isinstance(self.width, tuple) else (self.width,) * self.depth

    def shapes(self) -> dict[str, tuple[int, ...]]:
        """The shape of every parameter tensor, in layer order."""
        n = self.widths
        shapes: dict[str, tuple[int, ...]] = {"U": (n[0], self.input_dim)}
        if self.first_bias:
            shapes["b0"] = (n[0],)
        for layer in range(1, self.depth):
            shapes[f"W{layer}"] = (n[layer], n[layer - 1])
            if self.bias:
                shapes[f"b{layer}"] = (n[layer],)
        shapes["V"] = (n[-1], self.outputs)
        if self.readout_bias:
            shapes["bout"] = (self.outputs,)
        return shapes

    @property
    def standard(self) -> bool:
        """Whether this is the paper's network: unit weight and bias scales, no first-layer
        or readout bias (the lazy sampler and the diagrams assume it)."""
        return (self.weight_std == 1.0 and self.bias_std == 1.0 and not self.first_bias
                and not self.readout_bias)

    @property
    def num_params(self) -> int:
        """The total number of parameters."""
        return sum(math.prod(s) for s in self.shapes().values())

    def sample(self, key: ArrayLike) -> Params:
        """Sample parameters from ``key`` (deterministic per key; ``vmap`` over keys)."""
        shapes = self.shapes()
        keys = jax.random.split(key, len(shapes))
        return {
            name: _sample(self.init, k, s)
            for (name, s), k in zip(shapes.items(), keys, strict=True)
        }

    def apply(self, params: Params, x: ArrayLike) -> jax.Array:
        """Eq. (2): f(x) of shape ``x.shape[:-1] + (outputs,)``."""
        return forward(params, x, self)

    def scalar(self, params: Params, x: ArrayLike) -> jax.Array:
        """The first output f(x) as a scalar per input (the paper's f)."""
        return forward(params, x, self)[..., 0]


def _sample(kind: str, key: jax.Array, shape: tuple[int, ...]) -> jax.Array:
    if kind == "sign":
        return jax.random.rademacher(key, shape, dtype=jnp.result_type(float))
    return jax.random.normal(key, shape, dtype=jnp.result_type(float))


def preactivations(params: Params, x: ArrayLike, net: Network) -> list[jax.Array]:
    """Eq. (2) / (23-25): the hidden preactivations z_1 .. z_d for inputs ``x`` (..., D),
    each of shape (..., n_l)."""
    x = jnp.asarray(x, dtype=jnp.result_type(float))
    if x.shape[-1:] != (net.input_dim,):
        raise ValueError(
            f"input has shape {x.shape}; its last axis must be input_dim={net.input_dim}."
        )
    s = activation(net.activation)
    sw = net.weight_std
    scale = net.input_dim**-0.5 if net.input_scaling else 1.0
    z = sw * scale * (x @ params["U"].T)
    if net.first_bias:
        z = _add_bias(z, params["b0"], net)
    zs = [z]
    for layer in range(1, net.depth):
        z = s(z) @ params[f"W{layer}"].T * (sw * net.widths[layer - 1] ** -0.5)
        if net.bias:
            z = _add_bias(z, params[f"b{layer}"], net)
        zs.append(z)
    return zs


def _add_bias(z: jax.Array, b: jax.Array, net: Network) -> jax.Array:
    return z + net.bias_std * b.reshape((1,) * (z.ndim - 1) + b.shape)


def forward(params: Params, x: ArrayLike, net: Network) -> jax.Array:
    """Eq. (2) / (23-25) for inputs ``x`` of shape (..., D)."""
    z = preactivations(params, x, net)[-1]
    out = activation(net.activation)(z) @ params["V"] * (net.weight_std * net.widths[-1] ** -0.5)
    return _add_bias(out, params["bout"], net) if net.readout_bias else out


def init_many(net: Network, key: ArrayLike, count: int) -> Params:
    """``count`` independent initializations stacked on a leading axis."""
    return jax.vmap(net.sample)(jax.random.split(key, count))


class MLP(nn.Module):
    """The same network as a Flax module: ``MLP(net).init(key, x)["params"]`` has the
    layout of ``Network.sample`` and ``MLP(net).apply`` agrees with ``Network.apply``."""

    net: Network

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        kind = self.net.init
        params = {
            name: self.param(name, lambda k, s=shape: _sample(kind, k, s))
            for name, shape in self.net.shapes().items()
        }
        return forward(params, x, self.net)


def outputs_at_init(
    net: Network, x: ArrayLike, count: int, key: ArrayLike, chunk: int = 256
) -> jax.Array:
    """f(x) (first output) for ``count`` independent initializations: shape (count, N).

    Initializations are drawn in chunks of ``chunk`` (``vmap`` inside ``jit``) so memory
    stays bounded at large width; the same key gives the same numbers for any chunk size.
    """
    _positive_int("count", count)
    x = jnp.atleast_2d(jnp.asarray(x, dtype=jnp.result_type(float)))
    keys = jax.random.split(key, count)
    return jnp.concatenate(
        [_outputs_chunk(net, keys[i : i + chunk], x) for i in range(0, count, chunk)]
    )


@functools.partial(jax.jit, static_argnums=0)
def _outputs_chunk(net: Network, keys: jax.Array, x: jax.Array) -> jax.Array:
    return jax.vmap(lambda k: net.scalar(net.sample(k), x))(keys)
