"""The PostgreSQL job queue with a real worker process: a deferred SMS reply is sent by
``stsgas worker``, retried after the gateway refused it, and shown as failed (CLI and API)
after its last run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from stsgas.vending.app import create_app
from stsgas.vending.jobs import queue
from stsgas.vending.models import AuditEntry, Role
from stsgas.vending.operators import service as operators
from stsgas.vending.settings import Settings
from tests.processes import running, stop
from tests.vending.conftest import PASSWORD, TEST_KEYS
from tests.vending.jobs.conftest import GatewayDouble, reply_sent, store_unsent_reply

pytestmark = pytest.mark.postgres

STSGAS = str(Path(sys.executable).with_name("stsgas"))
PHONE = "+255700000001"


def _env(url: str, gateway: GatewayDouble) -> dict[str, str]:
    return {
        **os.environ,
        "STSGAS_DATABASE_URL": url,
        "STSGAS_SMS_GATEWAY_URL": gateway.url,
        "STSGAS_JOB_MAX_ATTEMPTS": "3",
        "STSGAS_JOB_RETRY_WAIT_SECONDS": "0",  # a retry is due at once: no waiting in tests
    }


def _worker(url: str, gateway: GatewayDouble, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [STSGAS, "worker", *args],
        env=_env(url, gateway),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _defer(url: str, reference: str) -> None:
    app = queue.build(Settings(database_url=url), sync=True)
    queue.ensure_schema(url)
    with app.open():
        queue.defer_sms_reply(app, to=PHONE, reference=reference)
        queue.defer_sms_reply(app, to=PHONE, reference=reference)  # queued once only


def _jobs(url: str, status: str) -> list[queue.FailedJob]:
    app = queue.build(Settings(database_url=url), sync=True)
    with app.open():
        return [
            queue.FailedJob(
                id=int(j.id or 0),
                task=j.task_name,
                args=dict(j.task_kwargs),
                attempts=j.attempts,
                scheduled_at=j.scheduled_at,
            )
            for j in app.job_manager.list_jobs(status=status)
        ]


def test_refused_reply_is_retried_by_the_worker_and_sent(
    jobs_pg_url: str, jobs_pg_sm: sessionmaker[Session], gateway: GatewayDouble
) -> None:
    """The gateway refuses the first resend (503) and accepts the second: the worker
    retries, the customer gets the reply once, and the record says sent."""
    store_unsent_reply(jobs_pg_sm, phone=PHONE, reference="m-1")
    _defer(jobs_pg_url, "m-1")
    gateway.answers = [503, 200]
    done = _worker(jobs_pg_url, gateway, "--until-idle")
    assert done.returncode == 0, done.stderr
    assert [m["reference"] for m in gateway.received] == ["m-1", "m-1"]
    assert gateway.received[-1] == {"to": PHONE, "text": "reply to m-1", "reference": "m-1"}
    assert reply_sent(jobs_pg_sm, phone=PHONE, reference="m-1")
    # a job done is deleted from the queue; nothing is left waiting or failed
    for status in ("todo", "doing", "succeeded", "failed"):
        assert _jobs(jobs_pg_url, status) == []
    # the worker logs JSON lines; a retried job is among them
    lines = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    assert any(line.get("logger", "").startswith("procrastinate") for line in lines)


def test_reply_refused_on_every_run_is_shown_failed(
    jobs_pg_url: str, jobs_pg_sm: sessionmaker[Session], gateway: GatewayDouble
) -> None:
    """A gateway that refuses every time: three runs (STSGAS_JOB_MAX_ATTEMPTS), then the job
    is failed, listed by ``stsgas worker failed`` (exit 1) and by the API for an admin."""
    store_unsent_reply(jobs_pg_sm, phone=PHONE, reference="m-2")
    _defer(jobs_pg_url, "m-2")
    gateway.answers = [500]
    done = _worker(jobs_pg_url, gateway, "--until-idle")
    assert done.returncode == 0, done.stderr
    assert len(gateway.received) == 3
    assert not reply_sent(jobs_pg_sm, phone=PHONE, reference="m-2")

    listed = _worker(jobs_pg_url, gateway, "failed", "--json")
    assert listed.returncode == 1, listed.stderr
    (row,) = json.loads(listed.stdout)["failed"]
    assert row["task"] == queue.SMS_REPLY
    assert row["args"] == {"to": PHONE, "reference": "m-2"}
    text = _worker(jobs_pg_url, gateway, "failed")
    assert text.returncode == 1
    assert f"{row['id']}\tstsgas.sms_reply\t" in text.stdout

    settings = Settings(database_url=jobs_pg_url, master_key=SecretStr(TEST_KEYS["master_key"]))
    with jobs_pg_sm.begin() as s:
        admin = operators.create_operator(
            s, actor=None, username="ops-admin", role=Role.ADMIN, password=PASSWORD
        )
        token = operators.issue_token(s, admin, ttl=None, name="test").secret
    with TestClient(create_app(settings)) as client:
        r = client.get("/api/v1/jobs/failed", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200, r.text
        assert [j["id"] for j in r.json()["jobs"]] == [row["id"]]
        assert client.get("/api/v1/jobs/failed").status_code == 401


def _defer_check(url: str) -> None:
    app = queue.build(Settings(database_url=url), sync=True)
    queue.ensure_schema(url)
    with app.open():
        app.configure_task(queue.INTEGRITY_CHECK).defer(timestamp=1_780_000_000)


def test_integrity_job_passes_then_fails_at_once_on_tampering(
    jobs_pg_url: str, jobs_pg_sm: sessionmaker[Session], gateway: GatewayDouble
) -> None:
    """The integrity check run by the worker passes on a sound database; on one with an
    edited audit entry it fails on its first run (no retry mends data), logs an error
    line naming the audit chain, and is listed as failed."""
    with jobs_pg_sm.begin() as s:
        operators.create_operator(
            s, actor=None, username="audited", role=Role.ADMIN, password=PASSWORD
        )
    _defer_check(jobs_pg_url)
    done = _worker(jobs_pg_url, gateway, "--until-idle")
    assert done.returncode == 0, done.stderr
    assert _jobs(jobs_pg_url, "failed") == []
    with jobs_pg_sm.begin() as s:
        s.execute(update(AuditEntry).where(AuditEntry.seq == 1).values(action="tampered"))
    _defer_check(jobs_pg_url)
    done = _worker(jobs_pg_url, gateway, "--until-idle")
    assert done.returncode == 0, done.stderr
    (failed,) = _jobs(jobs_pg_url, "failed")
    assert (failed.task, failed.attempts) == (queue.INTEGRITY_CHECK, 1)
    lines = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    (alarm,) = [line for line in lines if line["event"] == "integrity check failed"]
    assert alarm["level"] == "error"
    assert alarm["broken"] == ["audit_chain"]


def test_worker_runs_until_sigterm_and_stops_cleanly(
    jobs_pg_url: str, gateway: GatewayDouble, tmp_path: Path
) -> None:
    """``stsgas worker`` as the systemd unit runs it: it waits for jobs until SIGTERM, then
    stops with status 0 (systemd counts anything else as a failure)."""
    log = tmp_path / "worker.log"
    with (
        open(log, "w") as err,
        running([STSGAS, "worker"], env=_env(jobs_pg_url, gateway), stderr=err) as proc,
    ):
        for _ in range(600):
            if "start_worker" in log.read_text() or proc.poll() is not None:
                break
            time.sleep(0.1)
        assert proc.poll() is None, log.read_text()
        stop(proc)
    assert proc.returncode == 0, log.read_text()
    events = [json.loads(line)["event"] for line in log.read_text().splitlines()]
    assert "Stopped worker on all queues" in events
