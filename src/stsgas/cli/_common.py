"""What several commands share: the ``--database`` and ``--format`` options.

Rich consoles and progress bars are in :mod:`._bars` (no Typer there, so a
plain ``token encode|decode`` can draw its bar before Typer is imported).
"""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Annotated

import typer

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


def wants_table(fmt: Format) -> bool:
    """Whether to print a table: asked for, or ``auto`` with stdout on a terminal."""
    return fmt is Format.TABLE or (fmt is Format.AUTO and sys.stdout.isatty())
