"""The bundled MNIST subset as a TensorFlow Datasets dataset, ``widenets_mnist``, offline.

It holds the images of ``data/mnist_subset.npz`` in the same order: the first
``TRAIN_PER_DIGIT`` training and ``TEST_PER_DIGIT`` test images of every digit of the original
MNIST files, with the features of TFDS's catalog ``mnist`` (``image`` (28, 28, 1) uint8,
``label`` of 10 classes). ``prepare`` writes it as ``array_record`` files from the original
IDX files (md5-verified) or, where they are absent, from the bundle (checksum-verified);
nothing is downloaded. ``read`` gives it back through ``tfds`` data sources, without
TensorFlow, and checks it against the SHA-256 digests recorded at preparation. Importing
this module registers the builder, so ``tfds.data_source("widenets_mnist", data_dir=...)``
(and, where TensorFlow is installed, ``tfds.load``) find it too.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow_datasets as tfds

from .. import config
from . import (
    BUNDLE,
    SPLITS,
    TEST_PER_DIGIT,
    TFDS_DIR,
    TRAIN_PER_DIGIT,
    _checksum,
    _read_bundle,
    subset_from_idx,
)

NAME = "widenets_mnist"


def _command(data_dir: Path, force: bool = False) -> str:
    """The CLI line that prepares (``force``: rewrites) the dataset in ``data_dir``."""
    where = "" if Path(data_dir) == TFDS_DIR else f" --data-dir {data_dir}"
    return f"`python -m widenets_nb.data build --tfds{where}{' --force' if force else ''}`"


class WidenetsMnist(tfds.core.GeneratorBasedBuilder):
    """TFDS builder of the project's MNIST subset; ``source`` (only needed to prepare) is
    a folder of original IDX files with their MD5SUMS, or a bundle ``.npz`` file."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "The subset of data/mnist_subset.npz, in its order."}

    def __init__(self, *, source: Path | None = None, **kwargs: Any) -> None:
        self._source = source
        super().__init__(**kwargs)

    def _info(self) -> tfds.core.DatasetInfo:
        return tfds.core.DatasetInfo(
            builder=self,
            description=(
                f"The first {TRAIN_PER_DIGIT} training and {TEST_PER_DIGIT} test images of "
                "every digit of MNIST, in file order (widenets' bundled subset)."
            ),
            features=tfds.features.FeaturesDict({
                "image": tfds.features.Tensor(shape=(28, 28, 1), dtype=np.uint8),
                "label": tfds.features.ClassLabel(num_classes=10),
            }),
            supervised_keys=("image", "label"),
            disable_shuffling=True,  # keep the bundle's order
            homepage="http://yann.lecun.com/exdb/mnist/",
            metadata=tfds.core.MetadataDict(),
        )

    def _split_generators(self, dl_manager: Any) -> dict[str, Iterator]:
        if self._source is None:
            raise ValueError(f"{NAME} needs source= (IDX folder or bundle file) to be prepared.")
        source = Path(self._source)
        if source.is_dir():
            arrays = subset_from_idx(source)
            origin = f"the original MNIST IDX files in {source}, md5-verified"
        else:
            arrays = _read_bundle(source)
            origin = f"the bundle {source}, checksum-verified"
        self.info.metadata.update(
            origin=origin,
            checksum=_checksum(arrays),
            train_per_digit=TRAIN_PER_DIGIT,
            test_per_digit=TEST_PER_DIGIT,
            **{f"{split}_sha256": _checksum(arrays, (split,)) for split in SPLITS},
        )
        return {
            split: self._generate_examples(arrays[f"{split}_images"], arrays[f"{split}_labels"])
            for split in SPLITS
        }

    def _generate_examples(
        self, images: np.ndarray, labels: np.ndarray
    ) -> Iterator[tuple[int, dict[str, Any]]]:
        for index, (image, label) in enumerate(zip(images, labels, strict=True)):
            yield index, {"image": image.reshape(28, 28, 1), "label": int(label)}


def default_source() -> Path:
    """The original IDX folder where it exists, else the bundle."""
    return config.MNIST_SOURCE_DIR if config.MNIST_SOURCE_DIR.is_dir() else BUNDLE


def prepare(
    data_dir: Path = TFDS_DIR, source: Path | None = None, force: bool = False
) -> tuple[Path, str]:
    """Write ``widenets_mnist`` into ``data_dir`` from ``source`` (default ``default_source()``)
    unless it is there already (``force``: rewrite it), then read it back in full and check
    it; returns its folder and the origin recorded in it."""
    builder = WidenetsMnist(
        data_dir=os.fspath(data_dir), file_format="array_record",
        source=default_source() if source is None else Path(source),
    )
    mode = (tfds.download.GenerateMode.FORCE_REDOWNLOAD if force
            else tfds.download.GenerateMode.REUSE_DATASET_IF_EXISTS)
    builder.download_and_prepare(download_config=tfds.download.DownloadConfig(download_mode=mode))
    for split in SPLITS:
        read(split, data_dir)
    return Path(builder.data_dir), str(builder.info.metadata["origin"])


def read(split: str, data_dir: Path = TFDS_DIR) -> tuple[np.ndarray, np.ndarray]:
    """The ``split`` of ``widenets_mnist`` in ``data_dir`` as the bundle stores it: images
    (N, 784) uint8 and labels (N,) uint8, checked against the digest recorded with it."""
    builder = WidenetsMnist(data_dir=os.fspath(data_dir))
    if not builder.is_prepared():
        raise FileNotFoundError(
            f"the TFDS dataset {NAME} is not in {data_dir}; prepare it with {_command(data_dir)}.")
    broken = f"the TFDS dataset in {builder.data_dir}"
    again = f"rewrite it with {_command(data_dir, force=True)}"
    try:
        records = builder.as_data_source(split=split)
        examples = records.__getitems__(list(range(len(records))))
        expected = builder.info.metadata[f"{split}_sha256"]
    except (OSError, ValueError, RuntimeError, KeyError, TypeError) as err:
        raise ValueError(f"{broken} cannot be read ({type(err).__name__}: {err}); {again}.") \
            from None
    arrays = {
        f"{split}_images": np.stack([e["image"] for e in examples]).reshape(len(examples), -1),
        f"{split}_labels": np.array([e["label"] for e in examples], dtype=np.uint8),
    }
    if _checksum(arrays, (split,)) != expected:
        raise ValueError(f"{broken} fails its {split} checksum; {again}.")
    return arrays[f"{split}_images"], arrays[f"{split}_labels"]
