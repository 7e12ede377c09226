"""``stsgas import meters FILE.csv``: register a meter book in one transaction.

Columns: number, mode, sgc, krn (required), ti, tariff, customer_name,
customer_phone, customer_address. Every line is checked; one bad line fails
the whole file, every error is printed with its line, and nothing is written.
``--dry-run`` checks without writing. A progress bar goes to stderr when it
is a terminal (nothing otherwise). Exit status: 0 imported (or would be),
1 the file has errors, 2 bad usage or an unreadable file or database.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError

if TYPE_CHECKING:
    from rich.progress import TaskID

    from stsgas.vending.imports import Progress


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="stsgas import", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="what", required=True)
    m = sub.add_parser("meters", help="register meters (and customers) from CSV")
    m.add_argument("file", type=Path)
    m.add_argument("--database", help="database URL (default: STSGAS_DATABASE_URL)")
    m.add_argument("--dry-run", action="store_true", help="check every line, write nothing")
    return p


@contextmanager
def _progress_bar() -> Iterator[Progress]:
    """A Rich progress bar on stderr when it is a terminal; a no-op otherwise."""
    if not sys.stderr.isatty():
        yield lambda _phase, _done, _total: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, TimeElapsedColumn
    from rich.progress import Progress as Bar

    labels = {"check": "checking lines", "write": "writing meters"}
    with Bar(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def show(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(labels.get(phase, phase), total=total)
            bar.update(tasks[phase], completed=done, total=total)

        yield show


def main(argv: list[str]) -> int:
    """Import, print a JSON summary (or the errors), exit 0/1/2."""
    args = _parser().parse_args(argv)
    from stsgas.vending import migrations
    from stsgas.vending.db import make_engine, make_sessionmaker
    from stsgas.vending.imports import ImportFailed, import_meters
    from stsgas.vending.settings import Settings

    try:
        data = args.file.read_bytes()
    except OSError as exc:
        print(f"stsgas import: cannot read {args.file}: {exc}", file=sys.stderr)
        return 2
    url = args.database or Settings().database_url
    engine = make_engine(url, pool_size=1)
    try:
        migrations.upgrade(url, engine=engine)
        with make_sessionmaker(engine)() as session:
            try:
                with _progress_bar() as progress:
                    done = import_meters(
                        session, data, actor=None, imported_by=_user(), progress=progress
                    )
            except ImportFailed as exc:
                session.rollback()
                print(f"stsgas import: {exc.detail}", file=sys.stderr)
                for line in exc.extra.get("errors", []):
                    print(f"  {line}", file=sys.stderr)
                return 1
            if args.dry_run:
                session.rollback()
            else:
                session.commit()
    except SQLAlchemyError as exc:
        print(f"stsgas import: database error: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    print(
        json.dumps(
            {
                "meters": done.meters,
                "customers": done.customers,
                "written": not args.dry_run,
                "sha256": done.sha256,
            }
        )
    )
    return 0


def _user() -> str:
    """Who runs the import, for its audit entry (the CLI has no operator account)."""
    try:
        return f"os:{getpass.getuser()}"
    except (OSError, KeyError):
        return "os:unknown"
