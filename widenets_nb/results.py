"""The result vocabulary: ``Scaling`` (a statistic against width and its fit) and ``Report``.

Every "statistic against width" view of the suite -- Tables 1-3, the Fig. 1a drift and
variances, Figs. 9a/10a, the Fig. 11 error slopes, the correlator panel -- is a
``Scaling``, drawn by ``plots.scaling_figure`` and described by ``format_slope``. A
``Report`` is what ``reproduce`` commits: provenance, protocol, scalings and any further
section data; ``load(target, profile)`` reads one back as typed objects.

>>> rng = np.random.default_rng(0)
>>> widths = (64, 128, 256, 512)
>>> s = scaling("E[f]", widths, [1 / n + rng.normal(0, 0.02 / n, 500) for n in widths],
...             predicted=-1.0)
>>> s.fitted, s.counts, format_slope(round(s.slope, 1), (-1.1, -0.9)), s.method
(True, (500, 500, 500, 500), '-1.00 [-1.10, -0.90]', 'bootstrap over initializations')
"""

from __future__ import annotations

import csv
import dataclasses
import datetime
import io
import json
import os
import platform
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from jax.typing import ArrayLike

from . import config, fits
from ._version import __version__
from .cache import atomic_write
from .fits import CorrectedFit, NotFittable, fit_exponent, fit_with_correction, moment
from .fits import resolved as is_resolved

#: How a slope's confidence interval was computed (``Scaling.method``): ``BOOTSTRAP``,
#: ``STUDENT`` or ``BLOCKS`` (``fits``), or ``NONE``.
BOOTSTRAP, STUDENT, BLOCKS = fits.BOOTSTRAP, fits.STUDENT, fits.BLOCKS
NONE = "not fitted"


def format_slope(slope: float | None, ci: Sequence[float] | None = None, digits: int = 2
                 ) -> str:
    """``"+0.12 [-0.01, +0.25]"``: a fitted exponent and its interval (``"not fitted"``
    when there is no slope).

    >>> format_slope(-1.0312, (-1.1, -0.95))
    '-1.03 [-1.10, -0.95]'
    >>> format_slope(None)
    'not fitted'
    """
    if slope is None:
        return NONE
    text = f"{slope:+.{digits}f}"
    if ci is None:
        return text
    return f"{text} [{ci[0]:+.{digits}f}, {ci[1]:+.{digits}f}]"


