"""The PostgreSQL job queue: procrastinate tasks around the job functions.

The queue's tables live in the vending database itself. Their schema is
procrastinate's own, applied by :func:`ensure_schema` when it is missing
(``stsgas worker`` at start, and the server before it first defers a job; an
advisory lock lets several start at once), never by an Alembic migration: it
follows the installed procrastinate version, not stsgas's revisions.

Tasks and their retry rules:

* ``stsgas.integrity_check``: periodic (``STSGAS_INTEGRITY_CHECK_CRON``);
  retried only when the database could not be read; a broken check fails at once;
* ``stsgas.key_warnings``: periodic (``STSGAS_KEY_WARNINGS_CRON``), same retries;
* ``stsgas.token_sms_sweep``: periodic (``STSGAS_TOKEN_SMS_SWEEP_CRON``, every five
  minutes): sends the token SMS that sales of the last ``STSGAS_TOKEN_SMS_SWEEP_HOURS``
  never put in the outbox; retried when the database could not be read;
* ``stsgas.sms_reply``: deferred when the gateway refused a reply; retried
  while the gateway refuses it.

A failing job waits ``STSGAS_JOB_RETRY_WAIT_SECONDS`` × the number of runs so
far before its next run, and is left ``failed`` after ``STSGAS_JOB_MAX_ATTEMPTS``
runs (:func:`failed_jobs` lists them).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import httpx
import procrastinate
import psycopg
from procrastinate.exceptions import AlreadyEnqueued
from procrastinate.schema import SchemaManager
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from stsgas.vending.db import make_engine, make_sessionmaker
from stsgas.vending.jobs import work
from stsgas.vending.jobs.retrying import RetryingGateway
from stsgas.vending.settings import Settings
from stsgas.vending.sms.gateway import HttpSmsGateway, MemorySmsGateway, SmsGateway
from stsgas.vending.sms.settings import SmsSettings

__all__ = [
    "INTEGRITY_CHECK",
    "KEY_WARNINGS",
    "SMS_REPLY",
    "TOKEN_SMS_SWEEP",
    "FailedJob",
    "build",
    "conninfo",
    "ensure_schema",
    "failed_jobs",
]

INTEGRITY_CHECK: Final = "stsgas.integrity_check"
KEY_WARNINGS: Final = "stsgas.key_warnings"
SMS_REPLY: Final = "stsgas.sms_reply"
TOKEN_SMS_SWEEP: Final = "stsgas.token_sms_sweep"
_SCHEMA_LOCK: Final = 0x5754_5347  # "STSG": one process applies the schema at a time

log = logging.getLogger("stsgas.vending.jobs")


@dataclass(frozen=True, slots=True, kw_only=True)
class FailedJob:
    """A job given up after its last retry, for the failed-jobs view."""

    id: int
    task: str
    args: dict[str, Any]
    attempts: int
    scheduled_at: datetime | None


def conninfo(database_url: str) -> str:
    """The libpq connection string of a SQLAlchemy PostgreSQL URL."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


def schema_exists(database_url: str) -> bool:
    """Whether the database holds the queue's tables."""
    with psycopg.connect(conninfo(database_url), autocommit=True) as conn:
        row = conn.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()
        return row is not None and row[0] is not None


def ensure_schema(database_url: str) -> bool:
    """Apply procrastinate's schema when the database has none; True when applied."""
    with psycopg.connect(conninfo(database_url), autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_SCHEMA_LOCK,))
        try:
            row = conn.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()
            if row is not None and row[0] is not None:
                return False
            conn.execute(SchemaManager.get_schema())
            log.info("job queue schema applied")
            return True
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_SCHEMA_LOCK,))


