"""``stsgas meter``: run a scenario, print the query code table, start or simulate a meter."""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Callable
from typing import Any, cast

__all__ = ["main"]

USAGE = """usage: stsgas meter {run FILE|-, codes, diagram, start ..., simulate ...}

  run FILE|-   run a JSON scenario (docs/scenarios.md), print the JSON report
  codes        print the 2-digit query code table
  diagram      print the valve state machine (Mermaid) and the lockout steps
  start        the terminal meter (Textual)
  simulate     a household meter's years of life, summarised
"""

_LAZY = {"start": "stsgas.cli.meter_start", "simulate": "stsgas.cli.meter_simulate"}


def _run(argv: list[str]) -> int:
    from stsgas.meter.scenario import ScenarioError, run_scenario

    if len(argv) != 1:
        print("usage: stsgas meter run FILE|-", file=sys.stderr)
        return 2
    name = argv[0]
    try:
        if name == "-":
            text = sys.stdin.read()
        else:
            with open(name, encoding="utf-8") as fh:
                text = fh.read()
    except OSError as exc:
        print(f"stsgas meter run: cannot read {name}: {exc.strerror}", file=sys.stderr)
        return 2
    try:
        doc: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        print(f"stsgas meter run: {name}: not JSON: {exc}", file=sys.stderr)
        return 2
    try:
        report = run_scenario(doc)
    except ScenarioError as exc:
        print(f"stsgas meter run: {name}: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(report, indent=2))
    return 0


def codes_table() -> str:
    """The query code table as text (also in docs/meter.md)."""
    from stsgas.meter.query import CODES

    return "\n".join(f"{code}  {what}" for code, (what, _) in CODES.items())


def main(argv: list[str]) -> int:
    """Dispatch ``stsgas meter`` subcommands; the exit code."""
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE, end="", file=sys.stdout if argv else sys.stderr)
        return 0 if argv else 2
    cmd, rest = argv[0], argv[1:]
    if cmd == "run":
        return _run(rest)
    if cmd == "codes":
        print("code  shows")
        print(codes_table())
        return 0
    if cmd == "diagram":
        from stsgas.meter.diagram import lockout_table, valve_mermaid

        print(valve_mermaid())
        print()
        print(lockout_table())
        return 0
    if cmd in _LAZY:
        try:
            module = importlib.import_module(_LAZY[cmd])
        except ImportError:
            print(f"stsgas meter {cmd}: not available", file=sys.stderr)
            return 2
        return cast(Callable[[list[str]], int], module.main)(rest)
    print(f"stsgas meter: unknown command {cmd!r}\n{USAGE}", end="", file=sys.stderr)
    return 2
