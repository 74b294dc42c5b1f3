"""``python -m widenets_nb.data build``: write the bundled MNIST subset from the IDX files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import config
from . import BUNDLE, build


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m widenets_nb.data")
    sub = parser.add_subparsers(dest="command", required=True)
    cmd = sub.add_parser("build", help="write data/mnist_subset.npz from the IDX files")
    cmd.add_argument("--source", type=Path, default=config.MNIST_SOURCE_DIR)
    cmd.add_argument("--target", type=Path, default=BUNDLE)
    args = parser.parse_args(argv)
    try:
        path = build(args.source, args.target)
    except (OSError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
