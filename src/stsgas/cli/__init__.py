"""The ``stsgas`` command: a thin dispatcher over one module per command group.

Each group module (``token``, ``meter``, ``init``, ``serve``, ``irpad``, ``check``,
``import``, ``db``, ``keys``, ``worker``) exposes ``main(argv: list[str]) -> int``.
Only the chosen group is imported, so
``stsgas token`` starts without loading the web stack.
"""

from __future__ import annotations

import importlib
import sys

GROUPS: dict[str, tuple[str, str]] = {
    "token": ("stsgas.cli.token", "generate and decode STS tokens"),
    "meter": ("stsgas.cli.meter", "run a virtual meter, a scenario or a simulation"),
    "init": ("stsgas.cli.init", "set up a live install: database, master key, first admin"),
    "serve": ("stsgas.cli.serve", "start the vending server"),
    "irpad": ("stsgas.cli.irpad", "talk to a meter's IR port"),
    "check": ("stsgas.cli.check", "the vending database's daily integrity check"),
    "import": ("stsgas.cli.importer", "register a meter book from CSV, all or nothing"),
    "db": ("stsgas.cli.db", "back up the vending database, restore into an empty one"),
    "keys": ("stsgas.cli.keys", "vending-key ceremony (components, check values) and custody"),
    "worker": ("stsgas.cli.worker", "run the scheduled jobs from the PostgreSQL job queue"),
}


def _usage() -> str:
    lines = ["usage: stsgas <command> [options]", "       stsgas --version", "", "commands:"]
    lines += [f"  {name:<8} {help_}" for name, (_, help_) in GROUPS.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``stsgas`` console script."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help"}:
        print(_usage())
        return 0 if args else 2
    if args[0] in {"-V", "--version"}:
        from stsgas import __version__

        print(f"stsgas {__version__}")
        return 0
    group = GROUPS.get(args[0])
    if group is None:
        print(f"stsgas: unknown command {args[0]!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(group[0])
    result: int = module.main(args[1:])
    return result


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
