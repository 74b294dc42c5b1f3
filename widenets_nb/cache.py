"""An atomic, parameter-keyed result cache.

An entry is a dict of NumPy arrays and JSON-able values, stored as one ``.npz`` file named
by a hash of (name, every parameter, package version, JAX's default float). Writes go to a
temporary file in the same directory and are renamed into place, so an interrupted run
never leaves a partial entry behind, and a changed parameter, package version or precision
never reuses a stale one.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from . import config
from ._version import __version__

_META = "__meta__"


def _canonical(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, np.ndarray) or hasattr(value, "__array__"):
        arr = np.asarray(value)
        return {"__array__": hashlib.sha256(arr.tobytes()).hexdigest(), "shape": arr.shape,
                "dtype": str(arr.dtype)}
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if hasattr(value, "__dataclass_fields__"):
        return {"__type__": type(value).__name__, **_canonical(vars(value))}
    raise TypeError(f"cannot use {type(value).__name__} in a cache key; pass plain values.")


def cache_key(name: str, params: Mapping[str, Any]) -> str:
    """A key naming ``name`` and hashing every parameter, the package version and JAX's
    default float (a float32 session never reuses a float64 entry, nor the reverse)."""
    import jax.numpy as jnp

    if not name.replace("_", "").replace("-", "").isalnum():
        raise ValueError(f"cache name {name!r} must be letters, digits, '-' and '_'.")
    blob = json.dumps({"params": _canonical(params), "version": __version__,
                       "float": str(jnp.result_type(float))}, sort_keys=True)
    return f"{name}-{hashlib.sha256(blob.encode()).hexdigest()[:20]}"


def _path(key: str, directory: Path | None) -> Path:
    return Path(directory or config.CACHE_DIR) / f"{key}.npz"


def atomic_write(path: Path, write: Callable[[Any], None], binary: bool = True) -> Path:
    """Write ``path`` atomically: ``write(handle)`` fills a temporary file in the same
    directory, which is flushed, synced and renamed into place with the permissions a
    plain ``open`` gives; on any error the temporary file is removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb" if binary else "w") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def save(key: str, entry: Mapping[str, Any], directory: Path | None = None) -> Path:
    """Write ``entry`` (arrays and JSON-able values) atomically under ``key``."""
    arrays = {k: np.asarray(v) for k, v in entry.items() if _is_array(v)}
    meta = {k: v for k, v in entry.items() if not _is_array(v)}
    arrays[_META] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    return atomic_write(_path(key, directory), lambda handle: np.savez(handle, **arrays))


def load(key: str, directory: Path | None = None) -> dict[str, Any] | None:
    """The entry stored under ``key``, or None when there is none."""
    path = _path(key, directory)
    if not path.exists():
        return None
    with np.load(path, allow_pickle=False) as data:
        entry: dict[str, Any] = {k: data[k] for k in data.files if k != _META}
        entry.update(json.loads(bytes(data[_META]).decode()))
    return entry


def cached(
    name: str,
    params: Mapping[str, Any],
    compute: Callable[[], Mapping[str, Any]],
    directory: Path | None = None,
) -> dict[str, Any]:
    """Load the entry for (name, params) or compute, store and return it."""
    key = cache_key(name, params)
    entry = load(key, directory)
    if entry is None:
        save(key, compute(), directory)
        entry = load(key, directory)
    assert entry is not None
    return entry


def _is_array(value: Any) -> bool:
    return isinstance(value, np.ndarray) or (
        hasattr(value, "__array__") and not isinstance(value, (int, float, bool, str))
    )
