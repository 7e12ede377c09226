"""``stsgas worker``: run the scheduled and retried jobs from the PostgreSQL job queue.

``stsgas worker`` applies the queue's schema when missing, then runs the jobs
(the daily integrity check, key-expiry warnings, SMS reply resends) until
SIGINT/SIGTERM; ``--until-idle`` stops once the queue is empty. ``stsgas
worker failed`` lists the jobs given up after their last retry (``--json``
for a machine). On SQLite there is no queue: the server runs the jobs itself.
Exit status: 0 done; 1 ``failed`` found failed jobs; 2 no usable database.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from stsgas.cli._common import DatabaseOption
from stsgas.cli._errors import database_reason, fail, parse_database

if TYPE_CHECKING:
    from stsgas.vending.settings import Settings


class Action(StrEnum):
    """What the worker does."""

    RUN = "run"
    FAILED = "failed"


app = typer.Typer(add_completion=False)


@app.command(
    name="worker",
    help="Run the scheduled and retried jobs from the PostgreSQL job queue, or list the "
    "failed ones. Exit 0 done, 1 failed jobs found, 2 no usable database.",
)
def worker(
    action: Annotated[
        Action, typer.Argument(help="run: work the queue; failed: list jobs given up.")
    ] = Action.RUN,
    database: DatabaseOption = None,
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, help="Jobs run at once.")] = 1,
    until_idle: Annotated[
        bool, typer.Option("--until-idle", help="Stop when the queue is empty.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="failed: one JSON document.")] = False,
) -> None:
    from stsgas.vending import logs
    from stsgas.vending.jobs import queue
    from stsgas.vending.settings import Settings

    settings = Settings()
    if database:
        settings = settings.model_copy(update={"database_url": database})
    db = parse_database(settings.database_url)
    if settings.is_sqlite:
        fail(
            f"{db.shown} is SQLite: the server runs the jobs itself; the job queue needs PostgreSQL"
        )
    logs.configure(settings.log_format, settings.log_level)
    try:
        queue.ensure_schema(settings.database_url)
    except Exception as exc:  # psycopg's errors: one line, never the password
        fail(f"cannot use the database {db.shown}: {database_reason(exc)}")
    if action is Action.FAILED:
        raise typer.Exit(_failed(settings, as_json=as_json))
    worker_app = queue.build(settings)
    worker_app.run_worker(
        concurrency=concurrency,
        wait=not until_idle,
        install_signal_handlers=True,
        name="stsgas-worker",
        delete_jobs="successful",  # done jobs leave the table; failed ones stay listed
    )


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
