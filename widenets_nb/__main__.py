"""The command-line interface: ``python -m widenets_nb --help``.

Every command prints JSON on stdout; an error is one line on stderr and exit code 2.
Commands live beside the code they call; each module in ``COMMANDS`` has
``register(subparsers)`` adding its parser with ``set_defaults(run=function)``, where
``function(args)`` returns the JSON-able result.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from typing import Any

from . import config, reproduce, results
from ._version import __version__

COMMANDS: tuple[str, ...] = (
    # correlators: predict, measure
    "widenets_nb.correlators.cli",
    # diagrams: exact, diagrams
    "widenets_nb.diagrams.cli",
    # theory: theory
    "widenets_nb.theory.cli",
)


def _info(args: argparse.Namespace) -> dict[str, Any]:
    import jax

    return {
        "version": __version__,
        "profile": config.PROFILE,
        "cache_dir": str(config.CACHE_DIR),
        "compilation_cache": config.compilation_cache(),
        "x64": bool(jax.config.jax_enable_x64),
        "backend": jax.default_backend(),
        "devices": [str(d) for d in jax.devices()],
    }


def _reproduce(args: argparse.Namespace) -> dict[str, Any]:
    if args.stored:
        if args.activations:
            raise ValueError("--stored rewrites the stored report as it is; drop --activations.")
        json_path = results.path(args.target, args.profile)
        md_path = json_path.with_suffix(".md")
        results.load(args.target, args.profile)  # says which command makes a missing one
    else:
        options = {"activations": tuple(args.activations)} if args.activations else {}
        json_path, md_path = reproduce.run(args.target, args.profile, **options)
    out = {"target": args.target, "json": str(json_path), "markdown": str(md_path)}
    if args.format == "csv":
        out["csv"] = str(reproduce.write_csv(args.target, args.profile))
    return out


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m widenets_nb",
        description="widenets: correlation functions, diagrams, NTK dynamics and spectra "
        "of wide networks (Dyer & Gur-Ari, ICLR 2020).",
    )
    parser.add_argument("--version", action="version", version=__version__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    info = sub.add_parser("info", help="version, profile, cache directories and devices")
    info.set_defaults(run=_info)
    rep = sub.add_parser("reproduce", help="rerun a table or figure of the paper")
    rep.add_argument("target", help=f"one of: {', '.join(sorted(reproduce.TARGETS)) or 'none yet'}")
    rep.add_argument("--profile", choices=config.PROFILES, default=None)
    rep.add_argument("--activations", nargs="+", default=None, metavar="ACTIVATION",
                     help="tables only: the columns to measure (default: linear relu tanh; "
                          "other columns of the same protocol are kept)")
    rep.add_argument("--format", choices=("json", "csv"), default="json",
                     help="csv: also write the report's scalings as data/results/"
                          "<target>_<profile>.csv, a row per scaling and width (the JSON and "
                          "Markdown are always written)")
    rep.add_argument("--stored", action="store_true",
                     help="do not rerun: take the stored report (with --format csv, only "
                          "its CSV is written)")
    rep.set_defaults(run=_reproduce)
    for module in COMMANDS:
        importlib.import_module(module).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        result = args.run(args)
    except (ValueError, FileNotFoundError, ImportError, RuntimeError) as err:
        print(f"error: {str(err).splitlines()[0] if str(err) else type(err).__name__}",
              file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted; rerun the same command to resume from the cache.",
              file=sys.stderr)
        return 130
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
