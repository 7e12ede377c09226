"""The jobs in the server: the runner on ``app.state.jobs``, the failed-jobs endpoint, and
the SMS retry hook.

* PostgreSQL: :class:`QueueJobs` defers into the procrastinate queue (``stsgas
  worker`` runs the jobs) and lists its failed jobs;
* SQLite: :class:`~stsgas.vending.jobs.local.LocalJobs` runs them in a thread of
  the server (``STSGAS_JOBS_IN_PROCESS``, on by default).

A reply the SMS gateway refuses is stored unsent by the SMS channel; the
:class:`RetryingGateway` hook around the channel's gateway then defers a
resend job, so the customer gets the reply once the gateway is back, without
waiting for the gateway to re-post the message.

``GET /api/v1/jobs/failed`` (permission ``audit.read``: admins, auditors) lists
the jobs given up after their last retry.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import Annotated, Any, Protocol

from anyio import to_thread
from fastapi import APIRouter, Depends, FastAPI, Request

from stsgas.vending.jobs import queue
from stsgas.vending.jobs.local import LocalJobs
from stsgas.vending.jobs.retrying import RetryingGateway
from stsgas.vending.models import Operator
from stsgas.vending.operators.auth import require
from stsgas.vending.operators.permissions import Permission
from stsgas.vending.settings import Settings
from stsgas.vending.sms.gateway import SmsGateway

__all__ = ["JobRunner", "QueueJobs", "RetryingGateway", "install", "router"]

log = logging.getLogger("stsgas.vending.jobs")
router = APIRouter(prefix="/api/v1/jobs", tags=["operations"])
Reader = Annotated[Operator, Depends(require(Permission.AUDIT_READ))]


class JobRunner(Protocol):
    """What the server needs of a runner."""

    def defer_sms_reply(self, *, to: str, reference: str) -> None:
        """Queue a resend of a stored, unsent SMS reply."""

    def failed(self) -> list[queue.FailedJob]:
        """Jobs given up after their last retry."""

    def start(self) -> None:
        """Called when the server starts."""

    def stop(self) -> None:
        """Called when the server stops."""


class QueueJobs:
    """The PostgreSQL runner's server side: defer into the queue, list its failures."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._app = queue.build(settings, sync=True)
        self._open = False
        self._lock = threading.Lock()  # replies are refused in several threads at once

    def _opened(self) -> Any:
        with self._lock:
            if not self._open:
                queue.ensure_schema(self._settings.database_url)
                self._app.open()
                self._open = True
        return self._app

    def defer_sms_reply(self, *, to: str, reference: str) -> None:
        """Queue the resend for ``stsgas worker``."""
        queue.defer_sms_reply(self._opened(), to=to, reference=reference)

    def failed(self) -> list[queue.FailedJob]:
        """The queue's failed jobs (none while no job was ever queued: no schema yet)."""
        if not self._open and not queue.schema_exists(self._settings.database_url):
            return []
        return queue.failed_jobs(self._opened())

    def start(self) -> None:
        """Nothing to start: the queue is opened on first use."""

    def stop(self) -> None:
        """Close the queue's connections."""
        with self._lock:
            if self._open:
                self._app.close()
                self._open = False


def _raw_gateway(app: FastAPI) -> SmsGateway:
    gateway: SmsGateway = app.state.sms_gateway
    return gateway.inner if isinstance(gateway, RetryingGateway) else gateway


def runner_for(app: FastAPI, settings: Settings) -> JobRunner | None:
    """The runner this server uses, or None (SQLite with ``jobs_in_process`` off)."""
    if settings.is_sqlite:
        if not settings.jobs_in_process:
            return None
        return LocalJobs(settings, app.state.sessionmaker, lambda: _raw_gateway(app))
    return QueueJobs(settings)


def install(app: FastAPI) -> None:
    """Put the runner on ``app.state.jobs``, hook the SMS gateway, add the endpoint.

    The app's lifespan calls ``app.state.jobs.start()`` and ``stop()``.
    """
    settings: Settings = app.state.settings
    runner = runner_for(app, settings)
    app.state.jobs = runner
    log.debug("scheduled jobs: %s", "off" if runner is None else type(runner).__name__)
    gateway = getattr(app.state, "sms_gateway", None)
    if runner is not None and gateway is not None and not isinstance(gateway, RetryingGateway):
        app.state.sms_gateway = RetryingGateway(gateway, runner)
    app.include_router(router)


@router.get("/failed", response_model=None)
async def failed(request: Request, _reader: Reader) -> dict[str, Any]:
    """The jobs given up after their last retry, newest first."""
    runner: JobRunner | None = request.app.state.jobs
    found = [] if runner is None else await to_thread.run_sync(runner.failed)
    return {
        "runner": "none" if runner is None else type(runner).__name__,
        "jobs": [
            {
                "id": f.id,
                "task": f.task,
                "args": f.args,
                "attempts": f.attempts,
                "scheduled_at": _iso(f.scheduled_at),
            }
            for f in found
        ],
    }


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()
