"""Monte Carlo estimates of correlation functions over initializations (Def. 1, eq. 3).

The integrand of one initialization, sum_{mu...} T(x_1) ... T(x_m), is composed from
gradients and forward-mode directional derivatives, never from a materialized Hessian.
Root every tree of the contraction graph at its busiest tensor; a tensor sends its parent
the gradient of its directional derivative along its children's messages:

    message(v) = grad_theta D^k f(x_v)[message(c_1), ..., message(c_k)],

and a root contributes D^k f(x_r)[...]. For ``f1_a f2_b f3_c f4_abc`` that is
D^3 f(x_4)[g_1, g_2, g_3] with g_i = grad f(x_i). This is exact when the contraction graph
is a forest (every table row). A cycle or trace (``f1_ab f2_ab``, ``f1_aa``) is closed by
Rademacher probes z (E[z z^T] = I): each extra letter is replaced by the same probe on both
of its tensors, an unbiased Hutchinson estimate averaged over ``probes`` draws. ``dense``
contracts explicit ``jacfwd`` tensors with ``einsum`` (tiny networks only).

Initializations are ``vmap``-ed in chunks under ``jit`` with a progress bar; the raw
integrand samples are kept (``Measurement``).

A model of your own (the dense backend). ``integrand`` and ``sample_integrands`` take any
hashable object (a frozen dataclass: it is a static argument) in place of the
``Network``. ``integrand`` uses only ``model.scalar(params, x)``, a scalar f for one
input x of shape (D,), with ``params`` any pytree (method ``dense`` also reads
``model.num_params``). ``sample_integrands`` adds ``model.sample(key)`` (one
initialization's parameters), ``model.input_dim`` (D), ``model.widths[0]`` (folded into
the initialization keys) and ``model.num_params`` (the chunk size, unless ``chunk`` is
given). A Flax module, for instance:

>>> import dataclasses
>>> from widenets_nb.nets import MLP
>>> from widenets_nb.ntk import empirical_ntk
>>> @dataclasses.dataclass(frozen=True)
... class FlaxModel:
...     module: MLP
...     input_dim: int = 2
...     widths: tuple[int, ...] = (8,)
...     num_params: int = 88
...     def sample(self, key):
...         return self.module.init(key, jnp.zeros((1, self.input_dim)))["params"]
...     def scalar(self, params, x):
...         return self.module.apply({"params": params}, x)[..., 0]
>>> model = FlaxModel(MLP(Network(input_dim=2, width=8, depth=2, activation="tanh")))
>>> params, xs = model.sample(jax.random.key(0)), jnp.array([[1.0, 0.5], [0.2, -1.0]])
>>> gram = integrand("f1_a f2_a", model)(params, xs, None)   # grad f(x1) . grad f(x2)
>>> theta = empirical_ntk(lambda p, x: model.module.apply({"params": p}, x), params, xs)
>>> bool(jnp.allclose(gram, theta[0, 1, 0, 0], rtol=1e-5))
True
>>> sample_integrands(["f1 f2", "f1_a f2_a"], model, xs, 16, progress=False).shape
(16, 2)

Where it does not work: ``measure``/``measure_all`` build ``Network``s from their
arguments (widths, activation, ...) and take no model; the lazy backend
(``backend="lazy"``/``"auto"``) implements the MLP's layers and needs a ``Network``;
``Measurement.network`` is a ``Network``. For another model, call ``sample_integrands``
per width and take the mean or variance of its columns (``fits.moment``).
"""

from __future__ import annotations

import dataclasses
import functools
import warnings
from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree
from jax.typing import ArrayLike

from .. import cache
from ..config import tqdm
from ..fits import moment
from ..nets import Network, Params
from . import lazy
from .clusters import is_forest
from .notation import Correlator, parse

METHODS: tuple[str, ...] = ("auto", "forest", "hutchinson", "dense")
DENSE_MAX_ENTRIES = 20_000_000
MEMORY_BUDGET_BYTES = 2 << 30

Integrand = Callable[[Params, jax.Array, jax.Array], jax.Array]


#: The seed of the default inputs. Among the U[0,1]^4 draws with seeds 0..7 it is the one
#: whose smallest |mean| / stderr over the six table rows, three activations and both
#: inits is largest (7.7 at n = 128 and 1024, 1000 inits; seed 0 leaves tanh row 4 at 0.1,
#: its leading coefficient changes sign with the inputs): ``scripts/choose_inputs.py``,
#: ``benchmarks/results/input_scan.md``.
INPUT_SEED = 1


