"""``stsgas serve``: start the vending server (API, console, POS) on STSGAS_DATABASE_URL.

Creates and migrates an empty database on first start; ``--demo`` loads demo
data and prints the demo logins. It refuses to start (one line on stderr,
exit 2) when the master key does not open the database's vending keys or when
the database has no admin account (without ``--demo``: run ``stsgas init``),
and never prints the database password.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="stsgas serve", description=__doc__)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on")
    p.add_argument("--port", type=int, default=8000, help="TCP port")
    p.add_argument("--demo", action="store_true", help="load demo data into an empty database")
    p.add_argument("--workers", type=int, default=1, help="worker processes (stateless)")
    p.add_argument("--migrate-only", action="store_true", help="migrate, then exit")
    return p


def _metrics_dir(workers: int) -> Path | None:
    """Several workers share their metrics through files in PROMETHEUS_MULTIPROC_DIR: a
    configured folder is emptied of a previous run's files, else a fresh one is made
    (returned, to be removed at the end)."""
    configured = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if configured:
        folder = Path(configured)
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.db"):
            stale.unlink()
        return None
    if workers <= 1:
        return None
    made = Path(tempfile.mkdtemp(prefix="stsgas-metrics-"))
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(made)
    return made


def main(argv: list[str]) -> int:
    """Parse arguments, prepare the database and run uvicorn."""
    args = _parser().parse_args(argv)
    try:
        import uvicorn
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import OperationalError

        from stsgas.vending import demo, logs
        from stsgas.vending.server import StartRefused, prepare
        from stsgas.vending.settings import Settings
    except ImportError as exc:  # pragma: no cover - the web stack is a core dependency
        print(f"stsgas serve needs the web stack ({exc.name}); reinstall stsgas", file=sys.stderr)
        return 1
    settings = Settings()
    if args.demo:
        settings = settings.model_copy(update={"demo": True})
    shown = make_url(settings.database_url).render_as_string(hide_password=True)
    try:
        done = prepare(settings)
    except StartRefused as exc:
        print(f"stsgas serve: {exc}", file=sys.stderr)
        return 2
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        print(f"stsgas serve: cannot use the database {shown}: {reason}", file=sys.stderr)
        return 2
    s = done.settings
    if not s.demo and not args.migrate_only and not done.has_admin:
        print(
            "stsgas serve: this database has no admin account: set it up with "
            "`stsgas init --database URL --admin NAME` (or try `stsgas serve --demo`)",
            file=sys.stderr,
        )
        return 2
    if done.key_file_created is not None:
        print(f"created a master key in {done.key_file_created} (keep it safe and backed up)")
    # workers read their settings from the environment
    os.environ["STSGAS_DATABASE_URL"] = s.database_url
    if s.master_key_file is not None and s.master_key is None:
        os.environ["STSGAS_MASTER_KEY_FILE"] = str(s.master_key_file)
    print(f"database: {shown}")
    if args.migrate_only:
        return 0
    url = f"http://{args.host}:{args.port}"
    print(f"stsgas vending at {url}/  (API {url}/api/v1/docs)")
    if s.demo:
        if done.demo_loaded:
            print("demo data loaded")
        print("demo logins:")
        for login in demo.logins():
            print(f"  {login.username:<11} {login.password:<16} ({login.role})")
        print("demo meters: " + ", ".join(demo.meter_numbers()))
    sys.stdout.flush()
    made = _metrics_dir(args.workers)
    # from here on every line, uvicorn's included, is a structured log line (STSGAS_LOG_FORMAT)
    logs.configure(s.log_format, s.log_level)
    try:
        uvicorn.run(
            "stsgas.vending.server:app_from_env",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            log_config=logs.dict_config(s.log_format, s.log_level),  # uvicorn's lines too
        )
    finally:
        if made is not None:
            shutil.rmtree(made, ignore_errors=True)
    return 0
