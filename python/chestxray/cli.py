"""Command line: ``python -m chestxray <command> --help``."""

from __future__ import annotations

import argparse
import sys

from .phantoms import write_demo_dataset


def _demo(args: argparse.Namespace) -> int:
    out = write_demo_dataset(args.out, n_per_class=args.n_per_class, seed=args.seed, size=args.size)
    print(f"wrote {2 * args.n_per_class} phantom radiographs to {out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m chestxray", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="write synthetic phantom radiographs in class folders")
    demo.add_argument("--out", required=True, help="output folder (Pneumothorax/, No-Finding/, metadata.csv)")
    demo.add_argument("--n-per-class", type=int, default=300)
    demo.add_argument("--seed", type=int, default=42)
    demo.add_argument("--size", type=int, default=256, help="image side in pixels")
    demo.set_defaults(run=_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
