"""Do the lazy and dense backends sample the same integrands? (Table 1, in distribution.)

For every Table 1 row and activation, at a small width, draw the integrand on ``--inits``
initializations with each backend (independent seeds) and compare: means and variances
by z = difference / combined standard error, whole distributions by a two-sample
Kolmogorov-Smirnov test. Prints a markdown table; the verdict asks |z| <= 3 for every mean
and variance and no KS p-value below 0.01 / (number of comparisons) (Bonferroni).

    .venv/bin/python scripts/lazy_distribution_check.py --width 32 --inits 20000

``--weight-std``, ``--bias-std``, ``--bias``, ``--first-bias`` and ``--readout-bias`` check a
network other than the paper's (``nets.Network``'s options of the same names).
"""

from __future__ import annotations

import argparse
import time

import jax
import numpy as np
from scipy import stats

from widenets_nb.correlators import NAMED, estimate, lazy
from widenets_nb.fits import moment
from widenets_nb.nets import Network

ROWS = tuple(NAMED[f"table1.row{i}"] for i in range(1, 7))


def compare(lazy_x: np.ndarray, dense_x: np.ndarray) -> dict[str, float]:
    """z of the means and variances, and the KS p-value, of two independent samples."""
    out = {}
    for statistic in ("mean", "variance"):
        (a, sa), (b, sb) = moment(lazy_x, statistic), moment(dense_x, statistic)
        out[statistic] = (a, b, (a - b) / np.hypot(sa, sb))
    out["ks"] = stats.ks_2samp(lazy_x, dense_x).pvalue
    return out


def _check(args: argparse.Namespace) -> tuple[list[str], float, float]:
    """Sample both backends for every activation; the table lines and the worst z and p."""
    xs = estimate.default_inputs(6, 4, args.seed)
    lines = ["| activation | row | lazy mean | dense mean | z(mean) | lazy var | dense var "
             "| z(var) | KS p |", "|---|---|---|---|---|---|---|---|---|"]
    worst_z, worst_p = 0.0, 1.0
    for act in args.activations:
        net = Network(input_dim=4, width=args.width, depth=args.depth, activation=act,
                      bias=args.bias, weight_std=args.weight_std, bias_std=args.bias_std,
                      first_bias=args.first_bias, readout_bias=args.readout_bias)
        start = time.time()
        # the dense initializations are split(fold_in(key(seed), width)); the lazy ones
        # come from one more fold_in, so the two samples are independent
        lazy_key = jax.random.fold_in(jax.random.fold_in(jax.random.key(args.seed),
                                                         args.width), 1)
        lz = lazy.lazy_samples(ROWS, net, xs, args.inits, lazy_key, progress=False)
        mid = time.time()
        dn = estimate.sample_integrands(ROWS, net, xs, args.inits, seed=args.seed,
                                        progress=False)
        print(f"{act}: lazy {mid - start:.0f} s, dense {time.time() - mid:.0f} s", flush=True)
        for i, spec in enumerate(ROWS):
            r = compare(lz[:, i], dn[:, i])
            (ma, mb, zm), (va, vb, zv) = r["mean"], r["variance"]
            worst_z, worst_p = max(worst_z, abs(zm), abs(zv)), min(worst_p, r["ks"])
            lines.append(f"| {act} | `{spec}` | {ma:.4g} | {mb:.4g} | {zm:+.2f} | {va:.4g} "
                         f"| {vb:.4g} | {zv:+.2f} | {r['ks']:.3f} |")
    return lines, worst_z, worst_p


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--depth", type=int, default=3)
    parser.add_argument("--inits", type=int, default=20_000)
    parser.add_argument("--activations", nargs="+", default=["linear", "relu", "tanh"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--weight-std", type=float, default=1.0)
    parser.add_argument("--bias-std", type=float, default=1.0)
    for flag in ("--bias", "--first-bias", "--readout-bias"):
        parser.add_argument(flag, action="store_true")
    parser.add_argument("--float32", action="store_true",
                        help="compute in float32 (the default dtype of the tables)")
    args = parser.parse_args()
    with jax.enable_x64(not args.float32):  # the precision asked for, scoped to the check
        lines, worst_z, worst_p = _check(args)
    comparisons = len(args.activations) * len(ROWS)
    level = 0.01 / comparisons
    dtype = "float32" if args.float32 else "float64"
    scales = (f"weight_std {args.weight_std:g}, bias_std {args.bias_std:g}, biases: "
              + (", ".join(name for name in ("bias", "first_bias", "readout_bias")
                           if getattr(args, name)) or "none"))
    print(f"\nn = {args.width}, depth {args.depth}, {args.inits} initializations per backend, "
          f"{dtype}, {scales}")
    print("\n".join(lines))
    ok = worst_z <= 3 and worst_p >= level
    print(f"\nmax |z| = {worst_z:.2f}, min KS p = {worst_p:.3g} (reject below {level:.2g}):"
          f" {'AGREE' if ok else 'DISAGREE'}")


if __name__ == "__main__":
    main()
