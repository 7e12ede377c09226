"""``stsgas db``: back up a vending database to a file, restore one into an empty database.

``backup`` works on a running server (SQLite: the online backup API;
PostgreSQL: ``pg_dump --format=custom``). ``restore`` loads a backup into a
database that holds no tables yet (PostgreSQL: ``pg_restore``); check it
afterwards with ``stsgas check``. The database password is never printed.
Exit 0 done, 1 the copy failed, 2 nothing to work on (bad or unreachable
database, missing file, missing pg_dump), 3 the restore target is not empty.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from stsgas.cli._bars import progress
from stsgas.cli._common import DatabaseOption
from stsgas.cli._errors import fail, parse_database

if TYPE_CHECKING:
    from stsgas.vending.settings import Settings

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Back up the vending database to one file, or restore a backup into an empty "
    "database. Exit 0 done, 1 the copy failed, 2 nothing to work on, 3 the restore "
    "target is not empty.",
)

T = TypeVar("T")


def _settings() -> Settings:
    from stsgas.vending.settings import Settings

    return Settings()


def _with_progress(what: str, work: Callable[[], T]) -> T:
    """Run ``work`` under a pulsing bar on a terminal (one step: the size is not known
    before the copy, which must stay one consistent snapshot)."""
    from stsgas.vending import backup

    with progress(what) as bar:
        bar.add_task(what, total=None)
        try:
            return work()
        except backup.BackupError as exc:
            fail(str(exc), exc.exit_code)


def _copy(what: str, database: str | None, copy: Callable[[str, Path | None], T]) -> T:
    """``copy(url, pg_bin_dir)`` under a bar: the database given, else the configured one
    (a bad URL stops here, exit 2)."""
    settings = _settings()
    url = database or settings.database_url
    parse_database(url)
    return _with_progress(what, lambda: copy(url, settings.pg_bin_dir))


@app.command(help="Copy the database into one file (safe while the server runs).")
def backup(
    out: Annotated[Path, typer.Option("--out", metavar="FILE", help="The backup file to write.")],
    database: DatabaseOption = None,
) -> None:
    from stsgas.vending import backup as bk

    done = _copy(
        "backing up", database, lambda url, bin_dir: bk.backup(url, out, pg_bin_dir=bin_dir)
    )
    print(f"backed up {done.database} to {done.file} ({done.size} bytes)")


@app.command(help="Load a backup into an empty database, then run stsgas check on it.")
def restore(
    src: Annotated[Path, typer.Option("--in", metavar="FILE", help="The backup file to load.")],
    database: Annotated[
        str | None,
        typer.Option(
            "--database",
            metavar="URL",
            help="Database URL of the EMPTY target (default: STSGAS_DATABASE_URL).",
            show_default=False,
        ),
    ] = None,
) -> None:
    from stsgas.vending import backup as bk

    done = _copy(
        "restoring", database, lambda url, bin_dir: bk.restore(url, src, pg_bin_dir=bin_dir)
    )
    print(f"restored {done.file} into {done.database}; now run: stsgas check --database URL")
