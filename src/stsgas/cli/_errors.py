"""The CLI's one error root and its exit codes (the table in docs/cli.md).

A command raises :class:`CliError` with a sentence for a person and an exit
code; the app prints ``stsgas <command>: <sentence>`` on one line of stderr and
exits with the code. Nothing here imports the database stack unless asked.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from stsgas.cli._codes import CANNOT_RUN, CLOSED_PIPE, FOUND, INTERRUPTED, OK, REFUSED
from stsgas.cli._pipe import closed_pipe, say

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy.orm import Session

T = TypeVar("T")

__all__ = [
    "CANNOT_RUN",
    "CLOSED_PIPE",
    "FOUND",
    "INTERRUPTED",
    "OK",
    "REFUSED",
    "CliError",
    "fail",
    "said",
    "stopped",
]


class CliError(Exception):
    """A command that cannot go on: one line for a person and the exit code."""

    def __init__(self, message: str, code: int = CANNOT_RUN) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def fail(message: str, code: int = CANNOT_RUN) -> NoReturn:
    """Stop the command with one line on stderr and ``code``."""
    raise CliError(message, code)


def said(exc: Exception, path: str) -> int | None:
    """What a command raised, said on stderr as one line starting ``path:``, and its exit
    code; None for an error that is not a command's to word (a bug: let it raise)."""
    if isinstance(exc, CliError):
        say(f"{path}: {exc.message}")
        return exc.code
    if isinstance(exc, BrokenPipeError):
        return closed_pipe(path)
    if isinstance(exc, OSError):
        where = f" ({exc.filename})" if exc.filename else ""
        say(f"{path}: {exc.strerror or exc}{where}")
        return CANNOT_RUN
    pydantic = sys.modules.get("pydantic")  # a bad STSGAS_* setting
    if pydantic is not None and isinstance(exc, pydantic.ValidationError):
        say(f"{path}: {_setting_problem(exc)}")
        return CANNOT_RUN
    sa_exc = sys.modules.get("sqlalchemy.exc")
    if sa_exc is not None and isinstance(exc, sa_exc.SQLAlchemyError):
        say(f"{path}: database error: {database_reason(exc)}")
        return CANNOT_RUN
    return None


def stopped(path: str) -> int:
    """A command stopped by ^C: ``path: stopped`` on stderr and its exit code."""
    say(f"{path}: stopped")
    return INTERRUPTED


def _setting_problem(exc: Any) -> str:
    """A bad ``STSGAS_*`` setting (pydantic's ValidationError) as one sentence."""
    first = exc.errors()[0]
    name = "STSGAS_" + "_".join(str(p) for p in first.get("loc", ())).upper()
    message = str(first.get("msg", "invalid")).removeprefix("Value error, ")
    return f"bad setting {name}: {message}"


@dataclass(frozen=True)
class Database:
    """A database URL checked for shape, and how to show it (never with its password)."""

    url: str
    shown: str
    backend: str
    #: the SQLite file, None for a server database or an in-memory one
    sqlite_file: Path | None


def parse_database(url: str) -> Database:
    """Check the URL's shape (not reachability): a CliError (exit 2) that says what a
    URL looks like when it is not one, or names a driver we do not ship."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        fail(
            f"{url!r} is not a database URL (e.g. sqlite:///var/stsgas.db, "
            "postgresql+psycopg://user@host/db)"
        )
    backend = parsed.get_backend_name()
    shown = parsed.render_as_string(hide_password=True)
    if backend not in {"sqlite", "postgresql"}:
        fail(f"{shown}: stsgas works on sqlite or postgresql databases, not {backend!r}")
    sqlite_file = None
    if backend == "sqlite" and parsed.database not in (None, "", ":memory:"):
        sqlite_file = Path(str(parsed.database))
    return Database(url=url, shown=shown, backend=backend, sqlite_file=sqlite_file)


def existing_database(url: str) -> Database:
    """A database that must already exist: a missing SQLite file is exit 2, not a new
    empty database made by connecting to it."""
    db = parse_database(url)
    if db.sqlite_file is not None and not db.sqlite_file.is_file():
        fail(f"no database file {str(db.sqlite_file)!r}")
    return db


def database_reason(exc: BaseException) -> str:
    """The first line of what the driver said, without SQLAlchemy's wrapping."""
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    return first


def unreadable(db: Database, exc: BaseException) -> NoReturn:
    """Stop with exit 2: the database could not be used (down, refused, not migrated)."""
    reason = database_reason(exc)
    if "no such table" in reason or ("relation" in reason and "does not exist" in reason):
        reason += " (not a stsgas database, or not migrated yet: stsgas serve --migrate-only)"
    fail(f"cannot use the database {db.shown}: {reason}")


def read_database(db: Database, read: Callable[[Session], T]) -> T:
    """``read`` in a session of a one-connection engine, disposed after; a database that
    cannot be used stops the command with exit 2 (:func:`unreadable`)."""
    from sqlalchemy.exc import SQLAlchemyError

    from stsgas.vending.db import make_engine, make_sessionmaker

    engine = make_engine(db.url, pool_size=1)
    try:
        with make_sessionmaker(engine)() as session:
            return read(session)
    except SQLAlchemyError as exc:
        unreadable(db, exc)
    finally:
        engine.dispose()


def read_text(path: Path) -> str:
    """A text file's content, or exit 2 naming the file and why it cannot be read."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        fail(f"cannot read {path}: no such file")
    except IsADirectoryError:
        fail(f"cannot read {path}: it is a folder")
    except UnicodeDecodeError:
        fail(f"cannot read {path}: not UTF-8 text")
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror}")


def read_meter_json(path: Path) -> dict[str, Any]:
    """A scenario file's 'meter' object (or the file's own object), or exit 2 saying why not."""
    text = read_text(path)
    try:
        doc = json.loads(text)
    except ValueError as exc:
        fail(f"{path}: not JSON: {exc}")
    found = doc.get("meter", doc) if isinstance(doc, dict) else None
    if not isinstance(found, dict):
        fail(f"{path}: expected a JSON object with a 'meter' object")
    return found
