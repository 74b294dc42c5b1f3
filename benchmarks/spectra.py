"""Timing of the Hessian spectrum tools; writes benchmarks/results/spectra.md.

    .venv/bin/python benchmarks/spectra.py [--log2-widths 8,12] [--hutchinson-log2-widths 8,10]

Two-hidden-layer ReLU on the two-class MNIST images of the standard Fig. 9a protocol
(``GapProtocol``: 10 per class), default dtype (float32 unless WIDENETS_X64=1):

1. One Hessian-vector product (forward-over-reverse), and the top-20 eigenvalues of H by
   Lanczos with full reorthogonalization (40 products; matfree), compile time apart.
2. A 1000-probe Hutchinson estimate of Tr H^m, m = 1..4 (two products per probe).
3. The growth exponent of each cost with width (log-log slope).

The machine may be shared: the load average is recorded beside the numbers.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from widenets_nb import config
from widenets_nb.spectra import experiments, solvers

PROTOCOL = experiments.GapProtocol.for_profile("standard")

OUT = Path(__file__).parent / "results" / "spectra.md"
TOP, KRYLOV, PROBES = 20, 40, 1000


def _timed(fn, *args) -> float:
    start = time.perf_counter()
    jax.block_until_ready(fn(*args))
    return time.perf_counter() - start


def _instance(width: int) -> tuple[experiments.Setup, dict, jax.Array]:
    """The standard protocol's first instance at ``width``: setup, parameters, probe key."""
    s = experiments.setup(width, 2, "relu", 2, PROTOCOL.per_class, PROTOCOL.seed)
    init, key = experiments.instance_keys(PROTOCOL.seed, width, 0)
    return s, s.net.sample(init), key


def lanczos_row(width: int) -> tuple[str, float, float]:
    s, params, key = _instance(width)
    x, y = solvers.training_set(s.net, s.x, s.y)
    size = solvers.num_params(params)
    product = jax.jit(lambda p, v: solvers.operator(s.net, p, x, y, "H")(v))
    v = jnp.ones(size, x.dtype)
    _timed(product, params, v)
    hvp = min(_timed(product, params, v) for _ in range(3))
    start = jax.random.normal(key, (size,), x.dtype)
    args = (s.net, "H", KRYLOV, params, x, y, start)
    t0 = time.perf_counter()
    compiled = solvers._ritz.lower(*args).compile()
    compile_s = time.perf_counter() - t0
    run = _timed(compiled, params, x, y, start)
    basis_gb = KRYLOV * size * x.dtype.itemsize / 1e9
    share = 1 - KRYLOV * hvp / run
    row = (f"| {width} | {size:,} | {hvp * 1e3:.1f} | {compile_s:.1f} | {run:.1f} | "
           f"{share:.0%} | {basis_gb:.2f} |")
    return row, hvp, run


def hutchinson_row(width: int) -> tuple[str, float]:
    s, params, key = _instance(width)
    solvers.hutchinson_moments(s.net, params, s.x, s.y, probes=50, which=("H",))  # compile
    start = time.perf_counter()
    m = solvers.hutchinson_moments(s.net, params, s.x, s.y, probes=PROBES, which=("H",),
                                   seed=key)
    run = time.perf_counter() - start
    rel = m.stderr["H"] / np.abs(m.trace["H"])
    return (f"| {width} | {solvers.num_params(params):,} | {run:.1f} | "
            + " | ".join(f"{r:.1%}" for r in rel) + " |"), run


def _slope(widths: list[int], times: list[float]) -> str:
    if len(widths) < 2:
        return "(one width: no slope)"
    return f"n^{np.polyfit(np.log(widths), np.log(times), 1)[0]:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log2-widths", default="8,12")
    parser.add_argument("--hutchinson-log2-widths", default="8,10")
    args = parser.parse_args()
    low, high = (int(v) for v in args.log2_widths.split(","))
    hlow, hhigh = (int(v) for v in args.hutchinson_log2_widths.split(","))
    widths, hwidths = [2**k for k in range(low, high + 1)], [2**k for k in range(hlow, hhigh + 1)]
    load = os.getloadavg()
    lines = ["# Hessian spectrum timings", "",
             f"Platform: {os.cpu_count()} CPUs, jax {jax.__version__} on "
             f"{jax.default_backend()}, dtype {jnp.result_type(float)}, x64={config.X64}. "
             f"Load average at start: {load[0]:.1f} (timings are noisy on a shared machine).",
             "", f"## Top-{TOP} eigenvalues of H by Lanczos ({KRYLOV} products, full "
             "reorthogonalization), depth 2, 20 training points", "",
             "| n | P | one HVP (ms) | compile (s) | Lanczos (s) | share not in HVPs | "
             "Krylov basis (GB) |", "|---|---|---|---|---|---|---|"]
    hvps, runs = [], []
    for width in widths:
        row, hvp, run = lanczos_row(width)
        lines.append(row)
        hvps.append(hvp), runs.append(run)
        print(row, flush=True)
    lines += ["", f"Growth with width: HVP ~ {_slope(widths, hvps)}, "
              f"Lanczos ~ {_slope(widths, runs)} (P ~ n^2 at depth 2).", "",
              f"## {PROBES}-probe Hutchinson estimate of Tr H^m, m = 1..4 (2 HVPs per probe)",
              "", "| n | P | time (s) | rel. SE m=1 | m=2 | m=3 | m=4 |",
              "|---|---|---|---|---|---|---|"]
    htimes = []
    for width in hwidths:
        row, run = hutchinson_row(width)
        lines.append(row)
        htimes.append(run)
        print(row, flush=True)
    lines += ["", f"Growth with width: Hutchinson ~ {_slope(hwidths, htimes)}.",
              f"Load average at end: {os.getloadavg()[0]:.1f}."]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(lines) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
