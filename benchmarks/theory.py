"""The 1/n recursions: timing, quadrature accuracy, and Monte Carlo checks of the coefficients.

    .venv/bin/python benchmarks/theory.py              # everything (Monte Carlo: ~1 h, 2 CPUs)
    .venv/bin/python benchmarks/theory.py --run ntk    # rerun only the NTK Monte Carlo
    .venv/bin/python benchmarks/theory.py --no-mc      # timing and quadrature only

Writes ``benchmarks/results/theory.md``, ending with the raw Monte Carlo numbers as a JSON
block that later runs read back for the kinds they do not rerun (predictions are always
recomputed). Kernel statistics (E[f f], E[f^4]) use the readout-integrated estimator of
``theory.montecarlo``; NTK statistics sample Theta(x_a, x_b) by ``ntk.ntk`` (its mean and
variance over the networks). For every width n, y(n) = n (E_MC(n) - E_inf) with standard
error n SE, and c_1 is the weighted least-squares intercept of y(n) = c_1 + c_2 / n (its
standard error from the fit's covariance, chi^2 with (number of widths - 2) degrees of
freedom beside it).
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import json
import os
import platform
import time
from pathlib import Path

import jax
import numpy as np
from scipy.special import erf

from widenets_nb import __version__
from widenets_nb.correlators.estimate import default_inputs
from widenets_nb.kernels import gaussian_expectations
from widenets_nb.nets import Network, derivatives
from widenets_nb.theory import quadrature
from widenets_nb.theory.gaussian import CLOSED, averages
from widenets_nb.theory.montecarlo import conditional_moments, ntk_moments
from widenets_nb.theory.statistics import (
    STATISTICS,
    four_point,
    kernel,
    kernel_variance,
    ntk_mean,
    ntk_variance,
)

jax.config.update("jax_enable_x64", True)

OUT = Path(__file__).parent / "results" / "theory.md"
RAW = "Raw Monte Carlo numbers (read back by `--no-mc`):"
WIDTHS = {"kernel": (8, 16, 32), "ntk": (8, 16, 32, 64)}
NETWORKS = 200_000
CASES = {"kernel": (("tanh", 2, False), ("tanh", 3, False), ("gelu", 2, False),
                    ("erf", 3, True), ("relu", 2, False), ("relu", 3, True)),
         "ntk": (("tanh", 2, False), ("tanh", 3, False), ("gelu", 2, False), ("erf", 3, True),
                 ("relu", 2, False), ("relu", 3, True))}
REPEATS = 3


#: the timing before the per-support rules (same command, 2026-12-02, load average 15.8):
#: statistic -> (best wall, its CPU seconds).
BEFORE = {"four_point": (16.821, 6.075), "kernel": (0.048, 0.056),
          "ntk_mean": (0.090, 0.094), "ntk_variance": (0.086, 0.097),
          "dntk": (12.73, 6.84)}  # dntk: 2026-12-03, load 10.4, every average on the 4-D rule


def timing(depth: int = 50) -> list[str]:
    x = default_inputs(4, 4)
    rows = []
    isotropic = np.linalg.cholesky(0.8 * np.eye(4) + 0.2)  # rows: norm 1, correlation 0.2
    for name, fn, xs in (("four_point", four_point, x),
                         ("four_point, isotropic inputs", four_point, isotropic),
                         ("kernel", kernel, x[:2]),
                         ("kernel_variance", kernel_variance, x[:2]),
                         ("ntk_mean", ntk_mean, x[:2]), ("ntk_variance", ntk_variance, x[:2]),
                         ("dntk", STATISTICS["dntk"][0], x)):
        net = Network(input_dim=4, depth=depth, activation="tanh")
        start = time.perf_counter()
        jax.block_until_ready(fn(net, xs).coefficient_1_over_n)
        first = time.perf_counter() - start
        times = []
        for _ in range(REPEATS):
            start, cpu = time.perf_counter(), time.process_time()
            jax.block_until_ready(fn(net, xs).coefficient_1_over_n)
            times.append((time.perf_counter() - start, time.process_time() - cpu))
        wall, cpu = min(times)
        before = "{:.3f} s / {:.3f} s".format(*BEFORE[name]) if name in BEFORE else "-"
        rows.append(f"| {name} ({len(xs)} inputs) | tanh | {depth} | {first:.2f} s | "
                    f"{wall:.3f} s | {cpu:.3f} s | {before} | {os.getloadavg()[0]:.1f} |")
    return rows


def _sin_cos_closed(k: np.ndarray, cos: bool) -> float:
    """E[prod_i sin(z_i)] or E[prod_i cos(z_i)], z ~ N(0, k): sum over signs of
    exp(-s.k.s / 2) with the sign product for sin."""
    m = k.shape[0]
    total = 0.0
    for s in itertools.product((1, -1), repeat=m):
        s = np.array(s)
        total += (1.0 if cos else np.prod(s) * (-1) ** (m // 2)) * np.exp(-s @ k @ s / 2)
    return total / 2**m


def _fine(k: np.ndarray) -> tuple[float, ...]:
    """The reference rule: trapezoid with L_jj h_j = 0.3 on every axis (h <= 0.5)."""
    return tuple(float(min(0.3 / s, 0.5)) for s in quadrature.scales(k))


def accuracy() -> list[str]:
    rows = []
    for k11, k22, k12 in ((1.0, 1.0, 0.5), (1.3, 1.1, 1.0), (3.0, 2.0, 2.3), (0.3, 5.0, 0.9)):
        k = jax.numpy.array([[k11, k12], [k12, k22]])
        got = quadrature.expectation(lambda z: erf(z[:, 0]) * erf(z[:, 1]), k)
        ref = gaussian_expectations("erf", k11, k22, k12)[0]
        rows.append(f"| 2-D, erf x erf (closed form) | K = [[{k11}, {k12}], [{k12}, {k22}]] | "
                    f"{quadrature.AXES[2]} | {abs(float(got) / float(ref) - 1):.1e} |")
    x = default_inputs(4, 4)
    kernels = (("default inputs", x @ x.T), ("default inputs x 0.3", 0.3 * x @ x.T),
               ("default inputs x 1.69", 1.69 * x @ x.T),
               ("isotropic (0.8 I + 0.2)", 0.8 * np.eye(4) + 0.2))
    for label, k in kernels:
        rule = quadrature.choose(k[None])[-1]
        diag = ", ".join(f"{v:.2f}" for v in quadrature.scales(k))
        for cos in (False, True):
            fn = jax.numpy.cos if cos else jax.numpy.sin
            got = quadrature.expectation(lambda z, fn=fn: jax.numpy.prod(fn(z), axis=1),
                                         jax.numpy.asarray(k), rule)
            rows.append(f"| 4-D, {'cos' if cos else 'sin'}^4 (closed form) | {label} (L_jj "
                        f"{diag}) | {rule} | {abs(float(got) / _sin_cos_closed(k, cos) - 1):.1e} |")
        for name in ("tanh", "gelu", "erf"):
            fn = derivatives(name, 0)[0]
            ref = float(quadrature.expectation(lambda z, fn=fn: jax.numpy.prod(fn(z), axis=1),
                                               jax.numpy.asarray(k), _fine(k)))
            for used in dict.fromkeys((quadrature.AXES[4], rule)):
                got = float(quadrature.expectation(
                    lambda z, fn=fn: jax.numpy.prod(fn(z), axis=1), jax.numpy.asarray(k), used))
                rows.append(f"| 4-D, {name}^4 (vs trapezoid L h = 0.3) | {label} | {used}"
                            f"{' (chosen)' if used == rule else ''} | {abs(got / ref - 1):.1e} |")
    for k11, k22, k12 in ((1.3, 0.9, 0.6), (2.0, 1.2, -1.5), (1.0, 1.0, 0.999999)):
        g = averages("relu", jax.numpy.array([[k11, k12], [k12, k22]]), tangent=True)
        cos = k12 / np.sqrt(k11 * k22)
        t = np.arccos(cos)
        j2 = k11 * k22 * (3 * np.sin(t) * cos + (np.pi - t) * (1 + 2 * cos**2)) / (2 * np.pi)
        rows.append(f"| 2-D ReLU polar rule, <s_1^2 s_2^2> vs J_2 closed form | K = [[{k11}, "
                    f"{k12}], [{k12}, {k22}]] | Gauss-Legendre on arcs | "
                    f"{abs(float(g.xx[0, 0, 1, 1]) / j2 - 1):.1e} |")
    return rows


def coverage() -> list[str]:
    """The registry of statistics with their correlators, and the rows not covered."""
    rows = [f"| `{name}` | `{spec}` | yes |" for name, (_, spec) in STATISTICS.items()]
    missing = {"dntk": "| `dntk` | `f1_a f2_b f3_ab f4` (Table 1 row 4) | no: the dNTK "
                       "recursions are not built |",
               "ddntk": "| `ddntk` | `f1_a f2_b f3_c f4_abc` (row 5) | no |"}
    return rows + [row for name, row in missing.items() if name not in STATISTICS] + [
        "| - | row 6, Table 3 rows 2, 4-6 | no (n^-2 leading order, or 8-point "
        "functions) |"]


def predictions(kind: str, activation: str, depth: int, bias: bool
                ) -> dict[str, tuple[float, float]]:
    """(infinite width, 1/n coefficient) of every statistic checked by Monte Carlo."""
    x = default_inputs(4, 4)
    net = Network(input_dim=4, depth=depth, activation=activation, bias=bias)
    if kind == "ntk":
        out = {}
        for label, xs in (("x1,x2", x[:2]), ("x1,x1", x[:1])):
            m, v = ntk_mean(net, xs), ntk_variance(net, xs)
            out[f"E[Theta({label})]"] = (float(m.infinite_width), float(m.coefficient_1_over_n))
            out[f"Var Theta({label})"] = (float(v.infinite_width), float(v.coefficient_1_over_n))
        return out
    out = {}
    for label, xs in (("x1,x2", x[:2]), ("x1,x1", x[:1])):
        k = kernel(net, xs)
        out[f"K({label})"] = (float(k.infinite_width), float(k.coefficient_1_over_n))
    if activation not in CLOSED:  # ReLU's closed forms take 2 inputs, not 4
        p = four_point(net, x)
        out["E[f1 f2 f3 f4]"] = (float(p.infinite_width), float(p.coefficient_1_over_n))
    return out


def _sample(kind: str, net: Network, x: np.ndarray, key: jax.Array
            ) -> dict[str, tuple[float, float]]:
    """Monte Carlo (mean, SE) of every statistic of ``kind`` at one width."""
    if kind == "ntk":
        mean, var = ntk_moments(net, x[:2], NETWORKS, key)
        return {name.format(label): (float(e.mean[i]), float(e.stderr[i]))
                for name, e in (("E[Theta({})]", mean), ("Var Theta({})", var))
                for label, i in (("x1,x2", (0, 1)), ("x1,x1", (0, 0)))}
    kk, ff = conditional_moments(net, x, NETWORKS, key)
    return {"K(x1,x2)": (float(kk.mean[0, 1]), float(kk.stderr[0, 1])),
            "K(x1,x1)": (float(kk.mean[0, 0]), float(kk.stderr[0, 0])),
            "E[f1 f2 f3 f4]": (float(ff.mean), float(ff.stderr))}


def monte_carlo(kind: str, only: str | None) -> list[dict]:
    x = default_inputs(4, 4)
    out = []
    for activation, depth, bias in CASES[kind]:
        if only not in (None, activation):
            continue
        samples: dict[str, list] = {}
        for width in WIDTHS[kind]:
            wide = Network(input_dim=4, depth=depth, activation=activation, bias=bias,
                           width=width)
            key = jax.random.fold_in(jax.random.key(2026), width)
            for name, value in _sample(kind, wide, x, key).items():
                samples.setdefault(name, []).append(value)
        out.append({"kind": kind, "activation": activation, "depth": depth, "bias": bias,
                    "widths": WIDTHS[kind], "networks": NETWORKS,
                    "statistics": {name: {"mean": [m for m, _ in v],
                                          "stderr": [s for _, s in v]}
                                   for name, v in samples.items()}})
        print(kind, activation, depth, bias, "done", flush=True)
    return out


def fit(widths: tuple[int, ...], y: np.ndarray, se: np.ndarray) -> tuple[float, float, float]:
    """Weighted least squares y = c1 + c2 / n: (c1, SE(c1), chi^2)."""
    a = np.stack([np.ones(len(widths)), 1.0 / np.asarray(widths)], 1) / se[:, None]
    coef, *_ = np.linalg.lstsq(a, y / se, rcond=None)
    cov = np.linalg.inv(a.T @ a)
    chi2 = float(np.sum((a @ coef - y / se) ** 2))
    return float(coef[0]), float(np.sqrt(cov[0, 0])), chi2


def mc_rows(entries: list[dict]) -> list[str]:
    rows = []
    for e in entries:
        widths = tuple(e["widths"])
        predicted = predictions(e.get("kind", "kernel"), e["activation"], e["depth"],
                                e["bias"])
        for name, s in e["statistics"].items():
            if name not in predicted:  # e.g. ReLU's four-point function: not covered
                continue
            infinite, coefficient = predicted[name]
            n = np.asarray(widths, dtype=float)
            y = n * (np.asarray(s["mean"]) - infinite)
            se = n * np.asarray(s["stderr"])
            c1, c1_se, chi2 = fit(widths, y, se)
            z = (c1 - coefficient) / c1_se
            per_width = ", ".join(f"{v:+.4f} ± {u:.4f}" for v, u in zip(y, se, strict=True))
            rows.append(f"| {e['activation']} | {e['depth']} | {'yes' if e['bias'] else 'no'} "
                        f"| {name} | {infinite:.6f} | {coefficient:+.5f} | "
                        f"{c1:+.5f} ± {c1_se:.5f} | {z:+.1f} | {chi2:.1f} | "
                        f"{', '.join(map(str, widths))} | {per_width} |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--run", default="all", choices=("all", "none", *CASES),
                        help="which Monte Carlo kinds to rerun; the others are read back "
                             "from the last theory.md")
    parser.add_argument("--only", default=None, help="rerun only the cases of this activation")
    parser.add_argument("--no-mc", action="store_true", help="the same as --run none")
    args = parser.parse_args()
    run = () if args.no_mc or args.run == "none" else tuple(CASES) if args.run == "all" \
        else (args.run,)
    text = OUT.read_text() if OUT.exists() else ""
    raw = text.split(RAW)[1].split("```json")[1].split("```")[0] if RAW in text else "[]"
    entries = [e for e in json.loads(raw) if e.get("kind", "kernel") not in run
               or args.only not in (None, e["activation"])]
    for kind in run:
        entries += monte_carlo(kind, args.only)
    load = os.getloadavg()[0]
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Finite-width theory at initialization: recursions, quadrature, Monte Carlo", "",
        f"`benchmarks/theory.py`, widenets {__version__}, {stamp}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs (load average {load:.1f}: other processes share them), "
        f"float64. Inputs: the tables' default inputs (`default_inputs(4, 4)`, U[0,1]^4).",
        "", "## Timing (recursions through depth 50, tanh, no biases)", "",
        "Command: `.venv/bin/python benchmarks/theory.py --no-mc` (this section and the "
        "next). CPU time is the process's, over all threads; wall time depends on the "
        "load average (last column, on this machine's CPUs).", "",
        "| statistic | activation | depth | first call (compile) | best of 3 after (wall) | "
        "its CPU time | before (wall / CPU) | load |", "|---|---|---|---|---|---|---|---|",
        *timing(), "",
        "## Quadrature accuracy (relative error)", "",
        f"Rules: {quadrature.describe()}. 2-D against the closed form of `kernels`; 4-D "
        "against the sin/cos closed forms (exp(-s.K.s/2) sums) and, for tanh, gelu and erf, "
        "against a trapezoid rule with L_jj h_j = 0.3 on every axis (millions of nodes), "
        "for the cheapest rule and the one `quadrature.choose` takes.", "",
        "| integral | kernel | rule | relative error |", "|---|---|---|---|", *accuracy(), "",
        "## Statistics covered (`theory.statistics.STATISTICS`)", "",
        "Smooth activations through Price's theorem on quadrature; ReLU through closed forms "
        "(at most 2 distinct inputs, so not `four_point` of 4 distinct inputs).", "",
        "| statistic | correlator | covered |", "|---|---|---|", *coverage(), "",
    ]
    if entries:
        lines += [
            "## Monte Carlo: n (E_MC(n) - E_inf) against the predicted 1/n coefficient", "",
            f"{entries[0]['networks']} networks per width. Kernel statistics: the readout "
            "integrated out exactly (`theory.montecarlo.conditional_moments`); NTK "
            "statistics: Theta sampled by `ntk.ntk` (`theory.montecarlo.ntk_moments`), "
            "Var Theta has no infinite-width part. c_1 is the weighted fit of c_1 + c_2 / n "
            "over the widths listed; z = (c_1 - predicted) / SE.", "",
            "| activation | depth | biases | statistic | infinite width | predicted c_1 | "
            "Monte Carlo c_1 ± SE | z | chi^2 (widths - 2 dof) | widths | "
            "n (E_MC - E_inf) per width |",
            "|---|---|---|---|---|---|---|---|---|---|---|", *mc_rows(entries), "",
            RAW, "", "```json", json.dumps(entries), "```", ""]
    OUT.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
