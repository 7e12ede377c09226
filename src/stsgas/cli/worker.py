"""``stsgas worker``: run the scheduled and retried jobs from the PostgreSQL job queue.

``stsgas worker`` applies the queue's schema when missing, then runs the jobs
(the daily integrity check, key-expiry warnings, SMS reply resends) until
SIGINT/SIGTERM; ``--until-idle`` stops once the queue is empty. ``stsgas
worker failed`` lists the jobs given up after their last retry (``--json``
for a machine). On SQLite there is no queue: the server runs the jobs itself.
Exit status: 0 done; 1 ``failed`` found failed jobs; 2 no usable database.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stsgas.vending.settings import Settings


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="stsgas worker", description=__doc__.splitlines()[0])
    p.add_argument("action", nargs="?", choices=["run", "failed"], default="run")
    p.add_argument("--database", help="database URL (default: STSGAS_DATABASE_URL)")
    p.add_argument("--concurrency", type=int, default=1, help="jobs run at once (default 1)")
    p.add_argument("--until-idle", action="store_true", help="stop when the queue is empty")
    p.add_argument("--json", action="store_true", help="failed: one JSON document")
    return p


def main(argv: list[str]) -> int:
    """Run the worker or list failed jobs; exit 0/1/2 as documented."""
    args = _parser().parse_args(argv)
    from sqlalchemy.engine import make_url

    from stsgas.vending import logs
    from stsgas.vending.jobs import queue
    from stsgas.vending.settings import Settings

    settings = Settings()
    if args.database:
        settings = settings.model_copy(update={"database_url": args.database})
    shown = make_url(settings.database_url).render_as_string(hide_password=True)
    if settings.is_sqlite:
        print(
            f"stsgas worker: {shown} is SQLite: the server runs the jobs itself; the job "
            "queue needs PostgreSQL",
            file=sys.stderr,
        )
        return 2
    logs.configure(settings.log_format, settings.log_level)
    try:
        queue.ensure_schema(settings.database_url)
    except Exception as exc:  # psycopg's errors: one line, never the password
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"stsgas worker: cannot use the database {shown}: {reason}", file=sys.stderr)
        return 2
    if args.action == "failed":
        return _failed(settings, as_json=args.json)
    app = queue.build(settings)
    app.run_worker(
        concurrency=args.concurrency,
        wait=not args.until_idle,
        install_signal_handlers=True,
        name="stsgas-worker",
        delete_jobs="successful",  # done jobs leave the table; failed ones stay listed
    )
    return 0


def _failed(settings: Settings, *, as_json: bool) -> int:
    from stsgas.vending.jobs import queue

    app = queue.build(settings, sync=True)
    with app.open():
        found = queue.failed_jobs(app)
    if as_json:
        rows = [
            {
                "id": f.id,
                "task": f.task,
                "args": f.args,
                "attempts": f.attempts,
                "scheduled_at": None if f.scheduled_at is None else f.scheduled_at.isoformat(),
            }
            for f in found
        ]
        print(json.dumps({"failed": rows}, indent=2))
    elif not found:
        print("no failed jobs")
    else:
        for f in found:
            args = " ".join(f"{k}={v}" for k, v in sorted(f.args.items()))
            print(f"{f.id}\t{f.task}\tattempts={f.attempts}\t{args}")
    return 1 if found else 0
