"""Back up a vending database to one file and restore it into an empty database.

SQLite: the ``sqlite3`` module's online backup API copies a consistent
snapshot in one read transaction while the server keeps selling (in WAL mode
a reader never blocks the writer); the backup file is itself a SQLite
database. PostgreSQL: ``pg_dump --format=custom`` and
``pg_restore`` (Debian's postgresql-client), the pair whose major version
matches the server (``/usr/lib/postgresql/<major>/bin``) unless
``STSGAS_PG_BIN_DIR`` names another folder.

A restore only goes into an EMPTY database (no tables), so it can never mix
two ledgers or overwrite a live one. Every error is one line for a person,
with the database URL shown without its password; the password reaches
``pg_dump`` / ``pg_restore`` through their environment, never their command
line.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import URL, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.pool import NullPool


class BackupError(Exception):
    """The backup or restore could not start or did not finish; one line, no secret.

    ``exit_code``: 2 nothing to work on (bad or unreachable database, missing or
    foreign file, missing tool), 3 the restore target is not empty, 1 the copy
    itself failed.
    """

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True, slots=True)
class Done:
    """What was copied: the database (password hidden) and the file."""

    database: str
    file: Path
    size: int


def _url(url: str) -> URL:
    try:
        return make_url(url)
    except ArgumentError:
        raise BackupError(
            "the database URL is not a URL (sqlite:///FILE or postgresql+psycopg://USER@HOST/NAME)"
        ) from None


def shown(url: URL) -> str:
    """The URL as it may be printed: password hidden."""
    return url.render_as_string(hide_password=True)


def backup(url: str, out: Path, *, pg_bin_dir: Path | None = None) -> Done:
    """Copy the database at ``url`` into ``out`` (written whole, then renamed into place)."""
    parsed = _url(url)
    part = out.with_name(out.name + ".part")
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        if parsed.get_backend_name() == "sqlite":
            _sqlite_backup(parsed, out, part)
        elif parsed.get_backend_name() == "postgresql":
            _pg_backup(parsed, part, pg_bin_dir)
        else:
            raise BackupError(f"cannot back up a {parsed.get_backend_name()!r} database")
        os.replace(part, out)
    finally:
        part.unlink(missing_ok=True)
    return Done(shown(parsed), out, out.stat().st_size)


def restore(url: str, src: Path, *, pg_bin_dir: Path | None = None) -> Done:
    """Load the backup ``src`` into the EMPTY database at ``url``."""
    parsed = _url(url)
    if not src.is_file():
        raise BackupError(f"no backup file {str(src)!r}")
    if parsed.get_backend_name() == "sqlite":
        _sqlite_restore(parsed, src)
    elif parsed.get_backend_name() == "postgresql":
        _pg_restore(parsed, src, pg_bin_dir)
    else:
        raise BackupError(f"cannot restore into a {parsed.get_backend_name()!r} database")
    return Done(shown(parsed), src, src.stat().st_size)


# --- SQLite -------------------------------------------------------------------------


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("a SQLite backup needs a database file, not memory")
    return Path(url.database)


def _tables(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()
    return int(row[0])


def _sqlite_backup(url: URL, out: Path, part: Path) -> None:
    path = _sqlite_path(url)
    if not path.is_file():
        raise BackupError(f"no database file {str(path)!r}")
    if out.exists() and out.resolve() == path.resolve():
        raise BackupError("the backup file is the database itself; choose another --out")
    part.unlink(missing_ok=True)
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)) as source:
            if _tables(source) == 0:
                raise BackupError(f"{str(path)!r} holds no tables: nothing to back up")
            with closing(sqlite3.connect(part)) as target:
                source.backup(target)  # one step: one read snapshot
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"cannot back up {str(path)!r}: {exc}", 1) from None


def _sqlite_restore(url: URL, src: Path) -> None:
    path = _sqlite_path(url)
    try:
        with closing(sqlite3.connect(f"file:{src}?mode=ro", uri=True)) as source:
            try:
                ours = (
                    source.execute(
                        "SELECT count(*) FROM sqlite_master WHERE name = 'alembic_version'"
                    ).fetchone()[0]
                    == 1
                )
            except sqlite3.DatabaseError:
                ours = False
            if not ours:
                raise BackupError(f"{str(src)!r} is not a stsgas SQLite backup")
            path.parent.mkdir(parents=True, exist_ok=True)
            with closing(sqlite3.connect(path, timeout=30)) as target:
                if _tables(target) != 0:
                    raise BackupError(
                        f"{str(path)!r} is not empty: restore only into a new database", 3
                    )
                source.backup(target)  # one step: one read snapshot
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"cannot restore {str(src)!r}: {exc}", 1) from None


# --- PostgreSQL ---------------------------------------------------------------------


def _pg_count_tables(url: URL) -> tuple[int, int]:
    """The server's major version and how many tables the database holds."""
    engine = create_engine(url.set(drivername="postgresql+psycopg"), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            version = int(conn.execute(text("SHOW server_version_num")).scalar_one())
            tables = conn.execute(
                text(
                    "SELECT count(*) FROM pg_catalog.pg_class c "
                    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S') "
                    "AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
                    "AND n.nspname NOT LIKE 'pg_toast%'"
                )
            ).scalar_one()
    except SQLAlchemyError as exc:
        orig = getattr(exc, "orig", None)
        reason = (
            str(orig or exc).strip().splitlines()[0]
            if str(orig or exc).strip()
            else type(exc).__name__
        )
        raise BackupError(f"cannot use the database {shown(url)}: {_scrub(reason, url)}") from None
    finally:
        engine.dispose()
    return version // 10_000, int(tables)


def pg_tool(name: str, major: int, bin_dir: Path | None = None) -> Path:
    """``pg_dump`` or ``pg_restore`` for a server of version ``major``."""
    candidates = (
        [bin_dir / name]
        if bin_dir is not None
        else [Path(f"/usr/lib/postgresql/{major}/bin/{name}")]
    )
    if bin_dir is None and (found := shutil.which(name)) is not None:
        candidates.append(Path(found))
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    where = bin_dir or f"/usr/lib/postgresql/{major}/bin or PATH"
    raise BackupError(
        f"{name} not found in {where}: install postgresql-client-{major} (or set STSGAS_PG_BIN_DIR)"
    )


def _pg_env(url: URL) -> dict[str, str]:
    """The connection for libpq tools, password in PGPASSWORD (never on the command line)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    pairs = {
        "PGHOST": url.host,
        "PGPORT": url.port,
        "PGUSER": url.username,
        "PGDATABASE": url.database,
        "PGPASSWORD": url.password,
    }
    env.update({k: str(v) for k, v in pairs.items() if v is not None})
    sslmode = url.query.get("sslmode")
    if isinstance(sslmode, str):
        env["PGSSLMODE"] = sslmode
    return env


def _scrub(message: str, url: URL) -> str:
    password = url.password
    return message.replace(str(password), "***") if password else message


def _run(tool: Path, args: list[str], url: URL, what: str, exit_code: int = 1) -> None:
    run = subprocess.run(
        [str(tool), *args],
        env=_pg_env(url),
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    if run.returncode != 0:
        lines = [ln for ln in run.stderr.splitlines() if ln.strip()]
        reason = _scrub(lines[0] if lines else f"exit status {run.returncode}", url)
        raise BackupError(f"{what}: {reason}", exit_code)


def _pg_backup(url: URL, part: Path, bin_dir: Path | None) -> None:
    major, tables = _pg_count_tables(url)
    if tables == 0:
        raise BackupError(f"{shown(url)} holds no tables: nothing to back up")
    tool = pg_tool("pg_dump", major, bin_dir)
    _run(tool, ["--format=custom", "--no-password", f"--file={part}"], url, "pg_dump failed")


def _pg_restore(url: URL, src: Path, bin_dir: Path | None) -> None:
    major, tables = _pg_count_tables(url)
    if tables != 0:
        raise BackupError(
            f"{shown(url)} is not empty ({tables} tables): restore only into a new, empty database",
            3,
        )
    tool = pg_tool("pg_restore", major, bin_dir)
    _run(tool, ["--list", str(src)], url, f"{str(src)!r} is not a pg_dump custom-format backup", 2)
    _run(
        tool,
        [
            "--no-password",
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            f"--dbname={url.database}",
            str(src),
        ],
        url,
        "pg_restore failed",
    )
