import gzip
import hashlib
import shutil
import sys

import numpy as np
import pytest

from widenets_nb import config
from widenets_nb.data import BUNDLE, FILES, build, load_mnist, read_idx, verify_md5
from widenets_nb.data.__main__ import main


def _write_idx(path, array):
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(s).to_bytes(4, "big") for s in array.shape)
    path.write_bytes(gzip.compress(header + array.astype(np.uint8).tobytes()))


@pytest.fixture
def fake_source(tmp_path):
    """A tiny MNIST-shaped source folder with a valid MD5SUMS."""
    rng = np.random.default_rng(0)
    arrays = {
        "train_images": rng.integers(0, 256, (40, 28, 28)),
        "train_labels": np.arange(40) % 10,
        "test_images": rng.integers(0, 256, (20, 28, 28)),
        "test_labels": np.arange(20) % 10,
    }
    lines = []
    for key, name in FILES.items():
        _write_idx(tmp_path / name, arrays[key])
        lines.append(f"{hashlib.md5((tmp_path / name).read_bytes()).hexdigest()}  {name}")
    (tmp_path / "MD5SUMS").write_text("\n".join(lines) + "\n")
    return tmp_path, arrays


def test_read_idx_round_trip(fake_source):
    source, arrays = fake_source
    np.testing.assert_array_equal(read_idx(source / FILES["train_images"]), arrays["train_images"])
    np.testing.assert_array_equal(read_idx(source / FILES["test_labels"]), arrays["test_labels"])


def test_build_from_fake_source(fake_source, tmp_path):
    source, arrays = fake_source
    target = build(source, tmp_path / "out" / "bundle.npz")
    data = load_mnist(digits=(3, 7), samples_per_class=2, split="test", path=target)
    assert sorted(data.digit.tolist()) == [3, 3, 7, 7]
    # pixels come from the source images with those labels
    pool = arrays["test_images"][np.isin(arrays["test_labels"], [3, 7])].reshape(-1, 784) / 255
    for row in data.x:
        assert np.any(np.all(np.isclose(pool, row), axis=1))


def test_md5_mismatch_is_a_clear_error(fake_source):
    source, _ = fake_source
    path = source / FILES["train_labels"]
    path.write_bytes(path.read_bytes()[:-1] + b"\x01")
    with pytest.raises(ValueError, match="md5 mismatch for .*train-labels"):
        verify_md5(source)


def test_missing_source_file(fake_source):
    source, _ = fake_source
    (source / FILES["test_images"]).unlink()
    with pytest.raises(FileNotFoundError, match="t10k-images"):
        verify_md5(source)


@pytest.mark.skipif(not config.MNIST_SOURCE_DIR.exists(), reason="no ../shared/data/mnist here")
def test_original_files_pass_md5():
    verify_md5(config.MNIST_SOURCE_DIR)


def test_bundle_contents():
    for digit in range(10):
        train = load_mnist(digits=(digit, (digit + 1) % 10), samples_per_class=1000)
        assert len(train) == 2000
    data = load_mnist(samples_per_class=300, seed=4)
    assert data.x.shape == (600, 784) and data.x.dtype == np.float32
    assert 0.0 <= data.x.min() and data.x.max() <= 1.0 and data.x.max() > 0.99
    assert np.bincount(data.digit).tolist() == [300, 300]
    np.testing.assert_array_equal(data.y[:, 0], np.where(data.digit == 1, 1.0, -1.0))
    assert BUNDLE.stat().st_size < 5e6


def test_seeded_subsampling():
    a = load_mnist(samples_per_class=50, seed=1)
    b = load_mnist(samples_per_class=50, seed=1)
    c = load_mnist(samples_per_class=50, seed=2)
    np.testing.assert_array_equal(a.x, b.x)
    assert not np.array_equal(a.x, c.x)


def test_three_classes_and_test_split():
    data = load_mnist(digits=(2, 5, 8), samples_per_class=40, split="test")
    assert data.y.shape == (120, 3)
    np.testing.assert_array_equal(data.y.sum(0), [40, 40, 40])
    np.testing.assert_array_equal(np.array([2, 5, 8])[data.y.argmax(1)], data.digit)
    train = load_mnist(digits=(2, 5, 8), samples_per_class=40)
    # the held-out split shares no image with the training split
    assert not (set(map(bytes, (data.x * 255).astype(np.uint8)))
                & set(map(bytes, (train.x * 255).astype(np.uint8))))


@pytest.mark.parametrize(
    "kwargs,needle",
    [
        (dict(digits=(1,)), "two or three distinct digits"),
        (dict(digits=(1, 1)), "two or three distinct digits"),
        (dict(digits=(1, 12)), "0-9"),
        (dict(split="val"), "split must be"),
        (dict(samples_per_class=0), "out of range"),
        (dict(samples_per_class=10**6), "out of range"),
        (dict(source="web"), "source must be"),
    ],
)
def test_bad_arguments(kwargs, needle):
    with pytest.raises(ValueError, match=needle):
        load_mnist(**kwargs)


def test_corrupted_or_missing_bundle(tmp_path):
    with pytest.raises(FileNotFoundError, match="python -m widenets_nb.data build"):
        load_mnist(path=tmp_path / "nothing.npz")
    broken = tmp_path / "broken.npz"
    broken.write_bytes(BUNDLE.read_bytes()[:100000])
    with pytest.raises(ValueError, match="corrupted.*python -m widenets_nb.data build"):
        load_mnist(path=broken)
    tampered = tmp_path / "tampered.npz"
    with np.load(BUNDLE) as data:
        arrays = {k: data[k] for k in data.files}
    arrays["train_labels"] = arrays["train_labels"][::-1].copy()
    np.savez(tampered, **arrays)
    with pytest.raises(ValueError, match="checksum.*python -m widenets_nb.data build"):
        load_mnist(path=tampered)


def test_tfds_missing_is_a_clear_error(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name.startswith("tensorflow_datasets"):
            raise ImportError("no tfds")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(ImportError, match=r"pip install -e .\[tfds\]"):
        load_mnist(source="tfds")


def test_copy_of_bundle_loads(tmp_path):
    copy = tmp_path / "copy.npz"
    shutil.copy(BUNDLE, copy)
    assert len(load_mnist(path=copy, samples_per_class=10)) == 20


def test_build_tfds_without_tfds_is_a_clear_error(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "tensorflow_datasets", None)  # import fails
    assert main(["build", "--tfds", "--data-dir", str(tmp_path)]) == 2
    assert r"pip install -e .[tfds]" in capsys.readouterr().err
    with pytest.raises(ImportError, match=r"pip install -e .\[tfds\]"):
        load_mnist(source="tfds", data_dir=tmp_path)
    assert not any(tmp_path.iterdir())
