"""Timing of the correlator estimator; writes benchmarks/results/correlators.md.

    .venv/bin/python benchmarks/correlators.py [--log2-widths 7,13] [--inits 32]

1. All six Table 1 integrands together (depth 3, tanh, shared initializations), seconds
   per 1000 initializations at each width (timed on ``--inits`` after a compile run).
2. The naive baseline (explicit ``jax.hessian``/``jacfwd`` tensors + ``einsum``, method
   ``dense``) against the estimator, at the widths where the dense tensors fit.
3. XLA CPU primitives: ``W @ v``, ``W.T @ v``, ``v @ W``, the vjp of ``W @ v`` and writing
   an n x n outer product (a weight gradient).
4. The wall time of ``reproduce table1`` in each profile with committed results.

The machine may be shared: the load average is recorded beside the numbers.
"""

from __future__ import annotations

import argparse
import functools
import os
import time
from pathlib import Path

import jax
import jax.numpy as jnp

from widenets_nb import config, results
from widenets_nb.correlators import NAMED
from widenets_nb.correlators.estimate import default_inputs, sample_integrands
from widenets_nb.correlators.experiments import Table
from widenets_nb.nets import Network

ROWS = [NAMED[f"table1.row{i}"] for i in range(1, 7)]
OUT = Path(__file__).parent / "results" / "correlators.md"


def _timed(fn, *args) -> float:
    start = time.perf_counter()
    jax.block_until_ready(fn(*args))
    return time.perf_counter() - start


def estimator_rows(widths: list[int], inits: int) -> list[str]:
    lines = ["| n | parameters | compile + first run (s) | s per 1000 inits |", "|---|---|---|---|"]
    xs = default_inputs(6, 4)
    for n in widths:
        net = Network(input_dim=4, width=n, depth=3, activation="tanh")
        sample = functools.partial(sample_integrands, ROWS, net, xs, inits, progress=False)
        first = _timed(sample)
        run = _timed(functools.partial(sample, seed=1))
        lines.append(f"| {n} | {net.num_params} | {first:.1f} | {run / inits * 1000:.1f} |")
        print(lines[-1], flush=True)
    return lines


def baseline_rows(widths: list[int], inits: int) -> list[str]:
    lines = ["| n | parameters | dense s/1000 | estimator s/1000 | ratio |",
             "|---|---|---|---|---|"]
    xs = default_inputs(6, 4)
    for n in widths:
        net = Network(input_dim=4, width=n, depth=3, activation="tanh")
        times = {}
        for method in ("dense", "forest"):
            sample = functools.partial(sample_integrands, ROWS, net, xs, inits, method=method,
                                       chunk=8, progress=False)
            sample()
            times[method] = _timed(functools.partial(sample, seed=1))
        lines.append(f"| {n} | {net.num_params} | {times['dense'] / inits * 1000:.1f} | "
                     f"{times['forest'] / inits * 1000:.1f} | "
                     f"{times['dense'] / times['forest']:.1f} |")
        print(lines[-1], flush=True)
    return lines


def primitive_rows(widths: list[int], repeats: int = 5) -> list[str]:
    lines = ["| n | W @ v (ms) | W.T @ v (ms) | v @ W (ms) | vjp of W @ v (ms) | "
             "outer product n x n (ms) |", "|---|---|---|---|---|---|"]
    for n in widths:
        w = jax.random.normal(jax.random.key(0), (n, n))
        v = jax.random.normal(jax.random.key(1), (n,))
        ops = {
            "Wv": jax.jit(lambda w, v: w @ v),
            "WTv": jax.jit(lambda w, v: w.T @ v),
            "vW": jax.jit(lambda w, v: v @ w),
            "vjp": jax.jit(lambda w, v: jax.vjp(lambda u: w @ u, v)[1](v)[0]),
            "outer": jax.jit(lambda w, v: jnp.outer(v, v)),
        }
        ms = {}
        for name, op in ops.items():
            _timed(op, w, v)
            ms[name] = 1000 * min(_timed(op, w, v) for _ in range(repeats))
        lines.append(f"| {n} | " + " | ".join(f"{ms[k]:.2f}" for k in ops) + " |")
        print(lines[-1], flush=True)
    return lines


def reproduce_rows() -> list[str]:
    lines = ["| profile | widths | inits | wall time (s) | date |", "|---|---|---|---|---|"]
    for profile in config.PROFILES:
        try:
            report = results.load("table1", profile)
        except FileNotFoundError:
            lines.append(f"| {profile} | not run | | | |")
            continue
        p, meta = Table.from_report(report).protocol, report.provenance
        lines.append(f"| {profile} | {list(p.widths)} | {p.inits} | {meta.wall_time_s} | "
                     f"{meta.date} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log2-widths", default="7,13", help="low,high exponents")
    parser.add_argument("--inits", type=int, default=32, help="timed inits per width")
    parser.add_argument("--baseline-widths", default="2,4,8")
    parser.add_argument("--primitive-widths", default="2048,8192")
    args = parser.parse_args()
    low, high = (int(k) for k in args.log2_widths.split(","))
    load_before = os.getloadavg()
    sections = [
        "# Correlator estimator benchmark", "",
        f"jax {jax.__version__} on {jax.default_backend()}, {os.cpu_count()} CPUs, "
        f"dtype {jnp.result_type(float)}; load average before: "
        f"{', '.join(f'{x:.1f}' for x in load_before)}"
        + (" (a shared machine: timings are noisy and inflated by other processes)."
           if load_before[0] > (os.cpu_count() or 1) + 1 else " (otherwise idle)."), "",
        "## Six Table 1 integrands together (depth 3, tanh)", "",
        *estimator_rows([2**k for k in range(low, high + 1)], args.inits), "",
        "## Naive dense baseline (explicit jacfwd/hessian tensors + einsum) vs estimator", "",
        *baseline_rows([int(w) for w in args.baseline_widths.split(",")], 16), "",
        "## XLA CPU primitives (best of 5)", "",
        *primitive_rows([int(w) for w in args.primitive_widths.split(",")]), "",
        "## reproduce table1 wall time", "", *reproduce_rows(), "",
        f"Load average after: {', '.join(f'{x:.1f}' for x in os.getloadavg())}.",
    ]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(sections) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
