"""What several commands share: the ``--database`` option, Rich consoles and progress.

Rich draws tables and progress bars only for a person: progress goes to stderr
and only when stderr is a terminal, so pipes, files and cron see plain output.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress

DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database",
        metavar="URL",
        help="Database URL, e.g. sqlite:///var/stsgas.db (default: STSGAS_DATABASE_URL).",
        show_default=False,
    ),
]


class Format(StrEnum):
    """How a report is printed."""

    AUTO = "auto"
    JSON = "json"
    TABLE = "table"


FormatOption = Annotated[
    Format,
    typer.Option(
        "--format",
        help="auto: a table on a terminal, JSON otherwise (pipes, files, cron); or json, table.",
    ),
]


def database_url(given: str | None) -> str:
    """``--database``, else the STSGAS_DATABASE_URL setting (or its default)."""
    if given:
        return given
    from stsgas.vending.settings import Settings

    return Settings().database_url


def console(*, stderr: bool = False) -> Console:
    """A Rich console on stdout (or stderr), made when needed so tests capture it.

    A closed pipe raises BrokenPipeError like a plain print (Rich's own answer is
    exit 1, which ``stsgas check`` keeps for a broken ledger)."""
    from rich.console import Console

    class _Console(Console):
        def on_broken_pipe(self) -> None:
            self.quiet = True
            raise BrokenPipeError

    return _Console(file=sys.stderr if stderr else sys.stdout, soft_wrap=True)


def wants_table(fmt: Format) -> bool:
    """Whether to print a table: asked for, or ``auto`` with stdout on a terminal."""
    return fmt is Format.TABLE or (fmt is Format.AUTO and sys.stdout.isatty())


def progress(what: str, *, show: bool = True) -> Progress:
    """A progress bar on stderr, drawn only when ``show`` and stderr is a terminal."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    err = console(stderr=True)
    return Progress(
        TextColumn(what),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not (show and err.is_terminal),
    )
