"""``stsgas import meters FILE.csv``: register a meter book in one transaction.

Columns: number, mode, sgc, krn (required), ti, tariff, customer_name,
customer_phone, customer_address. Every line is checked; one bad line fails
the whole file, every error is printed with its line, and nothing is written.
Exit 0 imported (or would be, with --dry-run), 1 the file has errors, 2 bad
usage or an unreadable file or database.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from stsgas.cli._common import DatabaseOption, database_url, progress
from stsgas.cli._errors import FOUND, existing_database, read_text, unreadable

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Register a meter book from CSV, all or nothing. Exit 0 imported, 1 the file "
    "has errors (nothing written), 2 an unreadable file or database.",
)


@app.callback()
def group() -> None:
    """A group (not a lone command): ``stsgas import meters``, room for more books."""


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

    text = read_text(file)
    db = existing_database(database_url(database))  # a typo must not make a new file
    from stsgas.vending import migrations
    from stsgas.vending.db import make_engine, make_sessionmaker
    from stsgas.vending.imports import ImportFailed, import_meters

    lines = max(0, text.count("\n") - 1)
    engine = make_engine(db.url, pool_size=1)
    try:
        with progress(f"importing {lines} lines") as bar:
            bar.add_task("import", total=None)
            migrations.upgrade(db.url, engine=engine)
            with make_sessionmaker(engine)() as session:
                try:
                    done = import_meters(session, text, actor=None)
                except ImportFailed as exc:
                    session.rollback()
                    bar.stop()
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
    print(json.dumps({"meters": done.meters, "customers": done.customers, "written": not dry_run}))
