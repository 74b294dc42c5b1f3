"""Figs. 9-10 (App. E.3): Hessian against NTK spectra of MNIST networks at growing width.

Conventions are those of ``spectra``: the summed MSE, so A = J^T J and its nonzero
eigenvalues are those of Theta. Training is full-batch GD on the same summed loss.
Each unit of work (one configuration at one width) is cached, so ``reproduce`` resumes.

Eigenvalue differences (Fig. 9a) are reported two ways: ``top`` = |lambda_1(H) - lambda_1(Theta)|,
the largest eigenvalue, isolated from the bulk of B; ``mean`` = the mean |lambda_i(H) -
lambda_i(Theta)| over the top N x classes (the paper's summary). On MNIST with the D^{-1/2}
input scaling most of Theta's N x classes eigenvalues are smaller than the edge of B's bulk
(O(n^{-1/2}) at every depth) until very large width, so ``mean`` mixes the eq. (76) shift with
bulk eigenvalues of B; ``top`` isolates eq. (76).
"""

from __future__ import annotations

import dataclasses

import jax
import numpy as np
from tqdm.auto import tqdm

from .. import config, dynamics, fits
from ..cache import cached
from ..data import load_mnist
from ..nets import Network, Params
from ..results import Report
from . import solvers as spectra

DIGITS = {2: (0, 1), 3: (0, 1, 2)}


@dataclasses.dataclass(frozen=True)
class Setup:
    """A network on an MNIST subset: everything one spectral measurement needs.

    Attributes:
      net: the network (input scaling on, one output per class beyond two).
      x: (N, 784) training images.
      y: (N, k) targets (+-1 for two classes, one-hot for three).
    """

    net: Network
    x: np.ndarray
    y: np.ndarray


def setup(width: int, depth: int = 2, activation: str = "relu", classes: int = 2,
          per_class: int = 10, seed: int = 0) -> Setup:
    """The paper's MNIST network and training set (App. A.2): ``classes`` in {2, 3}."""
    if classes not in DIGITS:
        raise ValueError(f"classes must be 2 or 3 (two- or three-class MNIST), got {classes}.")
    data = load_mnist(DIGITS[classes], per_class, "train", seed)
    net = Network(input_dim=data.x.shape[1], width=width, depth=depth, activation=activation,
                  input_scaling=True, outputs=data.y.shape[1])
    return Setup(net, data.x, data.y)


def trained(s: Setup, params: Params, steps: int, learning_rate: float) -> Params:
    """Parameters after ``steps`` of full-batch GD on the summed MSE (``dynamics.train``)."""
    config = dynamics.TrainConfig(learning_rate=learning_rate, steps=steps, optimizer="gd",
                                  loss="sum", record_steps=(steps,))
    return dynamics.train(s.net, params, s.x, s.y, config).params


def eigenvalue_gaps(s: Setup, params: Params, count: int | None = None,
                    krylov: int | None = None, seed: int = 0) -> dict[str, np.ndarray]:
    """Eq. (76): the top ``count`` (default N x classes) eigenvalues of H (Lanczos, ``krylov``
    products, default count + 10) and of Theta, and their gaps."""
    count = count or s.y.size
    theta = spectra.ntk_eigenvalues(s.net, params, s.x)[:count]
    top = spectra.top_eigenvalues(s.net, params, s.x, s.y, count,
                                  krylov=krylov or count + 10, seed=seed)
    gaps = np.abs(top.values - theta)
    return {"hessian": top.values, "theta": theta, "bounds": top.bounds,
            "top": gaps[0], "mean": gaps.mean()}


def gap_sweep(depth: int, activation: str, widths: tuple[int, ...], instances: int,
              per_class: int, seed: int = 0, progress: bool = True) -> dict[int, dict]:
    """Fig. 9a: ``instances`` initializations per width; per-instance top and mean gaps."""
    out = {}
    for width in tqdm(widths, desc=f"d={depth} {activation}", disable=not progress):
        s = setup(width, depth, activation, 2, per_class, seed)

        def compute(s=s):
            rows = [eigenvalue_gaps(s, s.net.sample(jax.random.key(seed + i)), seed=i)
                    for i in range(instances)]
            return {k: np.array([r[k] for r in rows]) for k in ("top", "mean", "bounds")}

        out[width] = cached("fig9a", {"net": s.net, "per_class": per_class, "seed": seed,
                                      "instances": instances}, compute)
    return out


