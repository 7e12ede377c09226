"""``stsgas db``: back up a vending database to a file, restore one into an empty database.

``stsgas db backup --database URL --out FILE`` works on a running server
(SQLite: the online backup API; PostgreSQL: ``pg_dump --format=custom``).
``stsgas db restore --database URL --in FILE`` loads a backup into a database
that holds no tables yet (PostgreSQL: ``pg_restore``); check it afterwards
with ``stsgas check``. The database password is never printed.
Exit status: 0 done, 1 the copy failed, 2 nothing to work on (bad or
unreachable database, missing file, missing pg_dump), 3 the restore target
is not empty.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="stsgas db",
        description="Back up the vending database to one file, or restore a backup into an "
        "empty database. Exit status: 0 done, 1 the copy failed, 2 nothing to work on, "
        "3 the restore target is not empty.",
    )
    sub = p.add_subparsers(dest="action", required=True, metavar="{backup,restore}")
    b = sub.add_parser(
        "backup",
        help="copy the database into one file (safe while serving)",
        description="Copy the database into one file (safe while serving).",
    )
    b.add_argument("--database", help="database URL (default: STSGAS_DATABASE_URL)")
    b.add_argument("--out", required=True, type=Path, help="the backup file to write")
    r = sub.add_parser(
        "restore",
        help="load a backup into an empty database",
        description="Load a backup into an empty database.",
    )
    r.add_argument(
        "--database", help="database URL of the EMPTY target (default: STSGAS_DATABASE_URL)"
    )
    r.add_argument("--in", dest="src", required=True, type=Path, help="the backup file to load")
    return p


def main(argv: list[str]) -> int:
    """Back up or restore; one line on success, one line on stderr on failure."""
    args = _parser().parse_args(argv)
    from stsgas.vending import backup
    from stsgas.vending.settings import Settings

    settings = Settings()
    url = args.database or settings.database_url
    try:
        if args.action == "backup":
            done = backup.backup(url, args.out, pg_bin_dir=settings.pg_bin_dir)
            print(f"backed up {done.database} to {done.file} ({done.size} bytes)")
        else:
            done = backup.restore(url, args.src, pg_bin_dir=settings.pg_bin_dir)
            print(
                f"restored {done.file} into {done.database}; now run: stsgas check --database URL"
            )
    except backup.BackupError as exc:
        print(f"stsgas db {args.action}: {exc}", file=sys.stderr)
        return exc.exit_code
    except OSError as exc:
        print(f"stsgas db {args.action}: {exc.strerror}: {exc.filename}", file=sys.stderr)
        return 2
    return 0
