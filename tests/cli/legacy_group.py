"""A command group still written the old way, ``main(argv) -> int`` with argparse: the
Typer app must pass it every argument untouched (tests/cli/test_dispatch.py)."""

from __future__ import annotations

import argparse


def main(argv: list[str]) -> int:
    """Echo the arguments; exit with the number given by ``--code``."""
    p = argparse.ArgumentParser(prog="stsgas legacy", description="an argparse group")
    p.add_argument("--code", type=int, default=0, help="exit code to return")
    p.add_argument("rest", nargs="*", help="anything")
    args = p.parse_args(argv)
    print(" ".join(args.rest))
    return int(args.code)
