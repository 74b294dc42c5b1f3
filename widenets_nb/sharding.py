"""Initializations spread over devices: one mesh axis, ``"inits"``, over every device.

Independent initializations are embarrassingly parallel, so a chunk of per-initialization
keys is laid out along the mesh axis and ``jit`` runs each device's share where it lives
(computation follows the data). The same code runs unchanged on one CPU, on simulated CPU
devices (``XLA_FLAGS=--xla_force_host_platform_device_count=2``, set before JAX starts),
on a GPU, and across hosts after ``jax.distributed.initialize()``: every process derives
the same keys, feeds the shards it owns, and gathers the answers. Results do not depend on
the number of devices (initialization i always uses key i).

>>> import jax, jax.numpy as jnp
>>> square = batched(lambda key, a: a * jax.random.normal(key))
>>> map_inits(square, jax.random.split(jax.random.key(0), 5), (jnp.float32(2.0),),
...           chunk=2, progress=False).shape
(5,)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import jax
import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from .config import tqdm

AXIS = "inits"


def mesh(devices: Sequence[jax.Device] | None = None) -> Mesh:
    """A one-axis mesh (``"inits"``) over ``devices`` (default: every device of every
    process)."""
    devices = jax.devices() if devices is None else list(devices)
    if not devices:
        raise ValueError("need at least one device for the initialization mesh.")
    return Mesh(np.asarray(devices), (AXIS,))


def batched(one: Callable[..., jax.Array]) -> Callable[..., jax.Array]:
    """``jit(vmap(one))`` over raw key data: ``one(key, *shared)`` handles one
    initialization; the result takes ``(key_data (B, ...), *shared)``. Build it once per
    computation (e.g. under ``functools.lru_cache``) so it compiles once per shape."""

    def with_raw_keys(data: jax.Array, *shared: jax.Array) -> jax.Array:
        def one_init(d: jax.Array) -> jax.Array:
            return one(jax.random.wrap_key_data(d), *shared)

        return jax.vmap(one_init)(data)

    return jax.jit(with_raw_keys)


def _global(array: np.ndarray, sharding: NamedSharding) -> jax.Array:
    """A global array from a value every process holds in full."""
    return jax.make_array_from_callback(array.shape, sharding, lambda index: array[index])


def map_inits(fn: Callable[..., jax.Array], keys: jax.Array, shared: Sequence = (), *,
              chunk: int = 32, devices: Sequence[jax.Device] | None = None,
              progress: bool = True, desc: str = "initializations") -> np.ndarray:
    """``fn(keys[i:j], *shared)`` over chunks of ``keys``, each chunk split over devices.

    Args:
      fn: from ``batched``: (key data (B, ...), *shared) -> (B, ...) results.
      keys: typed PRNG keys, one per initialization (the same on every process).
      shared: arrays every initialization sees (replicated on every device).
      chunk: initializations per call, rounded up to a multiple of the device count.
      devices: the devices to use (default: all).

    Returns:
      The stacked results as float64 numpy, on every process.
    """
    if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1:
        raise ValueError(f"chunk must be a positive integer, got {chunk!r}.")
    grid = mesh(devices)
    size = -(-chunk // grid.size) * grid.size
    split = NamedSharding(grid, PartitionSpec(AXIS))
    whole = NamedSharding(grid, PartitionSpec())
    data = np.asarray(jax.random.key_data(keys))
    shared = [_global(np.asarray(a), whole) for a in shared]
    out = []
    with tqdm(total=len(data), desc=desc, disable=not progress, leave=False) as bar:
        for start in range(0, len(data), size):
            block = data[start:start + size]
            padded = np.concatenate([block, np.repeat(block[:1], size - len(block), 0)])
            result = fn(_global(padded, split), *shared)
            if jax.process_count() > 1:
                result = multihost_utils.process_allgather(result, tiled=True)
            out.append(np.asarray(result, dtype=np.float64)[:len(block)])
            bar.update(len(block))
    return np.concatenate(out)