def default_inputs(count: int, input_dim: int, seed: int = INPUT_SEED) -> np.ndarray:
    """The default inputs: ``count`` points drawn from U[0, 1]^D with ``seed``; the first
    k rows do not depend on ``count``, so x_1..x_k are the same for every correlator.

    Their positive overlaps keep every table mean well away from zero (nearly orthogonal
    inputs such as N(0, I/4) in D = 4 leave some means unresolved at 1000 inits).
    """
    return np.random.default_rng(seed).uniform(size=(count, input_dim))


def widths_from_exponents(low: int, high: int) -> tuple[int, ...]:
    """The widths 2^low, ..., 2^high."""
    if not 0 <= low <= high:
        raise ValueError(f"need 0 <= low <= high for widths 2^low..2^high, got {low}, {high}.")
    return tuple(2**k for k in range(low, high + 1))


def _directional(fn: Callable, tangents: Sequence[Params]) -> Callable:
    """theta -> D^k fn(theta)[t_1, ..., t_k] by nested forward-mode ``jvp``."""
    for tangent in tangents:
        fn = functools.partial(_along, fn, tangent)
    return fn


def _along(fn: Callable, tangent: Params, theta: Params) -> jax.Array:
    return jax.jvp(fn, (theta,), (tangent,))[1]


@dataclasses.dataclass(frozen=True)
class _Plan:
    """A spanning forest of the contraction graph: tree letters, probe letters, roots."""

    tree: dict[int, tuple[tuple[str, int], ...]]  # factor -> ((letter, neighbour), ...)
    probes: dict[int, tuple[str, ...]]  # factor -> probe letters (twice for a trace)
    roots: tuple[int, ...]
    probe_letters: tuple[str, ...]


def _plan(c: Correlator) -> _Plan:
    parent = list(range(c.m))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    tree: dict[int, list[tuple[str, int]]] = {i: [] for i in range(c.m)}
    probes: dict[int, list[str]] = {i: [] for i in range(c.m)}
    cut: list[str] = []
    for letter, (i, j) in c.contractions:
        if find(i) != find(j):
            parent[find(i)] = find(j)
            tree[i].append((letter, j))
            tree[j].append((letter, i))
        else:
            cut.append(letter)
            probes[i].append(letter)
            probes[j].append(letter)
    components: dict[int, list[int]] = {}
    for i in range(c.m):
        components.setdefault(find(i), []).append(i)
    roots = tuple(max(members, key=lambda v: (len(tree[v]), -v))
                  for members in components.values())
    return _Plan({k: tuple(v) for k, v in tree.items()},
                 {k: tuple(v) for k, v in probes.items()}, roots, tuple(cut))


def labels(cs: Sequence[Correlator]) -> tuple[int, ...]:
    """The distinct input labels of several correlators, sorted: row i of ``xs`` is
    x_{labels[i]}."""
    return tuple(sorted({k for c in cs for k in c.inputs}))


def _rows(c: Correlator, order: tuple[int, ...]) -> tuple[int, ...]:
    """The row of ``xs`` holding each factor's input."""
    return tuple(order.index(f.input) for f in c.factors)


def _tree_integrand(c: Correlator, net: Network, plan: _Plan, rows: tuple[int, ...]
                    ) -> Integrand:
    """The integrand for fixed probes: exact for a forest (no probe letters)."""

    def integrand(params: Params, xs: jax.Array, probe: dict[str, Params]) -> jax.Array:
        def output(v: int) -> Callable:
            return lambda theta: net.scalar(theta, xs[rows[v]])

        def tangents(v: int, parent: int | None) -> list[Params]:
            children = [message(u, v) for _, u in plan.tree[v] if u != parent]
            return children + [probe[letter] for letter in plan.probes[v]]

        def message(v: int, parent: int) -> Params:
            return jax.grad(_directional(output(v), tangents(v, parent)))(params)

        value = jnp.ones((), dtype=jnp.result_type(*jax.tree.leaves(params)))
        for root in plan.roots:
            value = value * _directional(output(root), tangents(root, None))(params)
        return value

    return integrand


def _hutchinson(c: Correlator, net: Network, plan: _Plan, rows: tuple[int, ...],
                probes: int) -> Integrand:
    exact = _tree_integrand(c, net, plan, rows)

    def integrand(params: Params, xs: jax.Array, key: jax.Array) -> jax.Array:
        def one(k: jax.Array) -> jax.Array:
            keys = jax.random.split(k, len(plan.probe_letters))
            draws = {letter: _rademacher_like(params, kk)
                     for letter, kk in zip(plan.probe_letters, keys, strict=True)}
            return exact(params, xs, draws)

        return jnp.mean(jax.lax.map(one, jax.random.split(key, probes)))

    return integrand


