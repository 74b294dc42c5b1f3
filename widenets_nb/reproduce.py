"""``reproduce`` targets: run a paper experiment in a profile and commit its results.

Every target is a function ``run(profile: str, **options) -> Report`` named in ``TARGETS``
(imported lazily); the tables take ``activations``. Its units of work go through
``cache.cached`` so an interrupted run resumes where it stopped. ``write`` stores
``data/results/<target>_<profile>.json`` and ``.md`` with the provenance: the command,
date, package version, profile, platform and wall time.
"""

from __future__ import annotations

import dataclasses
import datetime
import importlib
import inspect
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from . import config
from ._version import __version__

TARGETS: dict[str, str] = {
    # tables: table1, table2, table3
    "table1": "widenets_nb.correlators.tables:table1",
    "table2": "widenets_nb.correlators.tables:table2",
    "table3": "widenets_nb.correlators.tables:table3",
    # training: fig1a
    "fig1a": "widenets_nb.training_experiments:fig1a",
    # dynamics: fig11
    "fig11": "widenets_nb.corrections_experiments:fig11",
    # spectra: fig9, fig10
    "fig9": "widenets_nb.spectra_experiments:fig9",
    "fig10": "widenets_nb.spectra_experiments:fig10",
}


@dataclasses.dataclass(frozen=True)
class Report:
    """What a target produced.

    Attributes:
      payload: JSON-able results (rows, fits, paper values).
      markdown: a human-readable table of the same results.
    """

    payload: dict[str, Any]
    markdown: str


def provenance(profile: str, wall_time_s: float) -> dict[str, Any]:
    """Where a result came from: command, date, version, profile, platform, wall time."""
    import jax

    return {
        "command": "python -m widenets_nb " + " ".join(sys.argv[1:]),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "version": __version__,
        "profile": profile,
        "platform": f"{platform.machine()} {platform.system()}, {os.cpu_count()} CPUs, "
        f"jax {jax.__version__} on {jax.default_backend()}",
        "wall_time_s": round(wall_time_s, 1),
    }


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".tmp", delete=False) as fh:
        fh.write(text)
    Path(fh.name).replace(path)


def write(target: str, profile: str, report: Report, wall_time_s: float,
          directory: Path | None = None) -> tuple[Path, Path]:
    """Store a report with its provenance as JSON and Markdown; return both paths."""
    directory = directory or config.RESULTS_DIR
    meta = provenance(profile, wall_time_s)
    stem = directory / f"{target}_{profile}"
    _atomic_write(stem.with_suffix(".json"),
                  json.dumps({"target": target, "provenance": meta, **report.payload}, indent=2))
    lines = [f"# {target} ({profile} profile)", "", report.markdown.rstrip(), "",
             "| provenance | |", "|---|---|", *(f"| {k} | `{v}` |" for k, v in meta.items())]
    _atomic_write(stem.with_suffix(".md"), "\n".join(lines) + "\n")
    return stem.with_suffix(".json"), stem.with_suffix(".md")


def run(target: str, profile: str | None = None, **options: Any) -> tuple[Path, Path]:
    """Run ``target`` in ``profile`` (default: the configured one) with its ``options``
    (e.g. ``activations`` for the tables) and write its results."""
    if target not in TARGETS:
        raise ValueError(
            f"unknown target {target!r}; choose one of {', '.join(sorted(TARGETS)) or 'none yet'}."
        )
    profile = config.profile(profile)
    module, _, name = TARGETS[target].partition(":")
    function = getattr(importlib.import_module(module), name)
    accepted = inspect.signature(function).parameters
    for option in options:
        if option not in accepted:
            raise ValueError(f"{target} takes no --{option.replace('_', '-')} option.")
    start = time.perf_counter()
    report = function(profile, **options)
    return write(target, profile, report, time.perf_counter() - start)