def _fit(widths: tuple[int, ...], samples: list[np.ndarray]) -> dict:
    try:
        fit = fits.fit_exponent(widths, samples)
    except fits.NotFittable as err:
        return {"slope": None, "note": str(err)}
    return {"slope": fit.slope, "intercept": fit.intercept, "slope_ci": list(fit.slope_ci),
            "unresolved": list(fit.unresolved)}


def scaling_row(name: str, widths: tuple[int, ...], samples: list[np.ndarray]) -> dict:
    """Mean and standard error per width of per-instance samples, with the fitted slope."""
    stats = [_stats(np.asarray(x)) for x in samples]
    return {"name": name, "widths": list(widths), "values": [v for v, _ in stats],
            "stderr": [e for _, e in stats], **_fit(widths, samples)}


def _slope_cells(fit: dict) -> str:
    """'slope | [low, high]' for a Markdown row, or the reason there is no fit."""
    if fit["slope"] is None:
        return f"not fittable | {fit['note']}"
    low, high = fit["slope_ci"]
    return f"{fit['slope']:.3f} | [{low:.2f}, {high:.2f}]"


def _stats(samples: np.ndarray) -> tuple[float, float]:
    return fits.moment(samples) if samples.size > 1 else (float(samples.mean()), float("nan"))


def fig9(profile: str) -> Report:
    """Fig. 9: (a) eigenvalue gaps vs width with fitted slopes; (b) three-class top 10."""
    widths = config.pick({"quick": (32, 64, 128), "standard": (64, 128, 256, 512, 1024),
                          "paper": tuple(2**k for k in range(6, 13))}, profile)
    instances = config.pick({"quick": 2, "standard": 6, "paper": 100}, profile)
    per_class = config.pick({"quick": 3, "standard": 10, "paper": 10}, profile)
    rows, lines = [], ["| depth | activation | statistic | slope | 95% CI | predicted |",
                       "|---|---|---|---|---|---|"]
    for depth in (1, 2):
        for activation in ("relu", "tanh"):
            sweep = gap_sweep(depth, activation, widths, instances, per_class)
            for stat in ("top", "mean"):
                row = scaling_row(f"d={depth} {activation}, {stat}", widths,
                                  [sweep[w][stat] for w in widths])
                rows.append({"depth": depth, "activation": activation, "statistic": stat,
                             "max_ritz_bound": [float(sweep[w]["bounds"].max()) for w in widths],
                             **row})
                lines.append(f"| {depth} | {activation} | {stat} | {_slope_cells(row)} | "
                             f"{'-1/2 bound (paper saw -1)' if depth == 1 else '-1'} |")
    b = fig9b(profile)
    lines += ["", f"Fig. 9b: width {b['width']}, three classes, {b['points']} images: "
              "top 10 eigenvalues", "", "| i | H (Lanczos) | Theta |", "|---|---|---|"]
    lines += [f"| {i + 1} | {h:.5f} | {t:.5f} |"
              for i, (h, t) in enumerate(zip(b["hessian"], b["theta"], strict=True))]
    payload = {"fig9a": rows, "fig9b": b, "instances": instances, "per_class": per_class,
               "dtype": str(np.dtype(np.asarray(jax.numpy.zeros(())).dtype))}
    return Report(payload, "\n".join(lines))


def fig9b(profile: str, seed: int = 0) -> dict:
    """Fig. 9b: top 10 eigenvalues of H and Theta on three-class MNIST (N_class-fold copies)."""
    width = config.pick({"quick": 128, "standard": 2048, "paper": 2048}, profile)
    per_class = config.pick({"quick": 3, "standard": 5, "paper": 10}, profile)
    s = setup(width, 2, "relu", 3, per_class, seed)

    def compute():
        params = s.net.sample(jax.random.key(seed))
        gaps = eigenvalue_gaps(s, params, count=10, krylov=30)
        return {"hessian": gaps["hessian"], "theta": gaps["theta"], "bounds": gaps["bounds"],
                "class_blocks": spectra.class_blocks(s.net, params, s.x)}

    entry = cached("fig9b", {"net": s.net, "per_class": per_class, "seed": seed}, compute)
    return {"width": width, "points": len(s.x),
            **{k: np.asarray(v).tolist() for k, v in entry.items()}}


