"""Run-time configuration: profiles, cache directory, float64 switch.

This is the only module that reads the environment, once, at import:

- ``WIDENETS_PROFILE``: ``quick`` (CI: each notebook in about two minutes on two cores),
  ``standard`` (the default: minutes on a laptop CPU) or ``paper`` (the paper's exact
  protocol, for accelerators or overnight runs).
- ``WIDENETS_CACHE``: the result cache directory (default ``~/.cache/widenets``).
- ``WIDENETS_X64``: ``1`` to compute in float64 from import on (default ``0``: JAX's
  own default, float32); see ``apply``.
- ``WIDENETS_COMPILATION_CACHE``: ``0`` to switch off JAX's persistent compilation cache
  (default ``1``: compiled programs are kept in ``COMPILATION_CACHE_DIR``, the ``xla``
  folder of the cache directory, so a restarted kernel reuses them); see ``apply``.
- ``VOILA_BASE_URL`` (set by Voila in its kernels): progress bars are written as text, which
  the app hides, instead of widgets; see ``tqdm``.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

# Progress bars for the package (``from widenets_nb.config import tqdm``): tqdm.auto's widget
# bars in notebooks, text elsewhere. In a Voila app a widget bar that closes itself when
# done (leave=False) would stay on the page as "Error displaying widget: model not found",
# and the panels show their own progress there, so the bars are text (hidden by the app).
tqdm = importlib.import_module("tqdm.std" if "VOILA_BASE_URL" in os.environ
                               else "tqdm.auto").tqdm

PROFILES: tuple[str, ...] = ("quick", "standard", "paper")


def _read_profile(value: str | None) -> str:
    name = (value or "standard").strip().lower()
    if name not in PROFILES:
        raise ValueError(
            f"WIDENETS_PROFILE={value!r} is not a profile; use one of {', '.join(PROFILES)}."
        )
    return name


def _read_bool(name: str, value: str | None, default: bool = False) -> bool:
    text = (value or ("1" if default else "0")).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"{name}={value!r} is not a boolean; use 0 or 1.")


_ENV = dict(os.environ)
PROFILE: str = _read_profile(_ENV.get("WIDENETS_PROFILE"))
CACHE_DIR: Path = Path(_ENV.get("WIDENETS_CACHE") or Path.home() / ".cache" / "widenets")
X64: bool = _read_bool("WIDENETS_X64", _ENV.get("WIDENETS_X64"))
COMPILATION_CACHE: bool = _read_bool("WIDENETS_COMPILATION_CACHE",
                                     _ENV.get("WIDENETS_COMPILATION_CACHE"), default=True)
COMPILATION_CACHE_DIR: Path = CACHE_DIR / "xla"
#: Compilations faster than this are not stored (the many tiny programs of eager
#: operations would only fill the directory); the panels' take seconds.
MIN_COMPILE_SECONDS = 0.1
REPO_ROOT: Path = Path(__file__).resolve().parent.parent
DATA_DIR: Path = REPO_ROOT / "data"
RESULTS_DIR: Path = DATA_DIR / "results"
MNIST_SOURCE_DIR: Path = REPO_ROOT.parent / "shared" / "data" / "mnist"


def host_workers() -> int:
    """The CPU cores this process may use: independent pieces of work (training chunks) run
    on that many threads on a CPU backend, since one XLA CPU program mostly uses one core."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def profile(name: str | None = None) -> str:
    """The active profile: ``name`` when given (validated), else ``WIDENETS_PROFILE``."""
    return PROFILE if name is None else _read_profile(name)


def apply() -> None:
    """Apply the environment to JAX, once, when ``widenets_nb`` is imported: with
    ``WIDENETS_X64=1`` every array is float64 from then on. Without it JAX's own setting
    is left as it is; no other module changes the session's precision (a computation that
    needs float64 says so and scopes it with ``jax.enable_x64(True)``).

    Unless ``WIDENETS_COMPILATION_CACHE=0``, JAX's persistent compilation cache is pointed
    at ``COMPILATION_CACHE_DIR`` (a directory already chosen with JAX's own
    ``JAX_COMPILATION_CACHE_DIR`` is kept) and stores every compilation slower than
    ``MIN_COMPILE_SECONDS``.
    XLA's own GPU autotuning cache stays off: its path would enter every entry's key, so
    a cache copied or restored elsewhere (CI) would never be hit."""
    import jax

    if X64:
        jax.config.update("jax_enable_x64", True)
    if COMPILATION_CACHE and not jax.config.jax_compilation_cache_dir:
        jax.config.update("jax_compilation_cache_dir", str(COMPILATION_CACHE_DIR))
        jax.config.update("jax_persistent_cache_min_compile_time_secs", MIN_COMPILE_SECONDS)
        jax.config.update("jax_persistent_cache_enable_xla_caches", "none")


def compilation_cache() -> str | None:
    """Where JAX keeps compiled programs across processes (None when it does not)."""
    import jax

    directory = jax.config.jax_compilation_cache_dir
    return str(directory) if directory and jax.config.jax_enable_compilation_cache else None


apply()
