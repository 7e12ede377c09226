"""The token SMS sweep (issue 14) on SQLite and PostgreSQL.

A sale committed while no sender listened (its server died between the commit and
the outbox record) is sent by the periodic sweep, hours later, once: however often
the sweep runs, and when two workers sweep at the same moment. An opted-out customer
gets nothing; a mobile-money sale (whose own SMS carried the token) no second SMS.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine, update

from stsgas.sts import group_digits
from stsgas.vending import db, transaction
from stsgas.vending.db import make_sessionmaker
from stsgas.vending.delivery import service as delivery
from stsgas.vending.delivery.service import reference_of
from stsgas.vending.jobs import queue, work
from stsgas.vending.jobs.local import LocalJobs
from stsgas.vending.keys.security import SoftwareSecurityModule
from stsgas.vending.models import Operator, PaidFrom, Sale
from stsgas.vending.sales import service
from stsgas.vending.sales.receipts import Receipt
from stsgas.vending.settings import Settings
from stsgas.vending.sms import repository as sms_repo
from stsgas.vending.sms.gateway import MemorySmsGateway, OutboundSms, SmsGateway, SmsGatewayError
from tests.vending.conftest import TEST_KEYS
from tests.vending.delivery.conftest import opt_in
from tests.vending.jobs.conftest import GatewayDouble
from tests.vending.sales.conftest import Shop

PHONE = "+255700000001"  # the shop's volume-meter customer
SCOPE = "sms:255700000001"
DAY = timedelta(hours=24)


class RefusingGateway(SmsGateway):
    """A gateway that refuses every message."""

    def send(self, message: OutboundSms) -> None:
        raise SmsGatewayError("gateway answered 503")


def _crashed_sale(
    engine: Engine,
    shop: Shop,
    security: SoftwareSecurityModule,
    key: str,
    *,
    age: timedelta = timedelta(0),
    paid_from: str = PaidFrom.FLOAT.value,
    channel: str = "pos",
) -> dict[str, Any]:
    """A sale committed with no delivery hook listening (its server died right after
    the commit), made ``age`` ago; its receipt."""
    unheard = make_sessionmaker(engine)
    with unheard() as s:
        seller = s.get(Operator, shop.cashier_id)
        assert seller is not None
        req = service.SaleRequest(
            meter_number=shop.volume_pan,
            paid=2_000,
            channel=channel,
            idempotency_key=key,
            paid_from=paid_from,
        )
        receipt: dict[str, Any] = transaction.run(
            s, lambda: service.sell(s, req, operator=seller, security=security)
        ).body
    if age:
        with unheard.begin() as s:
            s.execute(
                update(Sale)
                .where(Sale.id == receipt["sale_id"])
                .values(created_at=datetime.now(UTC) - age)
            )
    return receipt


def _outbox(engine: Engine, sale_id: int) -> dict[str, Any] | None:
    with make_sessionmaker(engine)() as s:
        rec = sms_repo.get_record(s, SCOPE, reference_of(sale_id))
        return None if rec is None else rec.response_body


def _credit(receipt: dict[str, Any]) -> str:
    return str(next(t["digits"] for t in receipt["tokens"] if t["kind"] == "credit"))


def test_a_token_sms_lost_to_a_crash_hours_ago_is_sent_once(
    shop: Shop, engine: Engine, security_module: SoftwareSecurityModule
) -> None:
    """Five hours after the crash (past a restarting server's one-hour catch-up) the
    sweep sends the lost SMS with the sale's token; a second run sends nothing; a sale
    older than the sweep's window is left alone."""
    opt_in(engine, shop.volume_pan)
    lost = _crashed_sale(engine, shop, security_module, "lost-1", age=timedelta(hours=5))
    old = _crashed_sale(engine, shop, security_module, "old-1", age=timedelta(hours=25))
    assert _outbox(engine, lost["sale_id"]) is None
    sm = make_sessionmaker(engine)
    memory = MemorySmsGateway()
    now = datetime.now(UTC)
    assert work.sweep_token_sms(sm, memory, now=now, window=DAY) == {"sent": 1}
    [sms] = memory.sent
    assert (sms.to, sms.reference) == (PHONE, reference_of(lost["sale_id"]))
    assert group_digits(_credit(lost)) in sms.text
    assert sms.text.endswith(f"Receipt {lost['sale_id']}.")
    assert (_outbox(engine, lost["sale_id"]) or {})["sent"] is True
    assert work.sweep_token_sms(sm, memory, now=now, window=DAY) == {}
    assert len(memory.sent) == 1
    assert _outbox(engine, old["sale_id"]) is None


def test_two_sweeps_at_the_same_moment_send_once(
    shop: Shop,
    engine: Engine,
    security_module: SoftwareSecurityModule,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two workers sweep at once (threads, each its own connections): both find the
    lost sale before either writes the outbox; the outbox key lets one send through."""
    opt_in(engine, shop.volume_pan)
    lost = _crashed_sale(engine, shop, security_module, "race-1", age=timedelta(hours=2))
    both_found = threading.Barrier(2, timeout=30)
    real_missed = delivery.missed

    def missed_then_wait(*args: Any, **kwargs: Any) -> list[Receipt]:
        found = real_missed(*args, **kwargs)
        both_found.wait()  # neither delivers until both have found the sale
        return found

    monkeypatch.setattr(work, "missed", missed_then_wait)
    memory = MemorySmsGateway()
    now = datetime.now(UTC)

    def sweep(_: int) -> dict[str, int]:
        return work.sweep_token_sms(make_sessionmaker(engine), memory, now=now, window=DAY)

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = list(pool.map(sweep, range(2)))
    assert sorted(outcomes, key=str) == [{"already": 1}, {"sent": 1}]
    assert [m.reference for m in memory.sent] == [reference_of(lost["sale_id"])]


def test_a_customer_who_did_not_opt_in_gets_nothing(
    shop: Shop, engine: Engine, security_module: SoftwareSecurityModule
) -> None:
    opt_in(engine, shop.volume_pan, on=False)
    sold = _crashed_sale(engine, shop, security_module, "out-1", age=timedelta(hours=3))
    memory = MemorySmsGateway()
    sm = make_sessionmaker(engine)
    assert work.sweep_token_sms(sm, memory, now=datetime.now(UTC), window=DAY) == {}
    assert memory.sent == []
    assert _outbox(engine, sold["sale_id"]) is None


def test_a_mobile_money_sale_gets_no_second_sms(
    shop: Shop, engine: Engine, security_module: SoftwareSecurityModule
) -> None:
    """The payment's confirmation SMS carried the token: the sweep sends no other."""
    opt_in(engine, shop.volume_pan)
    sold = _crashed_sale(
        engine,
        shop,
        security_module,
        "mpesa-TX9",
        age=timedelta(hours=3),
        paid_from=PaidFrom.MOBILE.value,
        channel="api",
    )
    memory = MemorySmsGateway()
    sm = make_sessionmaker(engine)
    assert work.sweep_token_sms(sm, memory, now=datetime.now(UTC), window=DAY) == {}
    assert memory.sent == []
    assert _outbox(engine, sold["sale_id"]) is None


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_the_server_runs_the_sweep_every_few_minutes_and_resends_a_refusal(
    shop: Shop, engine: Engine, security_module: SoftwareSecurityModule, db_url: str
) -> None:
    """SQLite: the server's job thread runs the sweep on its schedule (every five
    minutes by default); a refused SMS waits unsent and the resend job it queued
    sends it at the next round, once."""
    assert Settings(database_url=db_url).token_sms_sweep_cron == "*/5 * * * *"
    opt_in(engine, shop.volume_pan)
    lost = _crashed_sale(engine, shop, security_module, "tick-1", age=timedelta(hours=3))
    memory = MemorySmsGateway()
    gateways: list[SmsGateway] = [RefusingGateway()]
    settings = Settings(database_url=db_url, master_key=SecretStr(TEST_KEYS["master_key"]))
    runner = LocalJobs(settings, make_sessionmaker(engine), lambda: gateways[0])
    start = datetime.now(UTC)
    runner.schedule(start)
    assert runner.tick(start) == 0  # nothing due yet
    later = start + timedelta(minutes=6)  # the daily jobs are hours away
    assert runner.tick(later) == 1  # the sweep: refused, kept, resend queued
    assert (_outbox(engine, lost["sale_id"]) or {})["sent"] is False
    gateways[0] = memory
    assert runner.tick(later + timedelta(seconds=1)) == 1  # the resend job
    assert [m.reference for m in memory.sent] == [reference_of(lost["sale_id"])]
    assert (_outbox(engine, lost["sale_id"]) or {})["sent"] is True
    assert runner.tick(later + timedelta(minutes=5)) == 1  # the next sweep: nothing left
    assert len(memory.sent) == 1
    assert runner.failed() == []


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_the_job_queue_has_the_periodic_sweep(
    shop: Shop,
    engine: Engine,
    security_module: SoftwareSecurityModule,
    db_url: str,
    gateway: GatewayDouble,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """PostgreSQL: ``stsgas worker``'s app schedules the sweep with its cron; its task
    sends the lost SMS through the configured HTTP gateway, once."""
    monkeypatch.setenv("STSGAS_SMS_GATEWAY_URL", gateway.url)
    made: list[Engine] = []  # the worker's own engine, disposed when the test ends

    def make_engine(*args: Any, **kwargs: Any) -> Engine:
        made.append(real_make_engine(*args, **kwargs))
        return made[-1]

    real_make_engine = db.make_engine
    monkeypatch.setattr(queue, "make_engine", make_engine)
    opt_in(engine, shop.volume_pan)
    lost = _crashed_sale(engine, shop, security_module, "queue-1", age=timedelta(hours=3))
    settings = Settings(database_url=db_url, token_sms_sweep_cron="*/7 * * * *")
    app = queue.build(settings, sync=True)
    periodic = app.periodic_registry.periodic_tasks[(queue.TOKEN_SMS_SWEEP, "sweep")]
    assert periodic.cron == "*/7 * * * *"
    task: Callable[..., None] = app.tasks[queue.TOKEN_SMS_SWEEP]
    stamp = int(datetime.now(UTC).timestamp())
    try:
        task(timestamp=stamp)
        task(timestamp=stamp + 420)
    finally:
        for made_engine in made:
            made_engine.dispose()
    assert len(made) == 1
    assert [m["reference"] for m in gateway.received] == [reference_of(lost["sale_id"])]
    assert (_outbox(engine, lost["sale_id"]) or {})["sent"] is True
