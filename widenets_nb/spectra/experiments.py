"""Figs. 9-10 (App. E.3): Hessian against NTK spectra of MNIST networks at growing width.

Conventions are those of ``solvers``: the summed MSE, so A = J^T J and its nonzero
eigenvalues are those of Theta. Training is full-batch GD on the same summed loss.

Every unit of work (one instance of ``measurements``: its training, then one measurement) is
cached with every parameter in the key, so ``reproduce`` resumes where it stopped.

Fig. 9a's eigenvalues are certified (``solvers.top_eigenpairs``): each carries its residual
bound, and only values with bound < 0.1 x gap to their neighbours enter a fit. Eigenvalue
differences are reported three ways: ``top`` = |lambda_1(H) - lambda_1(Theta)|; ``paired`` =
the mean over H's eigenvalues whose eigenvectors lie mostly in the row space of J, each against
the eigenvalue of Theta it leans on (eq. 76 concerns these); ``mean`` = the mean
|lambda_i(H) - lambda_i(Theta)| over the top N x classes in order (the paper's summary). On
MNIST with the D^{-1/2} input scaling most of Theta's N x classes eigenvalues lie below the
top of B's cluster until very large width, so most of H's top N x classes eigenvalues belong
to that cluster and ``mean`` mixes eq. (76) with B; the certificate table of the report
counts, per width, how many pair with Theta.

Fig. 9's networks see the N-dimensional ``gram_inputs`` of the images (``GapProtocol.gram``,
``TopProtocol.gram``): exactly the same law of f, Theta and H's nonzero spectrum with 784 n -
N n fewer first-layer parameters (``measurements``), which is what brings the certified
solves of the standard profile to width 1024.

``gap_scalings`` and ``rms_scalings`` with ``committed=True`` (notebook 05) read what a
committed report already holds instead of measuring it again: a Fig. 9a network's certified
spectrum from any committed ``fig9`` report that drew the same networks, Fig. 10b's
scalings from a committed ``fig10`` report of the same protocol (in both the same dtype).
``reproduce`` always measures.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import jax.numpy as jnp
import numpy as np

from .. import config, fits, paper, results
from ..config import tqdm
from ..results import Report, Scaling, format_slope, scaling
from . import solvers
from .measurements import (
    Density,
    MomentGaps,
    RmsB,
    TopComparison,
    instance_keys,
    measured,
    rms_b,
    setup,
    stage_density,
    stage_moments,
    top_comparison,
)
from .protocols import (
    DensityProtocol,
    GapProtocol,
    MomentProtocol,
    RmsProtocol,
    TopProtocol,
)

STAGES: tuple[str, ...] = ("init", "trained")
#: Eq. (78), Tr B^2 = O(1): the width exponent of Tr B^2 (and so of the m = 2 moment gap at
#: initialization).
TRACE_B2_EXPONENT = paper.SLOPES["eq78.trace_b2"].value

#: Against width, the RMS eigenvalue of B at depth >= 2 follows P^-1/2 with P = 784 n + n^2.
DEEP_RMS_NOTE = "n^-1 only once n >> D = 784"


# ----------------------------------------------------------------------------- Fig. 9


#: Fig. 9a's statistics: label -> ``TopComparison`` property (nan where not certified).
STATISTICS: dict[str, str] = {"top": "top", "paired": "paired_gap", "mean": "mean"}


def _committed(target: str) -> list[Report]:
    """Every committed report of ``target`` computed in this session's dtype."""
    dtype = str(jnp.result_type(float))
    reports = [results.load(target, name) for name in config.PROFILES
               if results.path(target, name).exists()]
    return [r for r in reports if r.data.get("dtype") == dtype]