def moment_gaps(s: Setup, params: Params, probes: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Eq. (78-82): (Tr H^m - Tr Theta^m) / Tr Theta^m for m = 1..4 with standard errors.

    Tr Theta^m is exact (eigenvalues); Tr H^m - Tr A^m comes from Hutchinson with the same
    probes for H and A, and Tr A^m = Tr Theta^m (eq. 79). Also Tr B^2 (the m = 2 excess).
    """
    exact = spectra.exact_moments(spectra.ntk_eigenvalues(s.net, params, s.x))
    m = spectra.hutchinson_moments(s.net, params, s.x, s.y, probes, seed=seed)
    return {"relative": m.trace["H-A"] / exact, "relative_se": m.stderr["H-A"] / exact,
            "trace_theta": exact, "trace_a": m.trace["A"], "trace_a_se": m.stderr["A"],
            "trace_b2": m.trace["B"][1], "trace_b2_se": m.stderr["B"][1]}


def learning_rate(s: Setup, params: Params) -> float:
    """A safe GD step for the summed MSE: 0.5 / lambda_max(Theta_0), four times below the
    stability limit 2 / lambda_max of the linearized dynamics (narrow nets need the margin)."""
    return float(0.5 / spectra.ntk_eigenvalues(s.net, params, s.x)[0])


def rms_b(s: Setup, params: Params, probes: int, seed: int = 0) -> tuple[float, float]:
    """Fig. 10b: the RMS eigenvalue of B, sqrt(Tr B^2 / P), and its standard error."""
    m = spectra.hutchinson_moments(s.net, params, s.x, s.y, probes, which=("B",), seed=seed)
    size = spectra.num_params(params)
    value = float(np.sqrt(m.trace["B"][1] / size))
    return value, float(m.stderr["B"][1] / (2 * value * size))


def rms_sweep(depth: int, widths: tuple[int, ...], instances: int, per_class: int,
              probes: int, progress: bool = True) -> list[np.ndarray]:
    """Fig. 10b: per-instance RMS eigenvalues of B (ReLU, two classes) at every width."""
    samples = []
    for width in tqdm(widths, desc=f"Fig. 10b d={depth}", disable=not progress):
        s = setup(width, depth, "relu", 2, per_class)
        e = cached("fig10b", {"net": s.net, "per_class": per_class, "probes": probes,
                              "instances": instances}, lambda s=s: {"rms": np.array([
                                  rms_b(s, s.net.sample(jax.random.key(i)), probes, i)
                                  for i in range(instances)])})
        samples.append(e["rms"][:, 0])
    return samples


def fig10(profile: str) -> Report:
    """Fig. 10: (a) moment gaps at init and after training; (b) RMS eigenvalue of B vs width;
    and the spectral density of H against Theta's eigenvalues before and after training."""
    pick = lambda options: config.pick(options, profile)  # noqa: E731
    per_class = pick({"quick": 5, "standard": 20, "paper": 100})
    probes = pick({"quick": 40, "standard": 200, "paper": 1000})
    steps = pick({"quick": 100, "standard": 1000, "paper": 10000})
    widths_a = pick({"quick": (64,), "standard": (128, 512), "paper": (256, 1024, 4096)})
    widths_b = pick({"quick": (32, 64, 128), "standard": (64, 128, 256, 512, 1024),
                     "paper": tuple(2**k for k in range(6, 13))})
    instances_b = pick({"quick": 2, "standard": 3, "paper": 10})
    probes_b = pick({"quick": 10, "standard": 30, "paper": 1000})  # |Bv|^2 varies little
    lines = ["Fig. 10a: (Tr H^m - Tr Theta^m) / Tr Theta^m, two-hidden-layer ReLU", "",
             "| width | stage | m=1 | m=2 | m=3 | m=4 | Tr B^2 |", "|---|---|---|---|---|---|---|"]
    rows_a = []
    for width in tqdm(widths_a, desc="Fig. 10a"):
        s = setup(width, 2, "relu", 2, per_class)

        def compute(s=s):
            init = s.net.sample(jax.random.key(0))
            after = trained(s, init, steps, learning_rate(s, init))
            return {f"{stage}_{k}": v for stage, p in (("init", init), ("trained", after))
                    for k, v in moment_gaps(s, p, probes).items()}

        e = cached("fig10a", {"net": s.net, "per_class": per_class, "probes": probes,
                              "steps": steps}, compute)
        for stage in ("init", "trained"):
            rel, se = e[f"{stage}_relative"], e[f"{stage}_relative_se"]
            rows_a.append({"width": width, "stage": stage, "relative": rel.tolist(),
                           "relative_se": se.tolist(), "trace_b2": float(e[f"{stage}_trace_b2"]),
                           "trace_b2_se": float(e[f"{stage}_trace_b2_se"])})
            lines.append(f"| {width} | {stage} | " + " | ".join(
                f"{r:+.2e} ± {d:.1e}" for r, d in zip(rel, se, strict=True))
                + f" | {float(e[f'{stage}_trace_b2']):.3g} |")
    lines += ["", "Fig. 10b: RMS eigenvalue of B = sqrt(Tr B^2 / P), two-class ReLU", "",
              "| depth | against | slope | 95% CI | predicted |", "|---|---|---|---|---|"]
    rows_b = []
    for depth in (1, 2):
        rms = rms_sweep(depth, widths_b, instances_b, per_class, probes_b)
        sizes = tuple(setup(w, depth, "relu", 2, per_class).net.num_params for w in widths_b)
        trace_b2 = [x**2 * size for x, size in zip(rms, sizes, strict=True)]
        rows = {"width": scaling_row(f"d={depth} relu", widths_b, rms),
                "params": scaling_row(f"d={depth} relu vs P", sizes, rms),
                "trace_b2": scaling_row(f"d={depth} relu Tr B^2", widths_b, trace_b2)}
        rows_b.append({"depth": depth, "params": list(sizes), **rows["width"],
                       "against_params": rows["params"], "trace_b2": rows["trace_b2"]})
        predicted = {"width": "-1/2" if depth == 1 else "-1 once n >> D = 784",
                     "params": "-1/2", "trace_b2": "0 (Tr B^2 = O(1))"}
        lines += [f"| {depth} | {key} | {_slope_cells(row)} | {predicted[key]} |"
                  for key, row in rows.items()]
    density = density_before_after(pick({"quick": 64, "standard": 256, "paper": 1024}),
                                   per_class, steps)
    payload = {"fig10a": rows_a, "fig10b": rows_b, "density": density, "probes": probes,
               "probes_b": probes_b, "instances_b": instances_b,
               "steps": steps, "per_class": per_class}
    return Report(payload, "\n".join(lines))


def density_before_after(width: int, per_class: int, steps: int, krylov: int = 60,
                         probes: int = 4) -> dict:
    """The SLQ density of H and the eigenvalues of Theta, at initialization and after GD."""
    s = setup(width, 2, "relu", 2, per_class)

    def compute():
        init = s.net.sample(jax.random.key(0))
        after = trained(s, init, steps, learning_rate(s, init))
        out = {}
        for stage, p in (("init", init), ("trained", after)):
            theta = spectra.ntk_eigenvalues(s.net, p, s.x)
            grid = np.linspace(-0.25 * theta[0], 1.1 * theta[0], 400)
            d = spectra.spectral_density(s.net, p, s.x, s.y, grid, krylov=krylov,
                                         probes=probes)
            out |= {f"{stage}_grid": grid, f"{stage}_density": d.density,
                    f"{stage}_theta": theta}
        return out

    e = cached("spectral_density", {"net": s.net, "per_class": per_class, "steps": steps,
                                    "krylov": krylov, "probes": probes}, compute)
    return {"width": width, **{k: np.asarray(v).tolist() for k, v in e.items()}}