@dataclasses.dataclass(frozen=True)
class Scaling:
    """A statistic against width n, its fitted exponent |C| ~ A n^s, and the prediction.

    Attributes:
      name: what is measured, e.g. ``"f1 f2 f3_ab"`` or ``"mean |Θ_T - Θ_0|"``.
      statistic: ``"mean"`` or ``"variance"`` over initializations.
      widths: (W,) the widths measured.
      values: (W,) the statistic at each width.
      stderr: (W,) its standard error.
      counts: (W,) samples (initializations) behind each value.
      resolved: (W,) |value| >= 2 stderr; unresolved widths are left out of the fit.
      slope, intercept: s and log A of the weighted log-log fit (None when not fitted).
      slope_ci: the slope's confidence interval (None when not fitted).
      confidence: its level.
      method: how the interval was computed (``BOOTSTRAP``, ``STUDENT``, ``BLOCKS``), or
        ``NONE``.
      window: (first, last) width of the fit (None when not fitted).
      predicted: the exponent theory predicts (Conjecture 1, a theorem), where there is one.
      corrected: the fit A n^s (1 + c/n) with the leading 1/n correction, where asked for
        and possible.
      note: why there is no fit, or a comment on it.
      exact: (W,) the exact value at each width, where one is known (e.g. deep linear
        networks, ``diagrams.exact``).
      exact_slope: the exact local slope over the fit window: the fit's weighted log-log
        slope applied to ``exact`` at the resolved widths with the fit's own weights, i.e.
        what the fitted slope estimates (None without ``exact`` or a fit).
      labels: what distinguishes this scaling inside a report (``{"row": "5",
        "activation": "tanh"}``); see ``Report.find``.
    """

    name: str
    statistic: str
    widths: tuple[int, ...]
    values: tuple[float, ...]
    stderr: tuple[float, ...]
    counts: tuple[int, ...]
    resolved: tuple[bool, ...]
    slope: float | None = None
    intercept: float | None = None
    slope_ci: tuple[float, float] | None = None
    confidence: float = 0.95
    method: str = NONE
    window: tuple[int, int] | None = None
    predicted: float | None = None
    corrected: CorrectedFit | None = None
    note: str = ""
    labels: Mapping[str, str] = dataclasses.field(default_factory=dict)
    exact: tuple[float, ...] | None = None
    exact_slope: float | None = None

    @property
    def fitted(self) -> bool:
        """Whether there is a slope."""
        return self.slope is not None

    @property
    def unresolved(self) -> tuple[int, ...]:
        """The widths left out of the fit (|value| < 2 stderr)."""
        return tuple(w for w, r in zip(self.widths, self.resolved, strict=True) if not r)

    def label(self, digits: int = 2) -> str:
        """``format_slope`` of the fit (``"not fitted"`` without one)."""
        return format_slope(self.slope, self.slope_ci, digits)

    def summary(self) -> str:
        """One line: the fitted exponent, its interval and method, the prediction, and the
        unresolved widths or why there is no fit."""
        if not self.fitted:
            text = f"{self.name}: not fitted" + (f" ({self.note})" if self.note else "")
        else:
            text = (f"{self.name}: exponent {self.label(3)} ({self.confidence:.0%} CI, "
                    f"{self.method}, {min(self.counts)}+ samples per width)")
        if self.exact_slope is not None:
            text += f"; exact local slope {self.exact_slope:+.3f}"
        if self.predicted is not None:
            text += f"; predicted {self.predicted:+g}"
        if self.fitted and self.unresolved:
            text += f"; unresolved widths (excluded): {list(self.unresolved)}"
        return text

    def curve(self, points: int = 50) -> tuple[np.ndarray, np.ndarray]:
        """The fitted power law A n^s over the fit window, for drawing."""
        if not self.fitted or self.window is None:
            raise ValueError(f"{self.name} has no fit to draw.")
        n = np.geomspace(self.window[0], self.window[1], points)
        return n, np.exp(self.intercept) * n**self.slope

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict (``from_json`` reads it back)."""
        out = dataclasses.asdict(self)
        out["labels"] = dict(self.labels)
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Scaling:
        """The ``Scaling`` stored by ``to_json``."""
        fields = dict(data)
        for name in ("widths", "counts"):
            fields[name] = tuple(int(v) for v in fields[name])
        for name in ("values", "stderr", "exact"):
            if fields.get(name) is not None:
                fields[name] = tuple(float(v) for v in fields[name])
        fields["resolved"] = tuple(bool(v) for v in fields["resolved"])
        for name in ("slope_ci", "window"):
            if fields.get(name) is not None:
                fields[name] = tuple(fields[name])
        if fields.get("corrected") is not None:
            corrected = dict(fields["corrected"])
            corrected["slope_ci"] = tuple(corrected["slope_ci"])
            fields["corrected"] = CorrectedFit(**corrected)
        fields["labels"] = {str(k): str(v) for k, v in fields.get("labels", {}).items()}
        return cls(**fields)


def scaling(name: str, widths: Sequence[int], samples: Sequence[ArrayLike],
            statistic: str = "mean", predicted: float | None = None, seed: int = 0,
            correction: bool = False, confidence: float = 0.95,
            labels: Mapping[str, Any] | None = None, method: str = "auto",
            exact: Sequence[float] | None = None) -> Scaling:
    """The ``Scaling`` of per-width samples: moments, resolved widths, the weighted
    log-log fit with its interval (``fits.fit_exponent``; ``method`` one of
    ``fits.METHODS``, ``"auto"``: a bootstrap with 30 or more samples per width, else a
    t-interval) and, when ``correction``, the fit with the leading 1/n term
    (``fits.fit_with_correction``). ``exact``, the exact value at every width where one
    is known, adds ``exact_slope``.

    Too few resolved widths give a ``Scaling`` that is not fitted and says why.
    """
    if len(widths) != len(samples):
        raise ValueError(f"{len(widths)} widths but {len(samples)} sample sets.")
    arrays = [np.asarray(s, dtype=np.float64).ravel() for s in samples]
    try:
        fit, note = fit_exponent(widths, arrays, statistic, confidence=confidence,
                                 seed=seed, method=method), ""
        values, stderr = fit.values, fit.stderr  # the fit's own moments: computed once
    except NotFittable as err:
        fit, note = None, str(err)
        stats = [moment(x, statistic) for x in arrays]
        values, stderr = tuple(v for v, _ in stats), tuple(e for _, e in stats)
    base = dict(name=name, statistic=statistic, widths=tuple(int(w) for w in widths),
                values=values, stderr=stderr, counts=tuple(int(x.size) for x in arrays),
                resolved=tuple(is_resolved(v, e) for v, e in zip(values, stderr, strict=True)),
                confidence=confidence,
                predicted=predicted, labels={str(k): str(v) for k, v in (labels or {}).items()},
                exact=None if exact is None else tuple(float(v) for v in exact))
    if exact is not None and len(exact) != len(widths):
        raise ValueError(f"{len(widths)} widths but {len(exact)} exact values.")
    corrected = None
    if correction:
        try:
            corrected = fit_with_correction(widths, values, stderr, confidence)
        except NotFittable:
            corrected = None
    if fit is None:
        return Scaling(**base, note=note, corrected=corrected)
    kept = [i for i, r in enumerate(base["resolved"]) if r]
    window = (base["widths"][kept[0]], base["widths"][kept[-1]])
    return Scaling(**base, slope=fit.slope, intercept=fit.intercept, slope_ci=fit.slope_ci,
                   method=fit.method, window=window, corrected=corrected,
                   exact_slope=None if exact is None else exact_local_slope(
                       [base["widths"][i] for i in kept], [exact[i] for i in kept],
                       [values[i] for i in kept], [stderr[i] for i in kept]))


def exact_local_slope(widths: Sequence[int], exact: Sequence[float], values: Sequence[float],
                      stderr: Sequence[float]) -> float:
    """The slope the weighted log-log fit of ``values`` estimates: the same fit (weights
    |C_i| / stderr_i on log|C|) applied to the exact values.

    >>> exact_local_slope([10, 100, 1000], [1.0, 0.1, 0.01], [1.1, 0.1, 0.01], [0.1] * 3)
    -1.0
    """
    relative = np.asarray(stderr, dtype=np.float64) / np.abs(np.asarray(values, dtype=float))
    slope = fits.weighted_slope(widths, exact, relative * np.abs(np.asarray(exact)))[0]
    return round(slope, 12) + 0.0  # no -0.0


@dataclasses.dataclass(frozen=True)
class Provenance:
    """Where a committed result came from."""

    command: str
    date: str
    version: str
    profile: str
    platform: str
    wall_time_s: float

    @classmethod
    def now(cls, profile: str, wall_time_s: float, command: str | None = None) -> Provenance:
        """The provenance of a run finishing now in this process (``command``: what ran it,
        by default this process's command line)."""
        import jax

        return cls(
            command=command or "python -m widenets_nb " + " ".join(sys.argv[1:]),
            date=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            version=__version__,
            profile=profile,
            platform=f"{platform.machine()} {platform.system()}, {os.cpu_count()} CPUs, "
            f"jax {jax.__version__} on {jax.default_backend()}",
            wall_time_s=round(wall_time_s, 1),
        )


@dataclasses.dataclass(frozen=True)
class Report:
    """What a ``reproduce`` target produced.

    Attributes:
      target: e.g. ``"table1"``.
      protocol: the protocol's fields (JSON-able).
      scalings: every width-scaling result, told apart by their ``labels``.
      data: further section data (JSON-able), read by the section's own typed accessors.
      markdown: a human-readable table of the same results.
      provenance: set when written or loaded.
    """

    target: str
    protocol: Mapping[str, Any]
    scalings: tuple[Scaling, ...] = ()
    data: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    markdown: str = ""
    provenance: Provenance | None = None

    def select(self, **labels: Any) -> tuple[Scaling, ...]:
        """The scalings whose labels include every ``key=value`` given."""
        wanted = {k: str(v) for k, v in labels.items()}
        return tuple(s for s in self.scalings
                     if all(s.labels.get(k) == v for k, v in wanted.items()))

    def find(self, **labels: Any) -> Scaling:
        """The one scaling with these labels (``KeyError`` naming them otherwise)."""
        found = self.select(**labels)
        if len(found) != 1:
            raise KeyError(f"{self.target}: {len(found)} scalings with labels {labels}.")
        return found[0]

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict (``from_json`` reads it back)."""
        return {"target": self.target,
                "provenance": None if self.provenance is None
                else dataclasses.asdict(self.provenance),
                "protocol": _jsonable(self.protocol),
                "scalings": [s.to_json() for s in self.scalings],
                "data": _jsonable(self.data)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any], markdown: str = "") -> Report:
        """The ``Report`` stored by ``to_json``."""
        missing = {"target", "protocol", "scalings", "data"} - set(data)
        if missing:
            raise ValueError(f"not a widenets report: missing {sorted(missing)}; regenerate "
                             "it with `python -m widenets_nb reproduce`.")
        provenance = data.get("provenance")
        return cls(target=data["target"], protocol=data["protocol"],
                   scalings=tuple(Scaling.from_json(s) for s in data["scalings"]),
                   data=data["data"], markdown=markdown,
                   provenance=None if provenance is None else Provenance(**provenance))


def _jsonable(value: Any) -> Any:
    """Tuples, NumPy scalars and arrays as plain JSON values."""
    return json.loads(json.dumps(value, default=lambda v: np.asarray(v).tolist()))


def path(target: str, profile: str | None = None, directory: Path | None = None) -> Path:
    """``data/results/<target>_<profile>.json``."""
    return Path(directory or config.RESULTS_DIR) / f"{target}_{config.profile(profile)}.json"


def save(report: Report, profile: str, wall_time_s: float,
         directory: Path | None = None) -> tuple[Path, Path]:
    """Store ``report`` with its provenance as JSON and Markdown, atomically; return both
    paths."""
    meta = Provenance.now(profile, wall_time_s)
    report = dataclasses.replace(report, provenance=meta)
    json_path = path(report.target, profile, directory)
    atomic_write(json_path, lambda fh: fh.write(json.dumps(report.to_json(), indent=1)),
                 binary=False)
    lines = [f"# {report.target} ({profile} profile)", "", report.markdown.rstrip(), "",
             "| provenance | |", "|---|---|",
             *(f"| {k} | `{v}` |" for k, v in dataclasses.asdict(meta).items())]
    md_path = json_path.with_suffix(".md")
    atomic_write(md_path, lambda fh: fh.write("\n".join(lines) + "\n"), binary=False)
    return json_path, md_path


#: The columns of ``to_csv`` after the scaling's name, statistic and labels.
CSV_COLUMNS: tuple[str, ...] = (
    "width", "value", "stderr", "n_samples", "resolved", "exact", "slope", "slope_ci_low",
    "slope_ci_high", "confidence", "method", "window_low", "window_high", "predicted",
    "exact_slope", "note")


def to_csv(report: Report) -> str:
    """The report's scalings as one tidy CSV table: a row per scaling and width.

    Lines starting with ``#`` come first and carry the target, package version, provenance
    and protocol (one-line JSON each); then a header ``name, statistic, <label keys>,
    width, value, stderr, n_samples, resolved, exact, slope, ...`` (``CSV_COLUMNS``). The
    fit (slope, its CI, method, window, predicted exponent) is repeated on every row of its
    scaling, so each row stands alone; cells without a value are empty. The 1/n-corrected
    fit is in the JSON only. Read it with ``pandas.read_csv(path, comment="#")`` (no
    scaling name or label may contain ``#`` then) or by skipping the ``#`` lines.

    >>> s = scaling("C", (8, 16, 32), [[1.0, 1.2, 0.8], [0.5, 0.6, 0.4], [0.2, 0.3, 0.25]],
    ...             labels={"row": 1})
    >>> lines = to_csv(Report("demo", {"seed": 0}, (s,))).splitlines()
    >>> lines[1], lines[2].split(",")[:5]
    ('# protocol: {"seed": 0}', ['name', 'statistic', 'row', 'width', 'value'])
    >>> lines[3].split(",")[:8]
    ['C', 'mean', '1', '8', '1.0', '0.11547005383792514', '3', 'True']
    """
    labels = sorted({key for s in report.scalings for key in s.labels})
    fixed = ("name", "statistic", *CSV_COLUMNS)
    label_columns = [f"label_{k}" if k in fixed else k for k in labels]
    out = io.StringIO()
    version = report.provenance.version if report.provenance else __version__
    out.write(f"# widenets {version}: {report.target}\n")
    if report.provenance is not None:
        out.write("# provenance: " + json.dumps(dataclasses.asdict(report.provenance)) + "\n")
    out.write("# protocol: " + json.dumps(_jsonable(report.protocol)) + "\n")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["name", "statistic", *label_columns, *CSV_COLUMNS])
    for s in report.scalings:
        low, high = s.slope_ci or (None, None)
        first, last = s.window or (None, None)
        for i, width in enumerate(s.widths):
            row = [width, s.values[i], s.stderr[i], s.counts[i], s.resolved[i],
                   None if s.exact is None else s.exact[i], s.slope, low, high,
                   s.confidence, s.method, first, last, s.predicted, s.exact_slope, s.note]
            writer.writerow([s.name, s.statistic, *(s.labels.get(k) for k in labels),
                             *("" if v is None else v for v in row)])
    return out.getvalue()


def save_csv(report: Report, file: Path) -> Path:
    """Write ``to_csv(report)`` to ``file`` atomically; return it."""
    text = to_csv(report)
    return atomic_write(Path(file), lambda fh: fh.write(text), binary=False)


def load(target: str, profile: str | None = None, directory: Path | None = None) -> Report:
    """The committed ``Report`` of ``target`` in ``profile`` (default: the active one).

    Raises:
      FileNotFoundError: naming the command that produces it.
    """
    file = path(target, profile, directory)
    if not file.exists():
        raise FileNotFoundError(f"no results at {file}; run `python -m widenets_nb reproduce "
                                f"{target} --profile {config.profile(profile)}`.")
    md = file.with_suffix(".md")
    markdown = md.read_text() if md.exists() else ""
    return Report.from_json(json.loads(file.read_text()), markdown)
