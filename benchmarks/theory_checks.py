"""Full-size checks of the 1/n theory against Monte Carlo (notebook 06's experiments).

    nice -n 10 .venv/bin/python benchmarks/theory_checks.py            # all three checks
    nice -n 10 .venv/bin/python benchmarks/theory_checks.py --inits 40000 --widths 8 16 32 64
    nice -n 10 .venv/bin/python benchmarks/theory_checks.py --sections b --statistics dntk \
        --depths 1 2 3 --inits 40000

Writes ``benchmarks/results/theory_checks.md``:

- (b) every statistic of ``statistics.STATISTICS`` for ``--activations`` at ``--depths``:
  the predicted c_1 against the Monte Carlo c_1 ± SE fitted as c_1 + c_2 / n to
  n (E_MC(n) - E_inf) (``experiments.coefficient_comparison``), z in standard errors,
  SE / |c_1|, and the networks per width that SE < 10% of |c_1| would need (SE falls as
  1 / sqrt(networks));
- (c) the null test: the coefficients of the two-input means that vanish exactly
  (``experiments.null_scan``) and Monte Carlo c_1 of the linear kernel and the ReLU
  kernel's diagonal, which must agree with 0;
- (d) depth to width: R = E[Theta^2] / E[Theta]^2 of ReLU networks against beta = d / n
  (``experiments.depth_to_width``), the first-order line and the fitted exponential rate.

Every width and depth is cached (``cache.cached``), so an interrupted run resumes. A run of
some ``--sections`` or ``--statistics`` only replaces (or adds) its own sections of the file,
titled with the statistics when they are a subset, and keeps the others.
"""

from __future__ import annotations

import argparse
import datetime
import math
import os
import platform
import resource
import time
from pathlib import Path

import numpy as np

from widenets_nb import __version__
from widenets_nb.theory import experiments as X

OUT = Path(__file__).parent / "results" / "theory_checks.md"


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def coefficient_rows(args: argparse.Namespace) -> list[str]:
    comparisons = []
    for statistic in args.statistics:
        for activation in args.activations:
            for depth in args.depths:
                p = X.CoefficientProtocol(statistic, activation, depth, widths=args.widths,
                                          inits=args.inits, seed=args.seed)
                comparisons.append(X.coefficient_comparison(p, progress=True))
                print(comparisons[-1].summary(), flush=True)
    z = np.array([abs(c.z) for c in comparisons])
    relative = np.array([c.relative_se for c in comparisons if c.predicted])
    needed = max(c.protocol.inits * (c.relative_se / 0.1) ** 2 for c in comparisons
                 if c.predicted)
    return [f"Widths {list(args.widths)}, {args.inits} networks per width, seed {args.seed}.",
            "", X.comparisons_markdown(comparisons), "",
            f"{int(np.sum(z < 3))} of {z.size} comparisons agree within 3 SE (largest |z| "
            f"{z.max():.1f}); SE / |c_1| from {relative.min():.2f} to {relative.max():.2f} "
            f"(median {np.median(relative):.2f}); SE < 10% everywhere would need up to "
            f"{needed:.2g} networks per width. Rows that share a seed share their networks "
            "(width n uses fold_in(key(seed), n) at every depth), so their errors are "
            "correlated."]


def null_rows(args: argparse.Namespace) -> list[str]:
    comparisons = []
    for activation, coincide in (("linear", False), ("linear", True), ("relu", True)):
        for depth in args.depths:
            p = X.CoefficientProtocol("kernel", activation, depth, widths=args.widths,
                                      inits=args.inits, seed=args.seed, coincide=coincide)
            comparisons.append(X.coefficient_comparison(p, progress=True))
            print(comparisons[-1].summary(), flush=True)
    return [X.null_markdown(X.null_scan(args.depths)), "",
            "Monte Carlo of vanishing kernel coefficients (no biases): the linear network on "
            "and off the diagonal, the ReLU network on it:", "",
            X.comparisons_markdown(comparisons)]