def committed_spectra(protocol: GapProtocol) -> dict[tuple[int, str, int, int], TopComparison]:
    """The certified spectra that committed ``fig9`` reports hold for ``protocol``'s
    networks (the same images, seed and inputs, dtype and resolution), by (depth,
    activation, width, instance)."""
    same = {"per_class": protocol.per_class, "seed": protocol.seed, "gram": protocol.gram}
    out = {}
    for report in _committed("fig9"):
        gaps = report.protocol.get("gaps", {})
        if ({k: gaps.get(k) for k in same} == same
                and report.data.get("resolution") == solvers.RESOLUTION):
            for record in report.data["spectra"]:
                r = Certified.from_json(record)
                out[r.depth, r.activation, r.width, r.instance] = r.comparison
    return out


def gap_sweep(protocol: GapProtocol, depth: int, activation: str, progress: bool = True,
              committed: bool = False) -> list[list[TopComparison]]:
    """Fig. 9a: per width, the ``instances`` certified comparisons of H's and Theta's top
    N x 2 eigenvalues, instance i at width n from ``instance_keys(seed, n, i)``;
    ``committed``: those a committed report holds are read from it."""
    stored = committed_spectra(protocol) if committed else {}
    out = []
    for width in tqdm(protocol.widths, desc=f"d={depth} {activation}", disable=not progress):
        row = [stored.get((depth, activation, width, i)) for i in range(protocol.instances)]
        if any(c is None for c in row):
            s = setup(width, depth, activation, 2, protocol.per_class, protocol.seed,
                      protocol.gram)
            row = [top_comparison(s, instance_keys(protocol.seed, width, i)) if c is None
                   else c for i, c in enumerate(row)]
        out.append(row)
    return out


def certified_scaling(name: str, widths: Sequence[int], samples: Sequence[Sequence[float]],
                      predicted: float | None, labels: Mapping[str, Any]) -> Scaling:
    """``results.scaling`` of the certified samples only: nan samples (a value not
    resolved) are dropped, and so is a width left with fewer than two; the note names
    what was dropped."""
    kept = [(w, [v for v in row if np.isfinite(v)]) for w, row in zip(widths, samples,
                                                                       strict=True)]
    dropped = sum(len(row) for row in samples) - sum(len(row) for _, row in kept)
    short = [w for w, row in kept if len(row) < 2]
    kept = [(w, row) for w, row in kept if len(row) >= 2]
    note = "; ".join(filter(None, (
        f"{dropped} instances without certified values left out" if dropped else "",
        f"widths {short} left out (fewer than 2 certified instances)" if short else "")))
    if not kept:
        return Scaling(name=name, statistic="mean", widths=(), values=(), stderr=(),
                       counts=(), resolved=(), predicted=predicted,
                       note=note or "no certified values", labels=dict(labels))
    out = scaling(name, [w for w, _ in kept], [row for _, row in kept], predicted=predicted,
                  labels=labels)
    return dataclasses.replace(out, note="; ".join(filter(None, (out.note, note))))