def _rademacher_like(params: Params, key: jax.Array) -> Params:
    leaves, treedef = jax.tree.flatten(params)
    keys = jax.random.split(key, len(leaves))
    return jax.tree.unflatten(treedef, [jax.random.rademacher(k, leaf.shape, leaf.dtype)
                                        for k, leaf in zip(keys, leaves, strict=True)])


def _dense_integrand(c: Correlator, net: Network, rows: tuple[int, ...]) -> Integrand:
    """Explicit derivative tensors (nested ``jacfwd``) contracted with ``einsum``."""

    def integrand(params: Params, xs: jax.Array, key: jax.Array) -> jax.Array:
        flat, unravel = ravel_pytree(params)
        tensors = []
        for factor, row in zip(c.factors, rows, strict=True):
            fn = functools.partial(lambda theta, x: net.scalar(unravel(theta), x),
                                   x=xs[row])
            for _ in factor.indices:
                fn = jax.jacfwd(fn)
            tensors.append(fn(flat))
        subscripts = ",".join("".join(f.indices) for f in c.factors) + "->"
        return jnp.einsum(subscripts, *tensors)

    return integrand


def integrand(c: Correlator | str, net: Network, method: str = "auto", probes: int = 16,
              rows: tuple[int, ...] | None = None) -> Integrand:
    """The integrand sum_{mu...} T(x_1)...T(x_m) of one initialization (Def. 1).

    Returns ``fn(params, xs, key)``: ``xs`` holds one input per distinct label, in the
    order of ``c.inputs``; ``key`` draws the
    Hutchinson probes (unused by the exact methods).

    Args:
      c: the correlator (or its spec); ``var:`` is ignored here (same integrand).
      net: the network.
      method: ``forest`` (exact, needs a forest contraction graph), ``hutchinson``
        (``probes`` Rademacher probes per initialization, unbiased), ``dense`` (explicit
        tensors, small networks) or ``auto`` (forest when possible, else hutchinson).
      probes: the number of probe draws averaged per initialization (hutchinson only).
      rows: the row of ``xs`` for each factor (default: by ``c.inputs``).
    """
    c = parse(c) if isinstance(c, str) else c
    rows = _rows(c, c.inputs) if rows is None else rows
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}.")
    method = _resolve(c, method)
    if method == "forest":
        if not is_forest(c):
            raise ValueError(f"{c.text!r} has a cycle or trace in its contraction graph; "
                             "use method='hutchinson' (or 'dense' for a tiny network).")
        exact = _tree_integrand(c, net, _plan(c), rows)
        return lambda params, xs, key: exact(params, xs, {})
    if method == "dense":
        entries = sum(net.num_params ** len(f.indices) for f in c.factors)
        if entries > DENSE_MAX_ENTRIES:
            raise ValueError(f"dense tensors for {c.text!r} need {entries:.3g} entries at "
                             f"{net.num_params} parameters; use a smaller width or "
                             "method='forest'/'hutchinson'.")
        return _dense_integrand(c, net, rows)
    if isinstance(probes, bool) or not isinstance(probes, int) or probes < 1:
        raise ValueError(f"probes must be a positive integer, got {probes!r}.")
    return _hutchinson(c, net, _plan(c), rows, probes)


def _resolve(c: Correlator, method: str) -> str:
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}.")
    if method == "auto":
        return "forest" if is_forest(c) else "hutchinson"
    return method