def depth_rows(args: argparse.Namespace) -> list[str]:
    p = X.DepthWidthProtocol(args.ntk_width, X.depths_for(args.ntk_width), args.ntk_inits,
                             args.seed)
    r = X.depth_to_width(p, progress=True)
    rows = ["| β = d/n | d | E[Θ²]/E[Θ]² ± SE | first order (recursions) | 1 + cβ (fitted) | "
            "exp(5β) |", "|---|---|---|---|---|---|"]
    theory = r.reference() if r.theory else (None,) * len(p.depths)
    for beta, d, v, s, t in zip(r.betas, p.depths, r.ratio, r.ratio_se, theory, strict=True):
        rows.append(f"| {beta:.4g} | {d} | {v:.4g} ± {s:.2g} | "
                    f"{'—' if t is None else f'{t:.4g}'} | {r.first_order(beta):.4g} | "
                    f"{math.exp(X.HANIN_NICA_RATE * beta):.4g} |")
    return [*rows, "", r.summary()]


def merge(old: str, head: list[str], sections: dict[str, list[str]], full: bool) -> str:
    """The file's text: ``head`` and ``sections`` (title -> lines) for a full run, else
    ``old`` with the sections of these titles replaced or appended."""
    if full or not old:
        return "\n".join(head + [line for body in sections.values() for line in body])
    chunks = old.split("\n## ")
    kept = {chunk.split("\n", 1)[0]: "## " + chunk for chunk in chunks[1:]}
    kept.update({title: "\n".join(body) for title, body in sections.items()})
    return "\n".join([chunks[0].rstrip("\n"), "", *(v.rstrip("\n") + "\n" for v in
                                                  kept.values())])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--widths", type=int, nargs="+", default=[8, 16, 32])
    parser.add_argument("--inits", type=int, default=10000)
    parser.add_argument("--ntk-width", type=int, default=64)
    parser.add_argument("--ntk-inits", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--activations", nargs="+", default=["tanh", "gelu"])
    parser.add_argument("--depths", type=int, nargs="+", default=[1, 2, 3, 4])
    parser.add_argument("--statistics", nargs="+", default=list(X.registry()),
                        choices=list(X.registry()), help="registry statistics of (b)")
    parser.add_argument("--sections", nargs="+", default=["b", "c", "d"],
                        choices=["b", "c", "d"])
    args = parser.parse_args()
    args.widths = tuple(args.widths)
    subset = args.statistics != list(X.registry())
    full = not subset and args.sections == ["b", "c", "d"]
    old = OUT.read_text() if OUT.exists() else ""
    head = [
        "# The 1/n theory against Monte Carlo: full-size checks",
        "",
        f"`benchmarks/theory_checks.py`, widenets {__version__}, "
        f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, "
        f"{os.cpu_count()} CPUs shared with other processes. Coefficients: widths "
        f"{list(args.widths)}, {args.inits} networks per width, seed {args.seed}, default "
        f"inputs (`default_inputs`, U[0,1]^4); depth to width: n = {args.ntk_width}, "
        f"{args.ntk_inits} networks per depth. Sections are written as they finish.",
        "",
    ]
    coefficients = "(b) Predicted against Monte Carlo 1/n coefficients" + (
        f": {', '.join(args.statistics)}" if subset else "")
    sections: dict[str, list[str]] = {}
    for key, title, fn in (
            ("b", coefficients, coefficient_rows),
            ("c", "(c) Null tests: where the 1/n coefficient vanishes exactly", null_rows),
            ("d", "(d) Depth to width: ReLU, E[Θ²]/E[Θ]² against β = d/n", depth_rows)):
        if key not in args.sections:
            continue
        wall, cpu = time.perf_counter(), _cpu()
        body = fn(args)
        sections[title] = [
            f"## {title}", "", f"({time.perf_counter() - wall:.0f} s wall, {_cpu() - cpu:.0f} s "
            f"CPU, load average {os.getloadavg()[0]:.1f} at the end; widenets {__version__}, "
            f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC)", "", *body, ""]
        OUT.write_text(merge(old, head, sections, full))
        print(f"wrote {OUT}", flush=True)


if __name__ == "__main__":
    main()
