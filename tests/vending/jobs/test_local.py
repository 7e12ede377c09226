"""The SQLite runner in the server: periodic jobs at their cron times, a refused SMS reply
deferred by the gateway hook and resent, retries after the configured wait, and the failed
list after the last run; rounds driven with an explicit time (no waiting)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from stsgas.vending.app import create_app
from stsgas.vending.db import make_engine, make_sessionmaker
from stsgas.vending.jobs.local import LocalJobs
from stsgas.vending.jobs.queue import INTEGRITY_CHECK, KEY_WARNINGS, SMS_REPLY, TOKEN_SMS_SWEEP
from stsgas.vending.jobs.wiring import RetryingGateway
from stsgas.vending.settings import Settings
from stsgas.vending.sms.gateway import MemorySmsGateway, SmsGateway
from tests.vending.conftest import TEST_KEYS
from tests.vending.jobs.conftest import GatewayDouble, reply_sent, store_unsent_reply
from tests.vending.jobs.test_work import RefusingGateway

PHONE = "+255700000005"
T0 = datetime(2026, 6, 1, 0, 0, tzinfo=UTC)


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    """A migrated SQLite file of this test."""
    path = tmp_path / "stsgas.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def sm(sqlite_url: str) -> Iterator[sessionmaker[Session]]:
    """A sessionmaker on it."""
    engine = make_engine(sqlite_url, pool_size=2)
    yield make_sessionmaker(engine)
    engine.dispose()


def _runner(sm: sessionmaker[Session], url: str, gateway: list[SmsGateway]) -> LocalJobs:
    settings = Settings(
        database_url=url,
        integrity_check_cron="0 3 * * *",
        key_warnings_cron="30 3 * * *",
        token_sms_sweep_cron="0 5 1 1 *",  # not due in these tests (test_sweep.py has it)
        job_max_attempts=3,
        job_retry_wait_seconds=60,
    )
    return LocalJobs(settings, sm, lambda: gateway[0])


def test_periodic_jobs_run_at_their_cron_times(sm: sessionmaker[Session], sqlite_url: str) -> None:
    """Nothing runs before 03:00; the integrity check at 03:00, the key warnings at 03:30,
    each once a day."""
    runner = _runner(sm, sqlite_url, [MemorySmsGateway()])
    runner.schedule(T0)
    assert runner.tick(T0 + timedelta(hours=2, minutes=59)) == 0
    assert runner.tick(T0 + timedelta(hours=3)) == 1
    assert runner.tick(T0 + timedelta(hours=3, minutes=1)) == 0
    assert runner.tick(T0 + timedelta(hours=3, minutes=30)) == 1
    assert runner.tick(T0 + timedelta(hours=23)) == 0
    assert runner.tick(T0 + timedelta(days=1, hours=3, minutes=30)) == 2
    assert runner.failed() == []
    assert {p.task for p in runner._periodic} == {INTEGRITY_CHECK, KEY_WARNINGS, TOKEN_SMS_SWEEP}


def test_refused_reply_is_retried_after_the_wait_then_failed(
    sm: sessionmaker[Session], sqlite_url: str
) -> None:
    """Each refused run waits 60 s × runs so far; after the third run the job is failed
    and listed, with its arguments; the reply stays stored unsent."""
    gateway: list[SmsGateway] = [RefusingGateway()]
    runner = _runner(sm, sqlite_url, gateway)
    store_unsent_reply(sm, phone=PHONE, reference="l-1")
    runner.defer_sms_reply(to=PHONE, reference="l-1", now=T0)
    runner.defer_sms_reply(to=PHONE, reference="l-1", now=T0)  # once only
    assert runner.tick(T0) == 1  # run 1 refused: again at +60 s
    assert runner.tick(T0 + timedelta(seconds=59)) == 0
    assert runner.tick(T0 + timedelta(seconds=60)) == 1  # run 2 refused: again at +120 s more
    assert runner.tick(T0 + timedelta(seconds=179)) == 0
    assert runner.tick(T0 + timedelta(seconds=180)) == 1  # run 3: the last
    (failed,) = runner.failed()
    assert (failed.task, failed.attempts) == (SMS_REPLY, 3)
    assert failed.args == {"to": PHONE, "reference": "l-1"}
    assert runner.tick(T0 + timedelta(days=1)) == 0
    assert not reply_sent(sm, phone=PHONE, reference="l-1")


def test_refused_webhook_reply_is_resent_by_the_server(
    sqlite_url: str,
    sm: sessionmaker[Session],
    gateway: GatewayDouble,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Through the real webhook and a real HTTP gateway: the gateway refuses the reply
    (503), the server defers a resend, and its next round sends it (200)."""
    monkeypatch.setenv("STSGAS_SMS_INBOUND_TOKEN", "gw-secret")
    monkeypatch.setenv("STSGAS_SMS_GATEWAY_URL", gateway.url)
    gateway.answers = [503, 200]
    settings = Settings(database_url=sqlite_url, master_key=SecretStr(TEST_KEYS["master_key"]))
    app = create_app(settings)
    assert isinstance(app.state.sms_gateway, RetryingGateway)
    runner = app.state.jobs
    assert isinstance(runner, LocalJobs)
    with TestClient(app) as client:
        r = client.post(
            "/api/v1/sms/inbound",
            json={"from": PHONE, "text": "HELP", "message_id": "w-1"},
            headers={"X-Gateway-Token": "gw-secret"},
        )
        assert r.status_code == 200, r.text
        assert len(gateway.received) == 1  # refused
        assert not reply_sent(sm, phone=PHONE, reference="w-1")
        assert runner.tick(datetime.now(UTC)) == 1
    assert [m["reference"] for m in gateway.received] == ["w-1", "w-1"]
    assert gateway.received[0]["text"] == gateway.received[1]["text"]
    assert reply_sent(sm, phone=PHONE, reference="w-1")
    assert runner.failed() == []
