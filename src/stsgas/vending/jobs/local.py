"""The SQLite runner: the same jobs in a thread of the server, retries and failures in memory.

SQLite has no job queue to share between processes, so the server runs the
jobs itself: the periodic ones (integrity check, key warnings, token SMS
sweep) at their cron times, a failed SMS reply as soon
as it is deferred, and a failing job again after ``STSGAS_JOB_RETRY_WAIT_SECONDS``
× its runs so far, up to ``STSGAS_JOB_MAX_ATTEMPTS`` runs; then it is kept in
the failed list (lost when the server stops: it is also logged as an error).
:meth:`LocalJobs.tick` does one round and takes its time as an argument, so it
is tested without waiting; the thread calls it every ``poll_seconds``.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from croniter import croniter  # type: ignore[import-untyped]
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from stsgas.vending.jobs import work
from stsgas.vending.jobs.queue import (
    INTEGRITY_CHECK,
    KEY_WARNINGS,
    SMS_REPLY,
    TOKEN_SMS_SWEEP,
    FailedJob,
)
from stsgas.vending.jobs.retrying import RetryingGateway
from stsgas.vending.settings import Settings
from stsgas.vending.sms.gateway import SmsGateway

__all__ = ["LocalJobs"]

log = logging.getLogger("stsgas.vending.jobs")


@dataclass(slots=True, kw_only=True)
class _Job:
    id: int
    task: str
    args: dict[str, Any]
    due: datetime
    attempts: int = 0


@dataclass(slots=True, kw_only=True)
class _Periodic:
    task: str
    cron: str
    due: datetime


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, work.JobFailed):
        return exc.retryable
    return isinstance(exc, OperationalError | DBAPIError)


@dataclass(slots=True)
class LocalJobs:
    """Periodic and deferred jobs run by the server itself (SQLite)."""

    settings: Settings
    sessionmaker: sessionmaker[Session]
    gateway: Callable[[], SmsGateway]
    poll_seconds: float = 30.0
    _pending: list[_Job] = field(default_factory=list)
    _failed: list[FailedJob] = field(default_factory=list)
    _periodic: list[_Periodic] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def schedule(self, now: datetime) -> None:
        """Set each periodic job's next run after ``now`` (done by :meth:`start`)."""
        self._periodic = [
            _Periodic(task=task, cron=cron, due=_next(cron, now))
            for task, cron in (
                (INTEGRITY_CHECK, self.settings.integrity_check_cron),
                (KEY_WARNINGS, self.settings.key_warnings_cron),
                (TOKEN_SMS_SWEEP, self.settings.token_sms_sweep_cron),
            )
        ]

    def defer_sms_reply(self, *, to: str, reference: str, now: datetime | None = None) -> None:
        """Queue a resend of the stored reply to message ``reference`` (once)."""
        with self._lock:
            if any(j.task == SMS_REPLY and j.args["reference"] == reference for j in self._pending):
                return
            self._pending.append(
                _Job(
                    id=next(self._ids),
                    task=SMS_REPLY,
                    args={"to": to, "reference": reference},
                    due=now or datetime.now(UTC),
                )
            )

    def failed(self) -> list[FailedJob]:
        """Jobs given up after their last run, newest first."""
        with self._lock:
            return sorted(self._failed, key=lambda f: f.id, reverse=True)

    def tick(self, now: datetime) -> int:
        """Run every job due at ``now``; the number run."""
        for p in self._periodic:
            if p.due <= now:
                p.due = _next(p.cron, now)
                with self._lock:
                    self._pending.append(
                        _Job(id=next(self._ids), task=p.task, args={"at": now}, due=now)
                    )
        with self._lock:
            due = [j for j in self._pending if j.due <= now]
            self._pending = [j for j in self._pending if j.due > now]
        for job in due:
            self._run(job, now)
        return len(due)

    def _call(self, job: _Job) -> None:
        if job.task == INTEGRITY_CHECK:
            work.integrity_check(self.sessionmaker)
        elif job.task == KEY_WARNINGS:
            window = timedelta(days=self.settings.key_warning_days)
            work.key_expiry_warnings(self.sessionmaker, now=job.args["at"], window=window)
        elif job.task == TOKEN_SMS_SWEEP:
            work.sweep_token_sms(
                self.sessionmaker,
                RetryingGateway(self.gateway(), self),  # a refusal queues its resend
                now=job.args["at"],
                window=timedelta(hours=self.settings.token_sms_sweep_hours),
            )
        else:
            work.resend_sms_reply(self.sessionmaker, self.gateway(), **job.args)

    def _run(self, job: _Job, now: datetime) -> None:
        job.attempts += 1
        try:
            self._call(job)
        except Exception as exc:
            last = job.attempts >= self.settings.job_max_attempts or not _retryable(exc)
            log.log(
                logging.ERROR if last else logging.WARNING,
                f"job {job.task} failed: {exc}",
                extra={"job_id": job.id, "task": job.task, "attempts": job.attempts},
            )
            with self._lock:
                if last:
                    self._failed.append(
                        FailedJob(
                            id=job.id,
                            task=job.task,
                            args={k: str(v) for k, v in job.args.items()},
                            attempts=job.attempts,
                            scheduled_at=job.due,
                        )
                    )
                else:
                    wait = self.settings.job_retry_wait_seconds * job.attempts
                    job.due = now + timedelta(seconds=wait)
                    self._pending.append(job)

    def start(self) -> None:
        """Start the thread that runs :meth:`tick` every ``poll_seconds``."""
        self.schedule(datetime.now(UTC))
        log.debug(
            "in-process job runner started",
            extra={"next_runs": {p.task: p.due.isoformat() for p in self._periodic}},
        )
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="stsgas-jobs", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread (a job running finishes first)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            try:
                self.tick(datetime.now(UTC))
            except Exception:  # the thread must outlive any one bad round
                log.exception("job round failed")


def _next(cron: str, after: datetime) -> datetime:
    found: datetime = croniter(cron, after).get_next(datetime)
    return found
