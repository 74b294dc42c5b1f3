"""``reproduce`` targets: run a paper experiment in a profile and commit its results.

Every target is a section function ``target(profile: str, **options) -> results.Report``;
the tables take ``activations``. Its units of work go through ``cache.cached``, so an
interrupted run resumes where it stopped. ``run`` stores the report with its provenance
(command, date, package version, profile, platform, wall time) as
``data/results/<target>_<profile>.json`` and ``.md`` (``results.save``); ``results.load``
reads it back, and ``write_csv`` adds its scalings as ``.csv`` (``results.to_csv``).
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import config, results
from .corrections import experiments as corrections
from .correlators import experiments as correlators
from .spectra import experiments as spectra
from .theory import experiments as theory
from .training import experiments as training

TARGETS: dict[str, Callable[..., results.Report]] = {
    "table1": correlators.table1,
    "table2": correlators.table2,
    "table3": correlators.table3,
    "fig1a": training.fig1a,
    "fig11": corrections.fig11,
    "fig9": spectra.fig9,
    "fig10": spectra.fig10,
    "theory": theory.report,
}


def run(target: str, profile: str | None = None, directory: Path | None = None,
        **options: Any) -> tuple[Path, Path]:
    """Run ``target`` in ``profile`` (default: the configured one) with its ``options``
    (e.g. ``activations`` for the tables) and write its results; return the JSON and
    Markdown paths."""
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}; choose one of {', '.join(sorted(TARGETS))}.")
    profile = config.profile(profile)
    function = TARGETS[target]
    accepted = inspect.signature(function).parameters
    for option in options:
        if option not in accepted:
            raise ValueError(f"{target} takes no --{option.replace('_', '-')} option.")
    start = time.perf_counter()
    report = function(profile, **options)
    return results.save(report, profile, time.perf_counter() - start, directory)


def write_csv(target: str, profile: str | None = None, directory: Path | None = None) -> Path:
    """The scalings of ``target``'s stored report in ``profile`` as CSV beside its JSON,
    ``data/results/<target>_<profile>.csv`` (``results.to_csv``: a row per scaling and
    width, with the provenance and protocol in ``#`` lines); return its path."""
    report = results.load(target, profile, directory)
    return results.save_csv(report, results.path(target, profile, directory).with_suffix(".csv"))