class _Context:
    """What the tasks of a worker process work with, made on first use."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._sm: sessionmaker[Session] | None = None
        self._gateway: SmsGateway | None = None

    @property
    def sessionmaker(self) -> sessionmaker[Session]:
        if self._sm is None:
            self._sm = make_sessionmaker(make_engine(self.settings.database_url, pool_size=2))
        return self._sm

    @property
    def gateway(self) -> SmsGateway:
        if self._gateway is None:
            cfg = SmsSettings()
            if cfg.gateway_url:
                token = cfg.gateway_token.get_secret_value() if cfg.gateway_token else None
                self._gateway = HttpSmsGateway(
                    httpx.Client(timeout=10.0), cfg.gateway_url, token=token
                )
            else:
                self._gateway = MemorySmsGateway()
        return self._gateway


def _retry(settings: Settings, *transient: type[Exception]) -> procrastinate.RetryStrategy:
    # procrastinate counts retries, not runs: max_attempts - 1 retries after the first run
    return procrastinate.RetryStrategy(
        max_attempts=settings.job_max_attempts - 1,
        wait=settings.job_retry_wait_seconds,
        linear_wait=settings.job_retry_wait_seconds,
        retry_exceptions={OperationalError, DBAPIError, *transient},
    )


def build(settings: Settings, *, sync: bool = False) -> procrastinate.App:
    """The procrastinate app with the stsgas tasks: ``sync`` for a process that only
    defers and lists jobs (the server), else async (the worker)."""
    connector: procrastinate.BaseConnector
    if sync:
        connector = procrastinate.SyncPsycopgConnector(conninfo=conninfo(settings.database_url))
    else:
        connector = procrastinate.PsycopgConnector(conninfo=conninfo(settings.database_url))
    app = procrastinate.App(connector=connector)
    ctx = _Context(settings)

    @app.periodic(cron=settings.integrity_check_cron, periodic_id="daily")
    @app.task(name=INTEGRITY_CHECK, retry=_retry(settings), pass_context=False)
    def integrity_check(timestamp: int) -> None:
        work.integrity_check(ctx.sessionmaker)

    @app.periodic(cron=settings.key_warnings_cron, periodic_id="daily")
    @app.task(name=KEY_WARNINGS, retry=_retry(settings), pass_context=False)
    def key_warnings(timestamp: int) -> None:
        work.key_expiry_warnings(
            ctx.sessionmaker,
            now=datetime.fromtimestamp(timestamp, UTC),
            window=timedelta(days=settings.key_warning_days),
        )

    @app.periodic(cron=settings.token_sms_sweep_cron, periodic_id="sweep")
    @app.task(name=TOKEN_SMS_SWEEP, retry=_retry(settings), pass_context=False)
    def token_sms_sweep(timestamp: int) -> None:
        work.sweep_token_sms(
            ctx.sessionmaker,
            RetryingGateway(ctx.gateway, _Deferrer(app)),  # a refusal queues its resend
            now=datetime.fromtimestamp(timestamp, UTC),
            window=timedelta(hours=settings.token_sms_sweep_hours),
        )

    @app.task(name=SMS_REPLY, retry=_retry(settings, work.SmsNotSent), pass_context=False)
    def sms_reply(to: str, reference: str) -> None:
        work.resend_sms_reply(ctx.sessionmaker, ctx.gateway, to=to, reference=reference)

    return app


def defer_sms_reply(app: procrastinate.App, *, to: str, reference: str) -> None:
    """Queue a resend of the stored reply (once: a resend already waiting is enough)."""
    try:
        app.configure_task(SMS_REPLY, queueing_lock=f"sms:{reference}"[:100]).defer(
            to=to, reference=reference
        )
    except AlreadyEnqueued:
        return
    log.info("SMS reply queued for a retry", extra={"job": "sms_reply", "reference": reference})


class _Deferrer:
    """Queues resends into ``app`` (what :class:`RetryingGateway` needs of a runner)."""

    def __init__(self, app: procrastinate.App) -> None:
        self._app = app

    def defer_sms_reply(self, *, to: str, reference: str) -> None:
        defer_sms_reply(self._app, to=to, reference=reference)


def failed_jobs(app: procrastinate.App) -> list[FailedJob]:
    """Jobs left failed after their last retry, newest first."""
    jobs = app.job_manager.list_jobs(status="failed")
    out = [
        FailedJob(
            id=int(j.id or 0),
            task=j.task_name,
            args=dict(j.task_kwargs),
            attempts=j.attempts,
            scheduled_at=j.scheduled_at,
        )
        for j in jobs
    ]
    return sorted(out, key=lambda f: f.id, reverse=True)