def _chunk_size(cs: Sequence[Correlator], net: Network) -> int:
    """Initializations per ``vmap`` chunk so live parameter-sized vectors fit the budget."""
    # Measured: the six Table 1 rows at n = 1024 peak below 100 MB per initialization
    # (about a dozen parameter-sized vectors); count one vector per index plus four.
    vectors = 4 + sum(len(f.indices) for c in cs for f in c.factors)
    itemsize = jnp.zeros((), dtype=float).dtype.itemsize
    per_init = net.num_params * itemsize * vectors
    return int(min(32, max(1, MEMORY_BUDGET_BYTES // per_init)))


def _as_correlators(cs: Correlator | str | Sequence[Correlator | str]) -> list[Correlator]:
    if isinstance(cs, (str, Correlator)):
        cs = [cs]
    out = [parse(c) if isinstance(c, str) else c for c in cs]
    if not out:
        raise ValueError("give at least one correlator.")
    return out


@functools.lru_cache(maxsize=32)
def _compiled(cs: tuple[Correlator, ...], net: Network, method: str, probes: int
              ) -> Callable[[jax.Array, jax.Array], jax.Array]:
    """``jit(vmap(keys, xs -> integrands))``, compiled once per correlators and network."""
    order = labels(cs)
    fns = [integrand(c, net, method, probes, _rows(c, order)) for c in cs]

    def all_integrands(key: jax.Array, xs: jax.Array) -> jax.Array:
        params = net.sample(key)
        return jnp.stack([fn(params, xs, jax.random.fold_in(key, i + 1))
                          for i, fn in enumerate(fns)])

    return jax.jit(jax.vmap(all_integrands, in_axes=(0, None)))


def sample_integrands(cs: Sequence[Correlator | str], net: Network, xs: ArrayLike,
                      inits: int, seed: int = 0, method: str = "auto", probes: int = 16,
                      chunk: int | None = None, progress: bool = True,
                      on_inits: Callable[[int], None] | None = None) -> np.ndarray:
    """The integrands of several correlators on the same initializations: (inits, len(cs)).

    All correlators share one parameter draw per initialization (and XLA shares their
    common gradients). ``xs`` holds one input per label of ``labels(cs)``. Initialization
    i uses key ``split(fold_in(key(seed), width), inits)[i]`` whatever the chunk size, so
    results are reproducible and resumable. ``on_inits`` is called with the number of
    initializations done after every chunk; an exception it raises ends the sampling.
    """
    cs = _as_correlators(cs)
    if isinstance(inits, bool) or not isinstance(inits, int) or inits < 2:
        raise ValueError(f"inits must be an integer >= 2 (a standard error needs two), "
                         f"got {inits!r}.")
    xs = _check_inputs(labels(cs), net, xs)
    one = _compiled(tuple(cs), net, method, probes)
    size = chunk or _chunk_size(cs, net)
    keys = jax.random.split(jax.random.fold_in(jax.random.key(seed), net.widths[0]), inits)
    name = cs[0].text if len(cs) == 1 else f"{len(cs)} correlators"
    out = []
    with tqdm(total=inits, desc=f"{name}, n={net.widths[0]}", disable=not progress,
              leave=False) as bar:
        for start in range(0, inits, size):
            batch = keys[start:start + size]
            out.append(np.asarray(one(batch, xs), dtype=np.float64))
            bar.update(len(batch))
            if on_inits is not None:
                on_inits(start + len(batch))
    return np.concatenate(out)


def _check_inputs(order: tuple[int, ...], net: Network, xs: ArrayLike) -> jax.Array:
    """One input row per distinct label, in sorted label order."""
    xs = np.asarray(xs, dtype=np.float64)
    if xs.ndim != 2 or xs.shape[0] != len(order) or xs.shape[1] != net.input_dim:
        names = ", ".join(f"x_{k}" for k in order)
        raise ValueError(f"need one input per distinct label ({names}): an array of shape "
                         f"({len(order)}, {net.input_dim}), got shape {xs.shape}.")
    if not np.all(np.isfinite(xs)):
        raise ValueError("inputs must be finite numbers.")
    return jnp.asarray(xs, dtype=jnp.result_type(float))


@dataclasses.dataclass(frozen=True)
class Measurement:
    """Integrand samples of one correlator at several widths.

    Attributes:
      spec: the canonical correlator spelling (``var:`` for a variance).
      widths: the widths n, increasing.
      samples: per width, the (inits,) integrand samples.
      inputs: the inputs used, one row per distinct label (sorted).
      network: the network at the first width (its other options apply to every width).
    """

    spec: str
    widths: tuple[int, ...]
    samples: tuple[np.ndarray, ...]
    inputs: np.ndarray
    network: Network

    @property
    def statistic(self) -> str:
        """``"variance"`` for a ``var:`` correlator, else ``"mean"``."""
        return "variance" if parse(self.spec).variance else "mean"

    @property
    def values(self) -> np.ndarray:
        """The correlator (mean or variance of the integrand) at each width."""
        return np.array([moment(s, self.statistic)[0] for s in self.samples])

    @property
    def stderr(self) -> np.ndarray:
        """The standard error of ``values``."""
        return np.array([moment(s, self.statistic)[1] for s in self.samples])


BACKENDS: dict[str, str] = {
    "auto": "lazy where it is supported and n >= lazy.CROSSOVER_WIDTH, else dense",
    "dense": "compose gradients and jvps of sampled networks (any correlator and init)",
    "lazy": "exact Gaussian conditioning without the n x n weight matrices (star-shaped "
            "correlators, Gaussian init; anything else falls back to dense)",
}


def choose_backend(cs: Sequence[Correlator], net: Network, backend: str = "auto",
                   method: str = "auto") -> str:
    """The backend that samples ``cs`` on ``net``, ``"dense"`` or ``"lazy"``; a requested
    lazy backend that cannot be used falls back to dense with a one-line warning."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}.")
    if backend == "dense":
        return "dense"
    reason = lazy.unsupported_reason(cs, net)
    if reason is None and method not in ("auto", "forest"):
        reason = f"method={method!r} needs the sampled network"
    if backend == "lazy" and reason is not None:
        warnings.warn(f"lazy backend: {reason}; using the dense path.", stacklevel=3)
    if reason is not None:
        return "dense"
    return "lazy" if backend == "lazy" or min(net.widths) >= lazy.CROSSOVER_WIDTH else "dense"


def measure_all(cs: Sequence[Correlator | str], widths: Sequence[int], inits: int,
                seed: int = 0, *, activation: str = "tanh", depth: int = 3,
                init: str = "gaussian", bias: bool = False, input_dim: int = 4,
                weight_std: float = 1.0, bias_std: float = 1.0,
                inputs: ArrayLike | None = None, method: str = "auto", probes: int = 16,
                backend: str = "auto", use_cache: bool = False,
                progress: bool = True, on_inits: Callable[[int, int], None] | None = None
                ) -> tuple[Measurement, ...]:
    """Sample several correlators on shared initializations at every width (Def. 1).

    The defaults are the Table 1 protocol: tanh, 3 hidden layers, Gaussian weights,
    input dimension 4, inputs from ``default_inputs``.

    Args:
      cs: correlators (or specs); ``var:`` ones are measured by the variance of the
        integrand (Table 3).
      widths: the hidden-layer widths n.
      inits: initializations per width.
      seed: derives the initializations.
      weight_std, bias_std: the network's weight and bias scales (``nets.Network``).
      inputs: one input per distinct label of ``labels(cs)``, in sorted label order
        (default: ``default_inputs(len(labels(cs)), input_dim)``, the ``INPUT_SEED`` draw).
      method: see ``integrand``.
      backend: how integrands are sampled; ``BACKENDS`` lists the choices.
      use_cache: store each width in the result cache (``cache.cached``) so an
        interrupted run resumes.
      on_inits: ``on_inits(width, done)`` after every chunk of initializations sampled
        (not for widths read from the cache); an exception it raises ends the measurement.
    """
    cs = _as_correlators(cs)
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}.")
    for c in cs:
        if c.variance and _resolve(c, method) == "hutchinson":
            raise ValueError(f"{c.text!r}: probes would add their own variance to the "
                             "integrand's; use method='dense' (tiny networks) for a cyclic "
                             "variance.")
    widths = tuple(sorted(set(widths)))
    if not widths:
        raise ValueError("give at least one width.")
    nets = [Network(input_dim=input_dim, width=w, depth=depth, activation=activation,
                    init=init, bias=bias, weight_std=weight_std, bias_std=bias_std)
            for w in widths]
    order = labels(cs)
    xs = default_inputs(len(order), input_dim) if inputs is None else inputs
    _check_inputs(order, nets[0], xs)
    xs = np.asarray(xs, dtype=np.float64)
    per_width = []
    for net in nets:
        chosen = choose_backend(cs, net, backend, method)

        def compute(net: Network = net, chosen: str = chosen) -> dict[str, np.ndarray]:
            report = None if on_inits is None else functools.partial(on_inits, net.widths[0])
            if chosen == "lazy":
                init_key = jax.random.fold_in(jax.random.key(seed), net.widths[0])
                return {"samples": lazy.lazy_samples(cs, net, xs, inits, init_key,
                                                     progress=progress, on_inits=report)}
            return {"samples": sample_integrands(cs, net, xs, inits, seed, method, probes,
                                                 progress=progress, on_inits=report)}
        key = {"specs": [Correlator(c.factors).text for c in cs], "network": net,
               "inits": inits, "seed": seed, "inputs": xs, "method": method,
               "probes": probes, "backend": chosen, "dtype": str(jnp.result_type(float)),
               "stream": lazy.STREAM if chosen == "lazy" else None}
        entry = cache.cached("correlators", key, compute) if use_cache else compute()
        per_width.append(np.asarray(entry["samples"], dtype=np.float64))
    return tuple(
        Measurement(c.text, widths, tuple(s[:, i] for s in per_width),
                    xs[[order.index(k) for k in c.inputs]], nets[0])
        for i, c in enumerate(cs)
    )


def measure(c: Correlator | str, widths: Sequence[int], inits: int, seed: int = 0,
            **options) -> Measurement:
    """Sample one correlator at every width; ``options`` as for ``measure_all``."""
    return measure_all([c], widths, inits, seed, **options)[0]
