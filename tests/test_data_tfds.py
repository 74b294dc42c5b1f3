"""The TFDS dataset ``widenets_mnist``: prepared offline, read without TensorFlow, and equal,
bit for bit, to the bundled subset. Needs the ``tfds`` extra; without it these tests skip
(``WIDENETS_REQUIRE_TFDS=1`` turns the skip into a failure)."""

import json
import os
import shutil

import numpy as np
import pytest
from test_data import fake_source  # noqa: F401  (the fixture)

from widenets_nb import config
from widenets_nb.data import BUNDLE, _read_bundle, build, load_mnist, subset_from_idx
from widenets_nb.data.__main__ import main


@pytest.fixture(scope="module")
def tfds_builder():
    try:
        from widenets_nb.data import tfds_builder
    except ImportError as err:
        reason = (f"tensorflow-datasets is not installed ({err}); "
                  "`pip install -e .[tfds]` runs the TFDS tests")
        if os.environ.get("WIDENETS_REQUIRE_TFDS", "0").strip().lower() in ("1", "true", "yes"):
            pytest.fail(f"{reason} (required: WIDENETS_REQUIRE_TFDS=1)", pytrace=False)
        pytest.skip(reason)
    return tfds_builder


@pytest.fixture(scope="module")
def prepared(tfds_builder, tmp_path_factory):
    """widenets_mnist prepared as `build --tfds` does: from the original IDX files where this
    checkout has them (../shared/data/mnist), else from the bundle."""
    data_dir = tmp_path_factory.mktemp("tfds")
    path, origin = tfds_builder.prepare(data_dir)
    return data_dir, path, origin


def test_prepared_from_the_original_files_where_present(prepared):
    _, path, origin = prepared
    if config.MNIST_SOURCE_DIR.is_dir():
        assert origin.startswith("the original MNIST IDX files") and "md5-verified" in origin
    else:
        assert origin.startswith(f"the bundle {BUNDLE}")
    assert path.name == "1.0.0" and path.parent.name == "widenets_mnist"


def test_same_arrays_as_the_bundle(prepared, tfds_builder):
    data_dir, path, _ = prepared
    bundle = _read_bundle(BUNDLE)
    for split in ("train", "test"):
        images, labels = tfds_builder.read(split, data_dir)
        assert images.dtype == bundle[f"{split}_images"].dtype == np.uint8
        assert labels.dtype == bundle[f"{split}_labels"].dtype == np.uint8
        np.testing.assert_array_equal(images, bundle[f"{split}_images"])
        np.testing.assert_array_equal(labels, bundle[f"{split}_labels"])
    # the digest recorded at preparation is the bundle's own (both splits, in order)
    metadata = json.loads((path / "metadata.json").read_text())
    assert metadata["checksum"] == str(bundle["checksum"])


def test_tfds_data_source_finds_it_by_name(prepared):
    import tensorflow_datasets as tfds

    data_dir, _, _ = prepared
    records = tfds.data_source("widenets_mnist", split="test", data_dir=data_dir, download=False)
    bundle = _read_bundle(BUNDLE)
    assert len(records) == len(bundle["test_labels"])
    for i in (0, 1234, len(records) - 1):
        np.testing.assert_array_equal(records[i]["image"].ravel(), bundle["test_images"][i])
        assert records[i]["label"] == bundle["test_labels"][i]


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(),
        dict(digits=(3, 8), samples_per_class=1100, seed=5),
        dict(digits=(2, 5, 8), samples_per_class=40, split="test", seed=3),
        dict(digits=(9, 4), samples_per_class=None, split="test", seed=11),
    ],
)
def test_load_mnist_tfds_equals_bundled(prepared, kwargs):
    data_dir, _, _ = prepared
    tfds = load_mnist(source="tfds", data_dir=data_dir, **kwargs)
    bundled = load_mnist(source="bundled", **kwargs)
    assert tfds.digits == bundled.digits
    for field in ("x", "y", "digit"):
        a, b = getattr(tfds, field), getattr(bundled, field)
        assert a.dtype == b.dtype and a.shape == b.shape
        assert a.tobytes() == b.tobytes(), field


def test_idx_and_bundle_sources_agree(fake_source, tmp_path, tfds_builder, capsys):  # noqa: F811
    source, _ = fake_source
    bundle = build(source, tmp_path / "bundle.npz")
    assert main(["build", "--tfds", "--source", str(source), "--data-dir",
                 str(tmp_path / "from_idx")]) == 0
    assert "from the original MNIST IDX files" in capsys.readouterr().out
    tfds_builder.prepare(tmp_path / "from_bundle", bundle)
    expected = subset_from_idx(source)
    for split in ("train", "test"):
        for where in ("from_idx", "from_bundle"):
            images, labels = tfds_builder.read(split, tmp_path / where)
            np.testing.assert_array_equal(images, expected[f"{split}_images"])
            np.testing.assert_array_equal(labels, expected[f"{split}_labels"])
    kwargs = dict(digits=(3, 7), samples_per_class=2, split="test", seed=1)
    a = load_mnist(source="tfds", data_dir=tmp_path / "from_idx", **kwargs)
    b = load_mnist(path=bundle, **kwargs)
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.y, b.y)


def test_not_prepared_is_a_clear_error(tfds_builder, tmp_path):
    with pytest.raises(FileNotFoundError,
                       match=rf"not in {tmp_path}; .*build --tfds --data-dir {tmp_path}`"):
        load_mnist(source="tfds", data_dir=tmp_path)


def test_damaged_dataset_is_a_clear_error(prepared, fake_source, tmp_path, capsys):  # noqa: F811
    _, path, _ = prepared
    data_dir = tmp_path / "copy"
    shutil.copytree(path.parent.parent, data_dir)
    folder = data_dir / "widenets_mnist" / "1.0.0"
    metadata = json.loads((folder / "metadata.json").read_text())
    (folder / "metadata.json").write_text(json.dumps(dict(metadata, test_sha256="0" * 64)))
    with pytest.raises(ValueError, match="fails its test checksum; .*--force`"):
        load_mnist(source="tfds", split="test", data_dir=data_dir)
    records = next(folder.glob("*-train.array_record*"))
    records.write_bytes(records.read_bytes()[:1000])
    with pytest.raises(ValueError, match="cannot be read .*; rewrite it with .*--force`"):
        load_mnist(source="tfds", data_dir=data_dir)
    # the CLI says the same, and --force rewrites it (here from a small IDX folder)
    source = str(fake_source[0])
    assert main(["build", "--tfds", "--source", source, "--data-dir", str(data_dir)]) == 2
    assert "cannot be read" in capsys.readouterr().err
    assert main(["build", "--tfds", "--source", source, "--data-dir", str(data_dir),
                 "--force"]) == 0
    data = load_mnist(source="tfds", data_dir=data_dir, samples_per_class=4)
    assert data.digit.tolist().count(1) == 4 and len(data) == 8
