"""Benchmark: training-scan speed (Fig. 1a setup), kernel methods, ``reproduce fig1a`` wall time.

Run by hand: ``.venv/bin/python benchmarks/training.py [--standard]``; writes
``benchmarks/results/training.md``. ``--standard`` also times a fresh (empty-cache) standard
profile run, otherwise its wall time is read from the committed result's provenance.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import os
import platform
import tempfile
import time
from pathlib import Path

import jax
import numpy as np

from widenets_nb import config, results
from widenets_nb.dynamics import TrainConfig, train_many
from widenets_nb.nets import init_many
from widenets_nb.ntk import ntk, ntk_vp
from widenets_nb.training.experiments import (
    TRAIN_BLOCK,
    DriftProtocol,
    fig1a,
    gram_inputs,
    mnist_pair,
)

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "results" / "training.md"


def _best(fn, *args, repeats: int = 3) -> float:
    """The fastest of ``repeats`` calls ``fn(*args)`` after one compiling call."""
    jax.block_until_ready(fn(*args))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn(*args))
        times.append(time.perf_counter() - start)
    return min(times)


def scan_speed(steps: int = 32) -> list[str]:
    """Optimizer steps per second of the vmapped training scan, standard Fig. 1a setup, on
    the MNIST images (D = 784) and on their Gram-equivalent inputs (D = N, what
    ``kernel_drift`` trains on; the same law of f and Theta)."""
    setup = DriftProtocol.for_profile("standard")
    images, y = mnist_pair(setup.samples_per_class, setup.seed)
    inputs = {"images": (images, setup.network), "Gram": (gram_inputs(images),
                                                          setup.reduced_network)}
    rows = ["| width | optimizer | inputs (D) | inits | steps/s (all inits) | init-steps/s |",
            "|---|---|---|---|---|---|"]
    for width in (256, 1024, 2048, 4096):
        for name, (x, network) in inputs.items():
            net = network("relu", width)
            params = init_many(net, jax.random.key(0), TRAIN_BLOCK)
            for optimizer in setup.optimizers:
                cfg = TrainConfig(learning_rate=setup.learning_rate, steps=steps,
                                  optimizer=optimizer, batch_size=setup.batch_size,
                                  record_steps=(0, steps))
                seconds = _best(_train, net, params, x, y, cfg, TRAIN_BLOCK, repeats=2)
                rows.append(f"| {width} | {optimizer} | {name} ({x.shape[1]}) | {TRAIN_BLOCK} "
                            f"| {steps / seconds:.1f} | {steps * TRAIN_BLOCK / seconds:.0f} |")
                print(rows[-1], flush=True)
    return rows


def _train(net, params, x, y, cfg, chunk):
    return train_many(net, params, x, y, cfg, chunk=chunk, progress=False).loss


@functools.partial(jax.jit, static_argnums=0)
def _direct(net, params, x):
    return ntk(net, params, x)


@functools.partial(jax.jit, static_argnums=0)
def _products(net, params, x):
    return jax.vmap(lambda v: ntk_vp(net, params, x, v))(np.eye(len(x)))


def kernel_methods() -> list[str]:
    """The full kernel: chunked J J^T (``ntk``) vs N NTK-vector products (``ntk_vp``)."""
    x, _ = mnist_pair(32, 0)
    rows = ["| network | N | J J^T (s) | N NTK-vector products (s) |", "|---|---|---|---|"]
    standard = DriftProtocol.for_profile("standard")
    for depth, width in ((1, 1024), (2, 1024)):
        net = dataclasses.replace(standard.network("relu", width), depth=depth)
        params = net.sample(jax.random.key(0))
        t1 = _best(_direct, net, params, x)
        t2 = _best(_products, net, params, x)
        rows.append(f"| depth {depth}, width {width} | {len(x)} | {t1:.3f} | {t2:.3f} |")
        print(rows[-1], flush=True)
    return rows


def reproduce_time(profile: str) -> float:
    """Wall time of the ``reproduce fig1a`` computation with an empty cache (nothing is
    written to data/results)."""
    with tempfile.TemporaryDirectory() as directory:
        saved, config.CACHE_DIR = config.CACHE_DIR, Path(directory)
        try:
            start = time.perf_counter()
            fig1a(profile)
            return time.perf_counter() - start
        finally:
            config.CACHE_DIR = saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--standard", action="store_true", help="also time a fresh standard run")
    args = parser.parse_args()
    lines = ["# Training benchmarks", "",
             f"{platform.machine()}, {os.cpu_count()} CPUs, jax {jax.__version__} on "
             f"{jax.default_backend()}, float32. The machine is shared with other jobs, so "
             "timings are noisy (best of repeats).", "",
             "## Training scan (standard Fig. 1a setup: depth 1, ReLU, MNIST, vmapped inits)",
             ""]
    lines += scan_speed()
    lines += ["", "## Full kernel: chunked J J^T vs NTK-vector products", ""]
    lines += kernel_methods()
    lines += ["", "## `reproduce fig1a` wall time (empty cache)", "",
              "| profile | wall time (s) |", "|---|---|",
              f"| quick | {reproduce_time('quick'):.0f} |"]
    if args.standard:
        lines.append(f"| standard | {reproduce_time('standard'):.0f} |")
    elif results.path("fig1a", "standard").exists():
        wall = results.load("fig1a", "standard").provenance.wall_time_s
        lines.append(f"| standard | {wall:.0f} (committed run's provenance; units found in "
                     "the cache were not recomputed) |")
    OUT.write_text("\n".join(lines) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
