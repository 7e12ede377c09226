"""``stsgas import meters FILE.csv``: register a meter book in one transaction.

Columns: number, mode, sgc, krn (required), ti, tariff, customer_name,
customer_phone, customer_address. Every line is checked; one bad line fails
the whole file, every error is printed with its line, and nothing is written.
A progress bar per phase (checking, writing) goes to stderr when it is a
terminal. Exit 0 imported (or would be, with --dry-run), 1 the file has
errors, 2 bad usage or an unreadable file or database.
"""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from stsgas.cli._bars import console
from stsgas.cli._common import DatabaseOption, database_url
from stsgas.cli._errors import FOUND, existing_database, fail, unreadable

if TYPE_CHECKING:
    from rich.progress import TaskID

    from stsgas.vending.imports import Progress

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Register a meter book from CSV, all or nothing. Exit 0 imported, 1 the file "
    "has errors (nothing written), 2 an unreadable file or database.",
)


@app.callback()
def group() -> None:
    """A group (not a lone command): ``stsgas import meters``, room for more books."""


@contextmanager
def _progress_bar() -> Iterator[Progress]:
    """A Rich progress bar per phase on stderr when it is a terminal; a no-op otherwise."""
    if not sys.stderr.isatty():
        yield lambda _phase, _done, _total: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, TimeElapsedColumn
    from rich.progress import Progress as Bar

    labels = {"check": "checking lines", "write": "writing meters"}
    with Bar(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console(stderr=True),
        transient=True,
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def show(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(labels.get(phase, phase), total=total)
            bar.update(tasks[phase], completed=done, total=total)

        yield show


def _user() -> str:
    """Who runs the import, for its audit entry (the CLI has no operator account)."""
    try:
        return f"os:{getpass.getuser()}"
    except (OSError, KeyError):
        return "os:unknown"


@app.command(
    help="Register meters (and their customers) from a CSV file in one transaction; "
    "columns: number, mode, sgc, krn, and optionally ti, tariff, customer_name, "
    "customer_phone, customer_address.",
)
def meters(
    file: Annotated[Path, typer.Argument(metavar="FILE.csv", help="The meter book, UTF-8 CSV.")],
    database: DatabaseOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check every line, write nothing.")
    ] = False,
) -> None:
    from sqlalchemy.exc import SQLAlchemyError

    try:
        data = file.read_bytes()
    except FileNotFoundError:
        fail(f"cannot read {file}: no such file")
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror}")
    db = existing_database(database_url(database))  # a typo must not make a new file
    from stsgas.vending import migrations
    from stsgas.vending.db import make_engine, make_sessionmaker
    from stsgas.vending.imports import ImportFailed, import_meters

    engine = make_engine(db.url, pool_size=1)
    try:
        migrations.upgrade(db.url, engine=engine)
        with make_sessionmaker(engine)() as session:
            try:
                with _progress_bar() as progress:
                    done = import_meters(
                        session, data, actor=None, imported_by=_user(), progress=progress
                    )
            except ImportFailed as exc:
                session.rollback()
                typer.echo(f"stsgas import meters: {exc.detail}", err=True)
                for line in exc.extra.get("errors", []):
                    typer.echo(f"  {line}", err=True)
                raise typer.Exit(FOUND) from None
            if dry_run:
                session.rollback()
            else:
                session.commit()
    except SQLAlchemyError as exc:
        unreadable(db, exc)
    finally:
        engine.dispose()
    print(
        json.dumps(
            {
                "meters": done.meters,
                "customers": done.customers,
                "written": not dry_run,
                "sha256": done.sha256,
            }
        )
    )