@dataclasses.dataclass(frozen=True)
class Certified:
    """The certified top spectrum of one Fig. 9a network (one instance at one width).

    Attributes:
      depth, activation, width, instance: which network.
      comparison: its ``TopComparison`` (values, bounds, gaps, overlaps with J's rows).
    """

    depth: int
    activation: str
    width: int
    instance: int
    comparison: TopComparison

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict (``from_json`` reads it back)."""
        return {"depth": self.depth, "activation": self.activation, "width": self.width,
                "instance": self.instance, **dataclasses.asdict(self.comparison)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Certified:
        """The record stored by ``to_json``."""
        fields = {f.name: np.asarray(data[f.name])
                  for f in dataclasses.fields(TopComparison)}
        return cls(int(data["depth"]), data["activation"], int(data["width"]),
                   int(data["instance"]), TopComparison(**fields))


def _gap_results(protocol: GapProtocol, progress: bool, committed: bool = False
                 ) -> tuple[tuple[Scaling, ...], tuple[Certified, ...]]:
    """The gap scalings (labels depth, activation, statistic) and every swept network's
    certified spectrum."""
    scalings, spectra = [], []
    for depth in protocol.depths:
        predicted = paper.SLOPES["fig9a.shallow" if depth == 1 else "fig9a.deep"].value
        for activation in protocol.activations:
            sweep = gap_sweep(protocol, depth, activation, progress, committed)
            for stat, attribute in STATISTICS.items():
                samples = [[getattr(c, attribute) for c in row] for row in sweep]
                scalings.append(certified_scaling(
                    f"d={depth} {activation}, {stat}", protocol.widths, samples, predicted,
                    {"depth": depth, "activation": activation, "statistic": stat}))
            spectra += [Certified(depth, activation, w, i, c)
                        for w, row in zip(protocol.widths, sweep, strict=True)
                        for i, c in enumerate(row)]
    return tuple(scalings), tuple(spectra)


def gap_scalings(protocol: GapProtocol, progress: bool = True, committed: bool = False
                 ) -> tuple[Scaling, ...]:
    """Fig. 9a: the top, paired and mean gaps against width with fitted and predicted
    slopes (``paper.SLOPES["fig9a.shallow" | "fig9a.deep"]``), labels depth, activation,
    statistic; only certified eigenvalues enter. ``committed``: networks whose spectra a
    committed report holds are read from it (``committed_spectra``)."""
    return _gap_results(protocol, progress, committed)[0]


def certificate_table(spectra: Sequence[Certified]) -> str:
    """A Markdown table: per network and width, how many of the top eigenvalues of H are
    resolved (bound < 0.1 gap) and how many pair with Theta's (|P_J v|^2 > 1/2), with the
    largest residual bound and the smallest gap."""
    lines = ["| depth | activation | width | instances | resolved | paired with Θ "
             "(per instance) | largest bound | smallest gap |", "|" + "---|" * 8]
    groups: dict[tuple[int, str, int], list[TopComparison]] = {}
    for r in spectra:
        groups.setdefault((r.depth, r.activation, r.width), []).append(r.comparison)
    for (depth, activation, width), group in groups.items():
        resolved = sum(int(np.sum(c.resolved)) for c in group)
        total = sum(len(c.resolved) for c in group)
        paired = [int(np.sum(c.paired)) for c in group]
        lines.append(
            f"| {depth} | {activation} | {width} | {len(group)} | {resolved}/{total} | "
            f"{min(paired)}-{max(paired)} | "
            f"{max(float(np.max(c.bounds)) for c in group):.1e} | "
            f"{min(float(np.nanmin(c.gaps)) for c in group):.1e} |")
    return "\n".join(lines)


@dataclasses.dataclass(frozen=True)
class Fig9b:
    """Fig. 9b: three-class MNIST, the top eigenvalues of H and Theta.

    Attributes:
      width: the hidden width.
      points: the number of training images.
      comparison: H's and Theta's top eigenvalues.
      class_blocks: (3, 3) Theta_AB summed over the training set (-> delta_AB Tr Theta).
    """

    width: int
    points: int
    comparison: TopComparison
    class_blocks: np.ndarray


def fig9b(protocol: TopProtocol) -> Fig9b:
    """Fig. 9b: the top ``count`` eigenvalues of H and Theta (N_class-fold copies)."""
    p = protocol
    s = setup(p.width, p.depth, p.activation, p.classes, p.per_class, p.seed, p.gram)
    keys = instance_keys(p.seed, p.width)
    comparison = top_comparison(s, keys, count=p.count, krylov=p.krylov)
    blocks = solvers.class_blocks(s.net, s.net.sample(keys[0]), s.x)
    return Fig9b(p.width, len(s.x), comparison, blocks)


@dataclasses.dataclass(frozen=True)
class Fig9:
    """Fig. 9 as computed or committed (``Fig9.from_report``).

    Attributes:
      gaps: the Fig. 9a scalings, labels depth, activation, statistic ("top" | "paired" |
        "mean").
      spectra: every Fig. 9a network's certified top spectrum.
      top: Fig. 9b.
    """

    gaps: tuple[Scaling, ...]
    spectra: tuple[Certified, ...]
    top: Fig9b

    @classmethod
    def from_report(cls, report: Report) -> Fig9:
        """The typed Fig. 9 of a ``fig9`` report."""
        b = report.data["fig9b"]
        comparison = TopComparison(**{f.name: np.asarray(b[f.name])
                                      for f in dataclasses.fields(TopComparison)})
        return cls(report.scalings,
                   tuple(Certified.from_json(r) for r in report.data["spectra"]),
                   Fig9b(int(b["width"]), int(b["points"]), comparison,
                         np.asarray(b["class_blocks"])))

    def report(self, protocol: Mapping[str, Any]) -> Report:
        """The ``fig9`` report of these results under ``protocol``."""
        b = self.top
        data = {"fig9b": {"width": b.width, "points": b.points,
                          **dataclasses.asdict(b.comparison), "class_blocks": b.class_blocks},
                "spectra": [r.to_json() for r in self.spectra],
                "resolution": solvers.RESOLUTION,
                "dtype": str(jnp.result_type(float))}
        gram = bool(protocol.get("gaps", {}).get("gram"))
        return Report("fig9", protocol, self.gaps, data, self.markdown(gram))

    def markdown(self, gram: bool = False) -> str:
        """Fig. 9a's slopes and certificates and Fig. 9b's eigenvalues as Markdown tables
        (``gram``: say that the networks saw ``gram_inputs``)."""
        b, c = self.top, self.top.comparison
        lines = ["Fig. 9a: |λ_i(H) − λ_i(Θ)| against width. top: the largest eigenvalue; "
                 "paired: the mean over H's resolved eigenvalues whose eigenvector lies "
                 "mostly in J's row space, each against the eigenvalue of Θ it leans on; "
                 "mean: the mean over the top N·2 in order (the paper's). Only values with "
                 f"residual bound < {solvers.RESOLUTION} × gap enter.", ""]
        if gram:
            lines += ["Inputs: the N-dimensional Gram inputs L of the images (L Lᵀ / N = "
                      "x xᵀ / 784, `gram_inputs`). With Gaussian first-layer weights the "
                      "network on L is the network on the images with its first layer "
                      "rotated, and the first-layer directions orthogonal to the data carry "
                      "no gradient and no curvature, so f, Θ and the nonzero spectrum of H "
                      "have exactly the law they have on the images (checked at one network "
                      "to rtol 1e-8, `tests/test_spectra_gram.py`) with 784 n − N n fewer "
                      "parameters.", ""]
        lines += [slope_table(self.gaps, ("depth", "activation", "statistic")), "",
                  "Certificates (ARPACK, explicit residuals |H v − λ v|):", "",
                  certificate_table(self.spectra), "",
                  f"Fig. 9b: width {b.width}, three classes, {b.points} images: "
                  f"top {len(c.hessian)} eigenvalues", "",
                  "| i | H | bound | resolved | \\|P_J v\\|² | Θ_i |",
                  "|---|---|---|---|---|---|"]
        lines += [f"| {i + 1} | {h:.5f} | {r:.1e} | {'yes' if ok else 'no'} | {o:.2f} | "
                  f"{t:.5f} |"
                  for i, (h, r, ok, o, t) in enumerate(zip(
                      c.hessian, c.bounds, c.resolved, c.overlaps, c.theta, strict=False))]
        return "\n".join(lines)

    @classmethod
    def load(cls, profile: str | None = None) -> Fig9:
        """The committed Fig. 9 of ``profile`` (``data/results/fig9_<profile>.json``)."""
        return cls.from_report(results.load("fig9", profile))


def fig9(profile: str) -> Report:
    """Fig. 9: (a) certified eigenvalue gaps vs width with fitted slopes; (b) three-class
    top 10."""
    gaps_protocol = GapProtocol.for_profile(profile)
    top_protocol = TopProtocol.for_profile(profile)
    gaps, spectra = _gap_results(gaps_protocol, progress=True)
    result = Fig9(gaps, spectra, fig9b(top_protocol))
    return result.report({"gaps": dataclasses.asdict(gaps_protocol),
                          "top": dataclasses.asdict(top_protocol)})


# ----------------------------------------------------------------------------- Fig. 10


@dataclasses.dataclass(frozen=True)
class MomentRow:
    """Fig. 10a at one width and stage ("init" | "trained")."""

    width: int
    stage: str
    gaps: MomentGaps


def moment_rows(protocol: MomentProtocol, progress: bool = True) -> tuple[MomentRow, ...]:
    """Fig. 10a: ``moment_gaps`` at initialization and after ``steps`` of GD, the same
    probes for both stages, at every width (two hidden layers, ReLU, two classes)."""
    p, rows = protocol, []
    for width in tqdm(p.widths, desc="Fig. 10a", disable=not progress):
        s = setup(width, 2, "relu", 2, p.per_class, p.seed)
        keys = instance_keys(p.seed, width)
        rows += [MomentRow(width, stage, stage_moments(s, keys, steps, p.probes))
                 for stage, steps in zip(STAGES, (0, p.steps), strict=True)]
    return tuple(rows)


def moment_scalings(rows: Sequence[MomentRow], probes: int) -> tuple[Scaling, ...]:
    """Fig. 10a against width: one ``Scaling`` per stage and moment m (labels figure,
    stage, moment), one initialization per width and so not fitted. Predicted at
    initialization: n^-1 for m != 2 (eq. 82, ``paper.SLOPES["fig10.moments"]``), O(1) for
    m = 2 (Tr B^2, eq. 78)."""
    out = []
    for stage in STAGES:
        stage_rows = [r for r in rows if r.stage == stage]
        widths = tuple(r.width for r in stage_rows)
        for i, m in enumerate(solvers.MOMENTS):
            values = tuple(float(r.gaps.relative[i]) for r in stage_rows)
            stderr = tuple(float(r.gaps.relative_se[i]) for r in stage_rows)
            predicted = None
            if stage == "init":
                predicted = (TRACE_B2_EXPONENT if m == 2
                             else paper.SLOPES["fig10.moments"].value)
            out.append(Scaling(
                name=f"{stage}, m = {m}", statistic="mean", widths=widths, values=values,
                stderr=stderr, counts=(probes,) * len(widths),
                resolved=tuple(fits.resolved(v, e) for v, e in zip(values, stderr,
                                                                   strict=True)),
                predicted=predicted,
                note=f"one initialization per width at {len(widths)} widths",
                labels={"figure": "10a", "stage": stage, "moment": str(m)}))
    return tuple(out)


def rms_sweep(protocol: RmsProtocol, depth: int, progress: bool = True) -> list[np.ndarray]:
    """Fig. 10b: per-instance RMS eigenvalues of B (ReLU, two classes) at every width,
    instance i at width n from ``instance_keys(seed, n, i)``."""
    p, samples = protocol, []
    for width in tqdm(p.widths, desc=f"Fig. 10b d={depth}", disable=not progress):
        s = setup(width, depth, "relu", 2, p.per_class, p.seed)
        samples.append(np.array([
            measured("spectra-rms", RmsB, s, instance_keys(p.seed, width, i), 0,
                      {"probes": p.probes},
                      lambda params, key, s=s: rms_b(s, params, p.probes, key)).value
            for i in range(p.instances)]))
    return samples


def committed_rms(protocol: RmsProtocol) -> tuple[Scaling, ...] | None:
    """``rms_scalings(protocol)`` as a committed ``fig10`` report holds them: one whose
    RMS protocol differs from ``protocol`` at most by more depths (None when none does)."""
    wanted = dataclasses.asdict(protocol)
    for report in _committed("fig10"):
        stored = report.protocol.get("rms", {})
        if ({k: stored.get(k) for k in wanted if k != "depths"}
                == {k: list(v) if isinstance(v, tuple) else v for k, v in wanted.items()
                    if k != "depths"}
                and set(protocol.depths) <= set(stored.get("depths", ()))):
            return tuple(s for depth in protocol.depths for s in report.scalings
                         if s.labels.get("figure") == "10b"
                         and s.labels.get("depth") == str(depth))
    return None


def rms_scalings(protocol: RmsProtocol, progress: bool = True, committed: bool = False
                 ) -> tuple[Scaling, ...]:
    """Fig. 10b: per depth, the RMS eigenvalue of B against width and against P, and
    Tr B^2 = P rms^2 against width (labels figure, depth, statistic, against). Predicted:
    P^-1/2 (``paper.SLOPES["fig10.rms_b"]``; n^-1/2 for one hidden layer) and Tr B^2 = O(1)
    (eq. 78); against width at depth 2 only once n >> D = 784. ``committed``: read from a
    committed report of the same protocol where there is one (``committed_rms``)."""
    stored = committed_rms(protocol) if committed else None
    if stored is not None:
        return stored
    p, out = protocol, []
    rms_b_slope = paper.SLOPES["fig10.rms_b"].value
    for depth in p.depths:
        rms = rms_sweep(p, depth, progress)
        sizes = tuple(setup(w, depth, "relu", 2, p.per_class, p.seed).net.num_params
                      for w in p.widths)
        trace_b2 = [x**2 * size for x, size in zip(rms, sizes, strict=True)]
        labels = {"figure": "10b", "depth": depth}
        against_width = scaling(f"d={depth} relu", p.widths, rms,
                                predicted=rms_b_slope if depth == 1 else None,
                                labels={**labels, "statistic": "rms_b", "against": "width"})
        if depth > 1:
            against_width = dataclasses.replace(
                against_width, note="; ".join(filter(None, (against_width.note, DEEP_RMS_NOTE))))
        out += [
            against_width,
            scaling(f"d={depth} relu vs P", sizes, rms, predicted=rms_b_slope,
                    labels={**labels, "statistic": "rms_b", "against": "params"}),
            scaling(f"d={depth} relu Tr B^2", p.widths, trace_b2,
                    predicted=TRACE_B2_EXPONENT,
                    labels={**labels, "statistic": "trace_b2", "against": "width"})]
    return tuple(out)


def density_before_after(protocol: DensityProtocol) -> dict[str, Density]:
    """The SLQ density of H and Theta's eigenvalues at initialization and after ``steps``
    of GD (two hidden layers, ReLU, two classes; the same probes for both)."""
    p = protocol
    s = setup(p.width, 2, "relu", 2, p.per_class, p.seed)
    keys = instance_keys(p.seed, p.width)
    return {stage: stage_density(s, keys, steps, p.krylov, p.probes, p.points)
            for stage, steps in zip(STAGES, (0, p.steps), strict=True)}


@dataclasses.dataclass(frozen=True)
class Fig10:
    """Fig. 10 as computed or committed (``Fig10.from_report``).

    Attributes:
      moments: Fig. 10a, per width and stage.
      scalings: Fig. 10a against width (labels figure="10a", stage, moment) and Fig. 10b
        (labels figure="10b", depth, statistic, against).
      density_width: the width of the densities.
      densities: stage ("init" | "trained") -> the SLQ density.
    """

    moments: tuple[MomentRow, ...]
    scalings: tuple[Scaling, ...]
    density_width: int
    densities: Mapping[str, Density]

    @property
    def moments_by_name(self) -> dict[str, MomentGaps]:
        """Fig. 10a as "n = <width>, <stage>" -> its moment gaps."""
        return {f"n = {r.width}, {r.stage}": r.gaps for r in self.moments}

    @property
    def rms(self) -> tuple[Scaling, ...]:
        """Fig. 10b: the RMS eigenvalue of B against width, one per depth."""
        return tuple(s for s in self.scalings if s.labels.get("figure") == "10b"
                     and s.labels["statistic"] == "rms_b" and s.labels["against"] == "width")

    @property
    def moment_widths(self) -> tuple[Scaling, ...]:
        """Fig. 10a against width at initialization."""
        return tuple(s for s in self.scalings if s.labels.get("figure") == "10a"
                     and s.labels["stage"] == "init")

    @classmethod
    def from_report(cls, report: Report) -> Fig10:
        """The typed Fig. 10 of a ``fig10`` report."""
        rows = tuple(MomentRow(int(r["width"]), r["stage"], MomentGaps(
            np.asarray(r["relative"]), np.asarray(r["relative_se"]), float(r["trace_b2"]),
            float(r["trace_b2_se"]))) for r in report.data["fig10a"])
        d = report.data["density"]
        densities = {stage: Density(*(np.asarray(d[f"{stage}_{k}"])
                                      for k in ("grid", "density", "theta")))
                     for stage in STAGES}
        return cls(rows, report.scalings, int(d["width"]), densities)

    def report(self, protocol: Mapping[str, Any]) -> Report:
        """The ``fig10`` report of these results under ``protocol``."""
        rows = [{"width": r.width, "stage": r.stage, "relative": r.gaps.relative,
                 "relative_se": r.gaps.relative_se, "trace_b2": r.gaps.trace_b2,
                 "trace_b2_se": r.gaps.trace_b2_se} for r in self.moments]
        density = {"width": self.density_width}
        for stage, d in self.densities.items():
            density |= {f"{stage}_grid": d.grid, f"{stage}_density": d.density,
                        f"{stage}_theta": d.theta}
        data = {"fig10a": rows, "density": density, "dtype": str(jnp.result_type(float))}
        return Report("fig10", protocol, self.scalings, data, self.markdown())

    def markdown(self) -> str:
        """Fig. 10a's moment gaps and Fig. 10b's slopes as Markdown tables."""
        lines = ["Fig. 10a: (Tr H^m - Tr Theta^m) / Tr Theta^m, two-hidden-layer ReLU", "",
                 "| width | stage | m=1 | m=2 | m=3 | m=4 | Tr B^2 |",
                 "|---|---|---|---|---|---|---|"]
        for r in self.moments:
            lines.append(f"| {r.width} | {r.stage} | " + " | ".join(
                f"{v:+.2e} ± {e:.1e}" for v, e in zip(r.gaps.relative, r.gaps.relative_se,
                                                     strict=True))
                + f" | {r.gaps.trace_b2:.3g} |")
        lines += ["", "Against width: " + "; ".join(s.summary() for s in self.moment_widths)]
        b = [s for s in self.scalings if s.labels.get("figure") == "10b"]
        lines += ["", "Fig. 10b: RMS eigenvalue of B = sqrt(Tr B^2 / P), two-class ReLU", "",
                  slope_table(b, ("depth", "statistic", "against"))]
        return "\n".join(lines)

    @classmethod
    def load(cls, profile: str | None = None) -> Fig10:
        """The committed Fig. 10 of ``profile`` (``data/results/fig10_<profile>.json``)."""
        return cls.from_report(results.load("fig10", profile))


def fig10(profile: str) -> Report:
    """Fig. 10: (a) moment gaps at init and after training; (b) RMS eigenvalue of B vs width;
    and the spectral density of H against Theta's eigenvalues before and after training."""
    moments = MomentProtocol.for_profile(profile)
    rms = RmsProtocol.for_profile(profile)
    dens = DensityProtocol.for_profile(profile)
    rows = moment_rows(moments)
    result = Fig10(rows, moment_scalings(rows, moments.probes) + rms_scalings(rms),
                   dens.width, density_before_after(dens))
    return result.report({"moments": dataclasses.asdict(moments),
                          "rms": dataclasses.asdict(rms),
                          "density": dataclasses.asdict(dens)})


def slope_table(scalings: Sequence[Scaling], columns: Sequence[str]) -> str:
    """A Markdown table: per scaling its ``columns`` labels, the fitted slope with its 95%
    CI (``format_slope``; why not, when not fitted), and the predicted exponent."""
    head = [*columns, "slope [95% CI]", "predicted"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for s in scalings:
        fit = s.label() if s.fitted else f"not fitted ({s.note})"
        predicted = s.note or "-" if s.predicted is None else format_slope(s.predicted)
        lines.append("| " + " | ".join([*(s.labels.get(c, "") for c in columns), fit,
                                        predicted]) + " |")
    return "\n".join(lines)
