"""Correlator integrands of Gaussian MLPs without the n x n weight matrices (Def. 1, eq. 2).

A correlator whose contraction graph is *star-shaped* (every piece a lone f, or a centre
tensor D^k f(x_c) contracted with first-derivative leaves grad f(x_i): every row of
Tables 1 and 3) only ever applies each hidden weight matrix W_l to a handful of vectors:

- forward:   z_{l+1} = s_w n_l^{-1/2} W_l s(z_l) + s_b b_l, for every input;
- backward:  delta_l = s'(z_l) * s_w n_l^{-1/2} W_l^T delta_{l+1}, for every leaf,
  giving the gradient in factored form, dW_l = s_w n_l^{-1/2} delta_{l+1} s(z_l)^T (an
  outer product), dU = s_w c delta_1 x^T, db_l = s_b delta_{l+1}, dV = s_w n_d^{-1/2}
  s(z_d), db_0 = s_b delta_1, db_out = s_b;
- Taylor:    D^k f(x_c)[g_1..g_k] by pushing truncated multivariate Taylor (hyper-dual)
  numbers z = sum_S eps_S z[S] (eps_i^2 = 0) through the network with every parameter
  moved to theta + sum_i eps_i g_i. The rank-one gradients make dW_i h = s_w n^{-1/2}
  delta_i (h_i . h) free, and s acts by Faa di Bruno over set partitions:
  s(z)[S] = sum_{partitions P of S} s^{(|P|)}(z[0]) prod_{B in P} z[B].

Each W_l is a ``lazy_matrix.LazyGaussian``: those products are sampled exactly in
distribution conditioned on all earlier ones, in O(n k) per query, so one initialization
costs O(n k^2) time and O(n k) memory instead of O(n^2); its minimal random draw is one
fresh N(0, 1) n-vector per query (``lazy_matrix.normal``). U, b and V are drawn densely. A
leaf paired with one more first-derivative factor is the gradient inner product
g_i . g_j, summed layer by layer from the factors. The weight and bias scales s_w =
``weight_std``, s_b = ``bias_std`` and the first-layer and readout biases enter as in
``nets.forward`` (unit-variance parameters, scaled where they act).

The integrand samples have the law of the dense estimator's (``estimate``); the
initializations are different random draws. Networks no wider than ``PAD_WIDTH`` run the
program of that width with the extra units switched off (``padded``), so the widths of a
sweep share one compilation. Other correlators (cycles, traces, a leaf
with two letters) and ``init="sign"`` are not supported: ``unsupported_reason`` says why.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable, Sequence
from typing import Protocol

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from .. import sharding
from ..nets import Network, Params, derivatives
from . import lazy_matrix
from .notation import Correlator, parse

#: The width from which ``backend="auto"`` samples lazily. At n = 64 (Table 1 row 5, tanh,
#: depth 3, float32, 500 initializations) the lazy width costs 5.7 CPU s cold, its program
#: shared with every width up to ``PAD_WIDTH``, against 14.6 for the dense path's programs;
#: from n = 128 lazy is also the faster sampler (``benchmarks/results/lazy.md``,
#: ``benchmarks/results/panels.md``).
CROSSOVER_WIDTH = 64
#: The version of the lazy sampler's random streams, part of the result cache's key
#: (``estimate.measure_all``): samples cached by an earlier stream are never returned for
#: a seed that now draws other numbers. Change it with any change of the streams.
STREAM = 4
MEMORY_BUDGET_BYTES = 1 << 29


@dataclasses.dataclass(frozen=True)
class Star:
    """One connected piece of a star-shaped contraction graph, by rows of ``xs``.

    Attributes:
      centre: the centre tensor's input row.
      leaves: the input rows of its first-derivative leaves, one per letter of the
        centre. Its value is f(x_c) with no leaves, g_leaf . g_c with one, and
        D^k f(x_c)[g_1, ..., g_k] with k >= 2 (g_i = grad f(x_i)).
    """

    centre: int
    leaves: tuple[int, ...]


@dataclasses.dataclass(frozen=True)
class Plan:
    """Everything one initialization computes for several correlators (hashable).

    Attributes:
      rows: the number of inputs (rows of ``xs``).
      products: per correlator, the stars whose values multiply to its integrand.
    """

    rows: int
    products: tuple[tuple[Star, ...], ...]

    @property
    def gradients(self) -> tuple[int, ...]:
        """The rows whose gradients are needed (leaves and one-leaf centres), sorted."""
        need = {r for p in self.products for s in p if s.leaves
                for r in s.leaves + ((s.centre,) if len(s.leaves) == 1 else ())}
        return tuple(sorted(need))

    @property
    def taylor(self) -> tuple[Star, ...]:
        """The distinct stars with k >= 2 leaves (directional derivatives), in order."""
        return tuple(dict.fromkeys(s for p in self.products for s in p
                                   if len(s.leaves) >= 2))

    @property
    def queries(self) -> tuple[int, int]:
        """(right, left) queries per hidden weight matrix."""
        return (self.rows + sum(2 ** len(s.leaves) - 1 for s in self.taylor),
                len(self.gradients))


def _stars(c: Correlator, order: Sequence[int]) -> tuple[Star, ...] | str:
    """The star decomposition of ``c`` (rows by ``order``), or why there is none."""
    parent = list(range(c.m))

    def find(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for letter, (i, j) in c.contractions:
        if i == j:
            return f"the trace on letter {letter!r} is not a star"
        parent[find(i)] = find(j)
    pieces: dict[int, list[int]] = {}
    for i in range(c.m):
        pieces.setdefault(find(i), []).append(i)
    partner = {(letter, i): j for letter, (a, b) in c.contractions
               for i, j in ((a, b), (b, a))}
    row = [list(order).index(f.input) for f in c.factors]
    stars = []
    for members in pieces.values():
        degree = {i: len(c.factors[i].indices) for i in members}
        centre = max(members, key=lambda i: (degree[i], -i))
        others = [i for i in members if i != centre]
        if degree[centre] != len(others) or any(degree[i] != 1 for i in others):
            text = " ".join(c.factors[i].text for i in members)
            return (f"{text!r} is not a star (a centre joined to first-derivative leaves "
                    "by one letter each)")
        leaves = tuple(row[partner[(letter, centre)]] for letter in c.factors[centre].indices)
        stars.append(Star(row[centre], leaves))
    return tuple(stars)


def unsupported_reason(cs: Correlator | str | Sequence[Correlator | str], net: Network
                       ) -> str | None:
    """Why the lazy backend cannot sample ``cs`` on ``net`` (None when it can)."""
    if net.init != "gaussian":
        return f"init={net.init!r}: lazy matrices need iid Gaussian weights"
    for c in _as_list(cs):
        found = _stars(c, c.inputs)
        if isinstance(found, str):
            return f"{c.text!r}: {found}"
    return None


def lazy_supported(cs: Correlator | str | Sequence[Correlator | str], net: Network) -> bool:
    """True when every correlator is star-shaped and the weights Gaussian."""
    return unsupported_reason(cs, net) is None


def prefer_lazy(cs: Correlator | str | Sequence[Correlator | str], net: Network) -> bool:
    """The ``backend="auto"`` rule: lazy when supported and n >= ``CROSSOVER_WIDTH``."""
    return lazy_supported(cs, net) and min(net.widths) >= CROSSOVER_WIDTH


def _as_list(cs: Correlator | str | Sequence[Correlator | str]) -> list[Correlator]:
    cs = [cs] if isinstance(cs, (str, Correlator)) else list(cs)
    if not cs:
        raise ValueError("give at least one correlator.")
    return [parse(c) if isinstance(c, str) else c for c in cs]


def plan(cs: Correlator | str | Sequence[Correlator | str], order: Sequence[int]) -> Plan:
    """The stars of every correlator, with inputs ``x_K`` at row ``order.index(K)``."""
    cs = _as_list(cs)
    missing = sorted({k for c in cs for k in c.inputs} - set(order))
    if missing:
        raise ValueError(f"no input row for labels {missing}; give one per label.")
    products = []
    for c in cs:
        found = _stars(c, order)
        if isinstance(found, str):
            raise ValueError(f"the lazy backend cannot sample {c.text!r}: {found}; "
                             "use the dense backend.")
        products.append(found)
    return Plan(len(order), tuple(products))


class Weights(Protocol):
    """The hidden weight matrices W_1..W_{d-1}, answering products row by row."""

    def right(self, layer: int, vs: jax.Array) -> jax.Array:
        """W_layer v for each row v of ``vs``."""

    def left(self, layer: int, us: jax.Array) -> jax.Array:
        """W_layer^T u for each row u of ``us``."""


class LazyWeights:
    """``Weights`` as lazy Gaussian matrices; queries update the state as they trace.

    ``noise[l - 1]`` holds W_l's fresh N(0, 1) rows, (right, left) = (R x n_l,
    L x n_{l-1}) with R, L = ``Plan.queries``: each block of queries takes the next
    rows of its side, in the order asked.
    """

    def __init__(self, net: Network, noise: Sequence[tuple[jax.Array, jax.Array]]) -> None:
        n = net.widths
        dtype = noise[0][0].dtype if noise else jnp.result_type(float)
        self._state = [lazy_matrix.empty(n[l], n[l - 1], dtype) for l in range(1, net.depth)]
        self._noise = list(noise)
        self._used = [[0, 0] for _ in self._state]

    def _ask(self, layer: int, side: int, rows: jax.Array) -> jax.Array:
        w, used = self._state[layer - 1], self._used[layer - 1]
        pool, count = self._noise[layer - 1][side], rows.shape[0]
        if used[side] + count > pool.shape[0]:
            raise ValueError(f"W_{layer} was asked more {('right', 'left')[side]} queries "
                             f"than the {pool.shape[0]} its plan drew noise for.")
        noise = pool[used[side]:used[side] + count]
        used[side] += count
        ask = (lazy_matrix.right, lazy_matrix.left)[side]
        self._state[layer - 1], answers = ask(w, rows, noise)
        return answers

    def right(self, layer: int, vs: jax.Array) -> jax.Array:
        return self._ask(layer, 0, vs)

    def left(self, layer: int, us: jax.Array) -> jax.Array:
        return self._ask(layer, 1, us)


@functools.cache
def _partitions(mask: int) -> tuple[tuple[int, ...], ...]:
    """The set partitions of the bits of ``mask``, each a tuple of block masks."""
    if mask == 0:
        return ((),)
    low = mask & -mask
    rest = mask ^ low
    out = []
    sub = rest
    while True:
        block = low | sub
        out.extend((block,) + p for p in _partitions(mask ^ block))
        if sub == 0:
            break
        sub = (sub - 1) & rest
    return tuple(out)


def _compose(ds: list[jax.Array], z: list[jax.Array], mask: int) -> jax.Array:
    """Faa di Bruno: s(z)[mask] from s^{(m)}(z[0]) = ds[m] and the components z."""
    return sum(ds[len(p)] * math.prod((z[b] for b in p), start=1.0)
               for p in _partitions(mask))


def integrands(plan: Plan, net: Network, params: Params, weights: Weights,
               xs: jax.Array, active: Sequence[jax.Array] | None = None) -> jax.Array:
    """The integrand of every correlator of ``plan`` for one initialization.

    ``params`` holds U, V (only column 0 is used) and the biases (unit variance, as
    ``Network.sample`` draws them); the hidden matrices are reached only through
    ``weights``. With ``active`` (per layer, 1 on the units a narrower network has and 0
    on padding; ``net`` the padded network) the network is the narrower one: its widths
    are the sums of ``active``, padded units are switched off after the activation, and
    ``params`` and ``weights`` must answer 0 on them. Returns shape (len(plan.products),).
    """
    d = net.depth
    n = net.widths if active is None else [jnp.sum(a) for a in active]
    sw, sb = net.weight_std, net.bias_std
    scale = net.input_dim ** -0.5 if net.input_scaling else 1.0
    top = max((len(s.leaves) for s in plan.taylor), default=1)
    s = derivatives(net.activation, top)
    v = params["V"][:, 0]
    bias = [sb * params[f"b{l}"][None, :] if net.bias else 0.0 for l in range(1, d)]
    first = sb * params["b0"][None, :] if net.first_bias else 0.0
    readout = sb * params["bout"][0] if net.readout_bias else 0.0

    def act(l: int, z: jax.Array) -> jax.Array:
        return s[0](z) if active is None else s[0](z) * active[l][None, :]

    zs = [sw * scale * xs @ params["U"].T + first]  # zs[l]: (rows, n_l) pre-activations
    hs = [act(0, zs[0])]
    for l in range(1, d):
        zs.append(weights.right(l, hs[-1]) * (sw * n[l - 1] ** -0.5) + bias[l - 1])
        hs.append(act(l, zs[-1]))
    f = hs[-1] @ v * (sw * n[-1] ** -0.5) + readout

    grads = plan.gradients
    deltas = [jnp.zeros((0, w)) for w in net.widths]  # deltas[l]: df/dz, per leaf
    if grads:
        deltas[-1] = sw * n[-1] ** -0.5 * v[None, :] * s[1](_rows(zs[-1], grads))
        for l in range(d - 1, 0, -1):
            back = weights.left(l, deltas[l]) * (sw * n[l - 1] ** -0.5)
            deltas[l - 1] = s[1](_rows(zs[l - 1], grads)) * back
        leaves = [_rows(x, grads) for x in [xs] + hs]  # the leaves' inputs to each layer
        gram = (deltas[0] @ deltas[0].T) * _share(net, scale ** 2 * leaves[0], leaves[0].T,
                                                  net.first_bias)
        for l in range(1, d):
            gram += (deltas[l] @ deltas[l].T) * _share(net, leaves[l] / n[l - 1],
                                                        leaves[l].T, net.bias)
        gram += _share(net, leaves[-1] / n[-1], leaves[-1].T, net.readout_bias)

    taylor = _directional(plan.taylor, grads, net, n, weights, xs, zs, hs, deltas, s, v,
                          scale)
    values = []
    for product in plan.products:
        value = jnp.ones((), xs.dtype)
        for star in product:
            if not star.leaves:
                value = value * f[star.centre]
            elif len(star.leaves) == 1:
                value = value * gram[grads.index(star.leaves[0]), grads.index(star.centre)]
            else:
                value = value * taylor[star]
        values.append(value)
    return jnp.stack(values)


def _rows(a: jax.Array, rows: tuple[int, ...]) -> jax.Array:
    """``a[rows]`` by slices, not a gather (XLA's gather of whole n-vectors is slow)."""
    if rows == tuple(range(rows[0], rows[0] + len(rows))):
        return a[rows[0]:rows[0] + len(rows)]
    return jnp.stack([a[r] for r in rows])


def _share(net: Network, a: jax.Array, b: jax.Array, bias: bool) -> jax.Array:
    """The factor multiplying delta . delta' in one layer's share of g . g':
    s_w^2 a b (+ s_b^2 with a bias there); a carries 1/n (or c^2 on the inputs)."""
    return net.weight_std ** 2 * (a @ b) + net.bias_std ** 2 * float(bias)


def _directional(stars: tuple[Star, ...], grads: tuple[int, ...], net: Network,
                 n: Sequence, weights: Weights, xs: jax.Array, zs: list, hs: list,
                 deltas: list, s: list, v: jax.Array, scale: float) -> dict[Star, jax.Array]:
    """D^k f(x_c)[g_1..g_k] for each star (widths ``n``): hyper-dual components z[S], S a
    bit mask of directions, pushed layer by layer (every W_l product of a layer in one
    block). A padded unit's components stay 0: each term of s(z)[S], S nonempty, has a
    factor z[B] with B nonempty."""
    if not stars:
        return {}
    d = net.depth
    sw = net.weight_std
    leaf = {star: [grads.index(r) for r in star.leaves] for star in stars}
    comps = {}
    for star in stars:  # layer 1: z_1[{j}] = delta_1^{(j)} (s_w^2 c^2 x_j . x_c [+ s_b^2])
        z = [zs[0][star.centre]] + [jnp.zeros_like(zs[0][0])] * (2 ** len(star.leaves) - 1)
        for j, g in enumerate(leaf[star]):
            z[1 << j] = deltas[0][g] * _share(net, scale ** 2 * xs[star.leaves[j]],
                                               xs[star.centre], net.first_bias)
        comps[star] = z
    for l in range(1, d + 1):
        hcomp = {}
        for star, z in comps.items():
            ds = [fn(z[0]) for fn in s[:len(star.leaves) + 1]]
            hcomp[star] = [hs[l - 1][star.centre]] + [_compose(ds, z, m)
                                                      for m in range(1, len(z))]
        if l == d:
            break
        block = jnp.stack([h for star in stars for h in hcomp[star][1:]])
        answers = iter(weights.right(l, block) * (sw * n[l - 1] ** -0.5))
        for star in stars:
            h, z = hcomp[star], [zs[l][star.centre]]
            for m in range(1, len(h)):
                zm = next(answers)
                for j, g in enumerate(leaf[star]):
                    if m >> j & 1:
                        hj = hs[l - 1][star.leaves[j]]
                        zm = zm + deltas[l][g] * _share(net, hj / n[l - 1], h[m ^ (1 << j)],
                                                         net.bias and m == 1 << j)
                z.append(zm)
            comps[star] = z
    out = {}
    for star, h in hcomp.items():
        full = len(h) - 1
        value = v @ h[full]
        for j in range(len(star.leaves)):
            value = value + hs[-1][star.leaves[j]] @ h[full ^ (1 << j)] * (sw * n[-1] ** -0.5)
        out[star] = value * (sw * n[-1] ** -0.5)  # k >= 2: the readout bias drops out
    return out


def _draws(net: Network) -> dict[str, tuple[int, ...]]:
    """The shape of every dense N(0, 1) draw of one initialization: U, V (column 0) and
    the biases (b_out: output 0)."""
    n = net.widths
    shapes: dict[str, tuple[int, ...]] = {"U": (n[0], net.input_dim), "V": (n[-1], 1)}
    if net.first_bias:
        shapes["b0"] = (n[0],)
    if net.readout_bias:
        shapes["bout"] = (1,)
    if net.bias:
        shapes |= {f"b{l}": (n[l],) for l in range(1, net.depth)}
    return shapes


def _one(plan: Plan, net: Network, key: jax.Array, xs: jax.Array, widths: jax.Array
         ) -> jax.Array:
    """One initialization of the network ``net`` narrowed to ``widths`` (per layer, at
    most ``net.widths``; see ``padded``). All its N(0, 1) numbers come from one
    ``lazy_matrix.normal`` call, sliced in order: the dense draws (``_draws``), then per
    hidden matrix W_l its right and left noise (``LazyWeights``); entries on padded units
    are zeroed (a program wider than ``PAD_WIDTH`` is never padded: no masks). One call
    site keeps the compiled program small: XLA unrolls each random number generator in
    it."""
    n, (right, left) = net.widths, plan.queries
    active = None if max(n) > PAD_WIDTH else [
        (jnp.arange(w) < widths[l]).astype(xs.dtype) for l, w in enumerate(n)]
    shapes, units = dict(_draws(net)), {"U": 0, "V": -1, "b0": 0}
    units |= {f"b{l}": l for l in range(1, net.depth)}  # (layer of the units on axis 0)
    for l in range(1, net.depth):  # the noise: a row per query, (layer of its units on axis 1)
        shapes |= {f"right{l}": (right, n[l]), f"left{l}": (left, n[l - 1])}
        units |= {f"right{l}": (l,), f"left{l}": (l - 1,)}
    sizes = [math.prod(shape) for shape in shapes.values()]
    flat = lazy_matrix.normal(key, (sum(sizes),), xs.dtype)
    parts = jnp.split(flat, np.cumsum(sizes)[:-1])
    draws = {name: part.reshape(shape) for (name, shape), part
             in zip(shapes.items(), parts, strict=True)}
    if active is not None:
        draws = {name: x * _mask(active, units[name], x.ndim) if name in units else x
                 for name, x in draws.items()}
    noise = [(draws.pop(f"right{l}"), draws.pop(f"left{l}")) for l in range(1, net.depth)]
    return integrands(plan, net, draws, LazyWeights(net, noise), xs, active)


def _mask(active: Sequence[jax.Array], unit: int | tuple[int], ndim: int) -> jax.Array:
    """``active`` of layer ``unit`` on axis 0 of an ``ndim`` array, or of layer
    ``unit[0]`` on axis 1 of a matrix."""
    if isinstance(unit, tuple):
        return active[unit[0]][None, :]
    return active[unit].reshape((-1,) + (1,) * (ndim - 1))


#: Networks whose widths are all at most this are sampled by the program of this width
#: (``padded``): one compilation serves every such width. A width of 1024 runs 500
#: initializations of a Table 1 row in about 0.35 CPU s; each compilation saved is 4-5.
PAD_WIDTH = 1024


def padded(net: Network) -> Network:
    """The network whose program samples ``net``: every width raised to ``PAD_WIDTH``
    when none is larger, else ``net`` itself. The padded units are switched off, so the
    samples are exactly ``net``'s in distribution (and depend on ``net`` and the key
    alone, not on which widths are sampled together)."""
    if max(net.widths) > PAD_WIDTH:
        return net
    return dataclasses.replace(net, width=(PAD_WIDTH,) * net.depth)


#: XLA options of the sampler's programs: no YNNPACK dot fusions. Its thin products
#: with a contraction over n, such as the Gram matrices (k x n)(n x k), ran 2-4x slower
#: than XLA's own on CPU (n = 2^20, float32: 2.4 -> 1.5 CPU s per initialization).
COMPILER_OPTIONS = {"xla_cpu_experimental_ynn_fusion_type": ""}


@functools.cache
def compiler_options() -> dict[str, str]:
    """``COMPILER_OPTIONS`` where this XLA knows them (the flag is experimental), else none:
    the programs then run as before, only slower."""
    try:
        jax.jit(lambda x: x + 1, compiler_options=COMPILER_OPTIONS).lower(1.0).compile()
    except jax.errors.JaxRuntimeError:
        return {}
    return dict(COMPILER_OPTIONS)


@functools.lru_cache(maxsize=32)
def _compiled(plan: Plan, net: Network) -> Callable[..., jax.Array]:
    return jax.jit(sharding.batched(functools.partial(_one, plan, net)),
                   compiler_options=compiler_options())


def chunk_size(plan: Plan, net: Network) -> int:
    """Initializations per call so the lazy bases (and scan copies) fit the budget."""
    right, left = plan.queries
    columns = 3 * (right + left) + 8 * plan.rows * 2 ** max(
        (len(s.leaves) for s in plan.taylor), default=0)
    per_init = 8 * columns * sum(net.widths) * 2
    return int(min(64, max(1, MEMORY_BUDGET_BYTES // per_init)))


def lazy_samples(cs: Correlator | str | Sequence[Correlator | str], net: Network,
                 inputs: ArrayLike, inits: int, key: jax.Array, *, chunk: int | None = None,
                 devices: Sequence[jax.Device] | None = None, progress: bool = True,
                 on_inits: Callable[[int], None] | None = None) -> np.ndarray:
    """Integrand samples of several correlators on shared lazy initializations.

    Args:
      cs: star-shaped correlators (or specs); ``var:`` ones give the same integrand.
      net: a network with ``init="gaussian"``.
      inputs: one input per distinct label of all ``cs``, in sorted label order
        (shape (labels, D)), as for ``estimate.sample_integrands``.
      inits: the number of initializations; initialization i uses ``split(key, inits)[i]``
        whatever ``chunk`` and the number of devices.
      key: a PRNG key.
      chunk: initializations per compiled call (default: from a memory budget).
      devices: spread each chunk over these devices (default: all, see ``sharding``).
      on_inits: called with the number of initializations done after every chunk (in
        place of the progress bar); an exception it raises ends the sampling.

    Returns:
      float64 array (inits, len(cs)), computed in the default float dtype: a query
      within ``lazy_matrix.tolerance`` (1e-6 in float64, 1e-2 in float32) of the span of
      earlier ones draws nothing, which lowers that answer's variance by less than
      tolerance^2 times the query's squared norm.
    """
    cs = _as_list(cs)
    reason = unsupported_reason(cs, net)
    if reason is not None:
        raise ValueError(f"the lazy backend cannot sample {reason}; use the dense backend.")
    if isinstance(inits, bool) or not isinstance(inits, int) or inits < 1:
        raise ValueError(f"inits must be a positive integer, got {inits!r}.")
    order = sorted({k for c in cs for k in c.inputs})
    xs = np.asarray(inputs, dtype=np.float64)
    if xs.shape != (len(order), net.input_dim) or not np.all(np.isfinite(xs)):
        raise ValueError(f"need finite inputs of shape ({len(order)}, {net.input_dim}): one "
                         f"per label {order}, got shape {xs.shape}.")
    the_plan = plan(cs, order)
    xs = jnp.asarray(xs, dtype=jnp.result_type(float))
    program = padded(net)
    size = chunk or chunk_size(the_plan, program)
    keys, fn, out = jax.random.split(key, inits), _compiled(the_plan, program), []
    widths = jnp.asarray(net.widths, dtype=xs.dtype)
    block = inits if on_inits is None else size  # one call, or one per reported chunk
    for start in range(0, inits, block):
        out.append(sharding.map_inits(
            fn, keys[start:start + block], (xs, widths), chunk=size, devices=devices,
            progress=progress and on_inits is None, desc=f"lazy, n={net.widths[0]}"))
        if on_inits is not None:
            on_inits(start + len(out[-1]))
    return np.concatenate(out)
