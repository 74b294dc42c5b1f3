"""Two-class (or three-class) MNIST, as the paper's experiments use it (App. A.2).

The bundled file ``data/mnist_subset.npz`` holds the first ``TRAIN_PER_DIGIT`` training and
``TEST_PER_DIGIT`` test images of every digit, taken in file order from the original IDX
files; ``python -m widenets_nb.data build`` rebuilds it from ``../shared/data/mnist/`` after
checking their md5 values. ``load_mnist`` subsamples it with a seed, scales pixels to [0, 1]
and flattens them; labels are +-1 for two digits and one-hot for three.

The same subset is also a TensorFlow Datasets dataset, ``widenets_mnist`` in ``TFDS_DIR``
(``<WIDENETS_CACHE>/tfds``), prepared offline by ``python -m widenets_nb.data build --tfds``
(``tfds_builder``); ``load_mnist(source="tfds")`` reads it, without TensorFlow.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import zipfile
from pathlib import Path
from types import ModuleType

import numpy as np

from .. import config
from ..cache import atomic_write

BUNDLE = config.DATA_DIR / "mnist_subset.npz"
TRAIN_PER_DIGIT = 1100
TEST_PER_DIGIT = 250
FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}
REBUILD = "rebuild it with `python -m widenets_nb.data build`"
TFDS_DIR = config.CACHE_DIR / "tfds"
SPLITS = ("train", "test")


@dataclasses.dataclass(frozen=True)
class Dataset:
    """A labelled MNIST subset.

    Attributes:
      x: (N, 784) float32 pixels in [0, 1].
      y: (N, k) float32 regression targets: +-1 (k = 1; digits[0] -> -1, digits[1] -> +1)
        for two digits, one-hot (k = 3) for three.
      digit: (N,) int the digit of each image.
      digits: the selected digits, in label order.
    """

    x: np.ndarray
    y: np.ndarray
    digit: np.ndarray
    digits: tuple[int, ...]

    def __len__(self) -> int:
        return len(self.x)


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def read_idx(path: Path) -> np.ndarray:
    """Decode a gzipped IDX file (big-endian header, unsigned bytes)."""
    raw = gzip.decompress(path.read_bytes())
    if raw[:2] != b"\x00\x00" or raw[2] != 0x08:
        raise ValueError(f"{path} is not an unsigned-byte IDX file (bad magic {raw[:4]!r}).")
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(shape)):
        raise ValueError(f"{path} holds {data.size} bytes of data but its header says {shape}.")
    return data.reshape(shape)


def verify_md5(source: Path) -> None:
    """Check every IDX file in ``source`` against the MD5SUMS file there."""
    sums_file = source / "MD5SUMS"
    if not sums_file.exists():
        raise FileNotFoundError(f"{sums_file} is missing; the MNIST source folder is incomplete.")
    expected = dict(reversed(line.split()) for line in sums_file.read_text().splitlines() if line)
    for name in FILES.values():
        path = source / name
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing; copy the original MNIST files there.")
        actual = _md5(path)
        if expected.get(name) != actual:
            raise ValueError(
                f"md5 mismatch for {path}: expected {expected.get(name)}, got {actual}; "
                "the file is corrupted or not the original MNIST file."
            )


def subset_from_idx(source: Path = config.MNIST_SOURCE_DIR) -> dict[str, np.ndarray]:
    """The bundle's arrays from the original IDX files in ``source`` (md5-verified): the first
    ``TRAIN_PER_DIGIT`` training and ``TEST_PER_DIGIT`` test images of every digit, in file
    order, as ``{split}_images`` (N, 784) uint8 and ``{split}_labels`` (N,) uint8."""
    verify_md5(source)
    arrays: dict[str, np.ndarray] = {}
    for split, per_digit in zip(SPLITS, (TRAIN_PER_DIGIT, TEST_PER_DIGIT), strict=True):
        images = read_idx(source / FILES[f"{split}_images"])
        labels = read_idx(source / FILES[f"{split}_labels"])
        keep = np.concatenate([np.flatnonzero(labels == d)[:per_digit] for d in range(10)])
        keep.sort()
        arrays[f"{split}_images"] = images[keep].reshape(len(keep), -1)
        arrays[f"{split}_labels"] = labels[keep]
    return arrays


def build(source: Path = config.MNIST_SOURCE_DIR, target: Path = BUNDLE) -> Path:
    """Write the bundled subset from the original IDX files (md5-verified)."""
    arrays = subset_from_idx(source)
    arrays["checksum"] = np.array(_checksum(arrays))
    return atomic_write(target, lambda handle: np.savez_compressed(handle, **arrays))


def _checksum(arrays: dict[str, np.ndarray], splits: tuple[str, ...] = SPLITS) -> str:
    """SHA-256 of the images and labels of ``splits``, in order (the bundle's: both)."""
    digest = hashlib.sha256()
    for split in splits:
        for kind in ("images", "labels"):
            digest.update(np.ascontiguousarray(arrays[f"{split}_{kind}"]).tobytes())
    return digest.hexdigest()


def _read_bundle(path: Path) -> dict[str, np.ndarray]:
    if not path.exists():
        raise FileNotFoundError(f"the MNIST bundle {path} is missing; {REBUILD}.")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as err:
        raise ValueError(f"the MNIST bundle {path} is corrupted ({err}); {REBUILD}.") from None
    if "checksum" not in arrays or str(arrays["checksum"]) != _checksum(arrays):
        raise ValueError(f"the MNIST bundle {path} fails its checksum; {REBUILD}.")
    return arrays


def tfds_module() -> ModuleType:
    """``tfds_builder``, or a clear ImportError where tensorflow-datasets is missing."""
    try:
        import tensorflow_datasets  # noqa: F401  (only whether it is installed)
    except ImportError:
        raise ImportError(
            "source='tfds' needs tensorflow-datasets: `pip install -e .[tfds]`, "
            "or use the bundled data (source='bundled')."
        ) from None
    from . import tfds_builder

    return tfds_builder


def load_mnist(
    digits: tuple[int, ...] = (0, 1),
    samples_per_class: int | None = 100,
    split: str = "train",
    seed: int = 0,
    source: str = "bundled",
    path: Path = BUNDLE,
    data_dir: Path = TFDS_DIR,
) -> Dataset:
    """A seeded subsample of MNIST with ``samples_per_class`` images of each digit.

    Args:
      digits: two or three distinct digits 0-9.
      samples_per_class: images per digit (None: all available).
      split: ``"train"`` or ``"test"`` (held out).
      seed: the subsampling seed; the same seed gives the same images.
      source: ``"bundled"`` (default: the file ``path``) or ``"tfds"`` (the TFDS dataset
        ``widenets_mnist`` in ``data_dir``, prepared by ``python -m widenets_nb.data build
        --tfds``); both hold the same images in the same order, so they give equal arrays.
    """
    digits = tuple(int(d) for d in digits)
    if len(digits) not in (2, 3) or len(set(digits)) != len(digits):
        raise ValueError(f"digits must be two or three distinct digits, got {digits}.")
    if not all(0 <= d <= 9 for d in digits):
        raise ValueError(f"digits must lie in 0-9, got {digits}.")
    if split not in SPLITS:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}.")
    if source == "bundled":
        arrays = _read_bundle(path)
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
    elif source == "tfds":
        images, labels = tfds_module().read(split, Path(data_dir))
    else:
        raise ValueError(f"source must be 'bundled' or 'tfds', got {source!r}.")
    rng = np.random.default_rng(seed)
    chosen = []
    for d in digits:
        pool = np.flatnonzero(labels == d)
        count = len(pool) if samples_per_class is None else samples_per_class
        if count <= 0 or count > len(pool):
            raise ValueError(
                f"samples_per_class={samples_per_class} is out of range: digit {d} has "
                f"{len(pool)} {split} images here (use 1..{len(pool)})."
            )
        chosen.append(rng.choice(pool, size=count, replace=False))
    index = rng.permutation(np.concatenate(chosen))
    digit = labels[index].astype(np.int64)
    onehot = (digit[:, None] == np.array(digits)[None, :]).astype(np.float32)
    y = (2 * onehot[:, 1:] - 1) if len(digits) == 2 else onehot
    x = images[index].astype(np.float32) / 255.0
    return Dataset(x=x, y=y, digit=digit, digits=digits)
