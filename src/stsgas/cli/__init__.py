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
    "payments": ("stsgas.cli.payments", "mobile money: the provider simulator, reconciliation"),
}


HELP_LINE = (
    "STS prepaid gas metering: tokens, the meter model and the vending system. "
    "Run stsgas COMMAND --help for a command's options; exit codes are in docs/cli.md."
)
VERSION_HELP = "Print the installed version (stsgas X.Y.Z) and exit."


def _wrap(text: str, width: int = 78) -> str:
    """``text`` in lines of at most ``width`` columns, indented two spaces (no textwrap:
    it would import re)."""
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width - 2:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return "".join(f"  {one}\n" for one in [*lines, line])


def root_help() -> str:
    """The page of ``stsgas --help``, written without Typer (start-up time): the
    same usage, options and command list as Typer's plain help page."""
    width = max(len(name) for name in GROUPS)
    commands = "".join(f"  {name:<{width}}  {line}\n" for name, (_, line) in GROUPS.items())
    return (
        "Usage: stsgas [OPTIONS] COMMAND [ARGS]...\n\n"
        f"{_wrap(HELP_LINE)}\n"
        "Options:\n"
        f"  -V, --version  {VERSION_HELP}\n"
        "  -h, --help     Show this message and exit.\n\n"
        f"Commands:\n{commands}"
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``stsgas`` console script: run one command, return its exit code.

    The top-level help, the version and a plain ``token encode|decode`` run are
    answered here, before Typer (and the modules it brings) is imported; every other
    command goes through the Typer app."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args in (["--version"], ["-V"]):  # asked in bug reports
        from stsgas import __version__
        from stsgas.cli._pipe import write

        return write(f"stsgas {__version__}\n", "stsgas", 0)
    if args in ([], ["--help"], ["-h"]):
        from stsgas.cli._codes import CANNOT_RUN
        from stsgas.cli._pipe import write

        return write(root_help(), "stsgas", 0 if args else CANNOT_RUN)
    from stsgas.cli.token_lines import plain, serve

    lines = plain(args)  # a plain token encode|decode: the batch path, without Typer
    if lines is not None:
        return serve(*lines)
    from stsgas.cli._app import run

    return run(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
