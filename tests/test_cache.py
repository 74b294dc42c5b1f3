import jax
import numpy as np
import pytest

from widenets_nb import cache


def test_round_trip(tmp_path):
    entry = {"samples": np.arange(6.0).reshape(2, 3), "slope": -1.02, "widths": [64, 128],
             "label": "tanh"}
    key = cache.cache_key("demo", {"width": 64, "activation": "tanh"})
    cache.save(key, entry, tmp_path)
    out = cache.load(key, tmp_path)
    np.testing.assert_array_equal(out["samples"], entry["samples"])
    assert out["slope"] == -1.02 and out["widths"] == [64, 128] and out["label"] == "tanh"


def test_key_covers_every_parameter_and_version(monkeypatch):
    base = cache.cache_key("demo", {"width": 64, "x": np.array([1.0, 2.0])})
    assert base == cache.cache_key("demo", {"x": np.array([1.0, 2.0]), "width": 64})
    assert base != cache.cache_key("demo", {"width": 65, "x": np.array([1.0, 2.0])})
    assert base != cache.cache_key("demo", {"width": 64, "x": np.array([1.0, 2.5])})
    assert base != cache.cache_key("other", {"width": 64, "x": np.array([1.0, 2.0])})
    with jax.enable_x64(False):  # the test session runs in float64
        assert base != cache.cache_key("demo", {"width": 64, "x": np.array([1.0, 2.0])})
    monkeypatch.setattr(cache, "__version__", "999")
    assert base != cache.cache_key("demo", {"width": 64, "x": np.array([1.0, 2.0])})


def test_cached_computes_once(tmp_path):
    calls = []

    def compute():
        calls.append(1)
        return {"value": np.array([3.0])}

    a = cache.cached("once", {"p": 1}, compute, tmp_path)
    b = cache.cached("once", {"p": 1}, compute, tmp_path)
    assert len(calls) == 1 and a["value"][0] == b["value"][0] == 3.0


def test_interrupted_write_leaves_no_entry(tmp_path, monkeypatch):
    key = cache.cache_key("crash", {"p": 1})

    def exploding_savez(handle, **arrays):
        handle.write(b"partial bytes")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", exploding_savez)
    with pytest.raises(KeyboardInterrupt):
        cache.save(key, {"value": np.ones(3)}, tmp_path)
    assert cache.load(key, tmp_path) is None
    assert list(tmp_path.iterdir()) == []


def test_bad_key_inputs():
    with pytest.raises(ValueError, match="letters, digits"):
        cache.cache_key("bad name/../x", {})
    with pytest.raises(TypeError, match="cannot use object"):
        cache.cache_key("ok", {"p": object()})
