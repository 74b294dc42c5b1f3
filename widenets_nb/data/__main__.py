"""``python -m widenets_nb.data build``: write the bundled MNIST subset from the IDX files;
``build --tfds``: prepare the same subset as the TFDS dataset ``widenets_mnist``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import config
from . import BUNDLE, TFDS_DIR, build, tfds_module


def _build_tfds(args: argparse.Namespace) -> int:
    try:
        tfds_builder = tfds_module()
    except ImportError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    try:
        path, origin = tfds_builder.prepare(args.data_dir, args.source, force=args.force)
    except (OSError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    size = sum(f.stat().st_size for f in path.iterdir() if f.is_file())
    print(f"{tfds_builder.NAME} is ready in {path} ({size / 1e6:.2f} MB), from {origin}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m widenets_nb.data")
    sub = parser.add_subparsers(dest="command", required=True)
    cmd = sub.add_parser(
        "build", help="write data/mnist_subset.npz from the IDX files (--tfds: the TFDS dataset)")
    cmd.add_argument("--source", type=Path, default=None,
                     help=f"the IDX folder (default {config.MNIST_SOURCE_DIR}); with --tfds "
                          "also a bundle file (default: the IDX folder if present, else the "
                          "bundle)")
    cmd.add_argument("--target", type=Path, default=BUNDLE, help="the bundle to write")
    cmd.add_argument("--tfds", action="store_true",
                     help="prepare the TFDS dataset widenets_mnist instead of the bundle")
    cmd.add_argument("--data-dir", type=Path, default=TFDS_DIR,
                     help=f"with --tfds: the TFDS data directory (default {TFDS_DIR})")
    cmd.add_argument("--force", action="store_true",
                     help="with --tfds: rewrite the dataset even if it is prepared")
    args = parser.parse_args(argv)
    if args.tfds:
        return _build_tfds(args)
    try:
        path = build(args.source or config.MNIST_SOURCE_DIR, args.target)
    except (OSError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
