"""The ``stsgas`` command: a Typer app over one module per command group.

``GROUPS`` names each group's module and its one-line help. A group module
exposes either ``app`` (a ``typer.Typer``) or, not yet ported, the old
``main(argv: list[str]) -> int``, which is passed its arguments untouched.
Only the chosen group is imported, so ``stsgas token`` starts without the web
stack. Exit codes are in docs/cli.md.
"""

from __future__ import annotations

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


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``stsgas`` console script: run one command, return its exit code."""
    args = sys.argv[1:] if argv is None else argv
    if list(args) in (["--version"], ["-V"]):  # asked in bug reports: no need for Typer
        from stsgas import __version__

        try:
            print(f"stsgas {__version__}", flush=True)
        except BrokenPipeError:
            from stsgas.cli._app import closed_pipe

            return closed_pipe("stsgas")
        return 0
    from stsgas.cli._app import run

    return run(None if argv is None else list(argv))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
