"""The event-loop sale path on PostgreSQL (``sales.fast``) answers as the route does.

Every case of ``tests/data/vending/fast-sales.json`` runs twice, with the fast
path on and off, and must give the same documented answer; with it on, the
case must also take the documented path (so a fast path that quietly hands
everything to the route fails here). Refusals write nothing either way.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text, update

from stsgas.sts import CreditToken, CurrencyCreditToken, decode
from stsgas.vending.app import create_app
from stsgas.vending.db import make_sessionmaker
from stsgas.vending.keys.security import SoftwareSecurityModule
from stsgas.vending.models import (
    FixedChargePeriod,
    Meter,
    Role,
    Sale,
    TariffVersion,
    Token,
    Vendor,
)
from stsgas.vending.sales.compose import month_start
from stsgas.vending.sales.fast import SalePool
from stsgas.vending.settings import Settings
from tests.vending import factories
from tests.vending.conftest import DATA, auth, client_with
from tests.vending.locks import lock_waiters
from tests.vending.sales.conftest import Shop, counts, meter_config
from tests.vending.sales.test_fixed_charge import sell_at, set_period

CASES: list[dict[str, Any]] = json.loads((DATA / "fast-sales.json").read_text())["cases"]


@pytest.fixture(params=[pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    """Only PostgreSQL has the event-loop path."""
    return str(request.param)


def _stats(client: TestClient) -> Counter[str]:
    pool: SalePool | None = client.app.state.sale_pool  # type: ignore[attr-defined]
    return Counter() if pool is None else Counter(pool.stats)


def _pan(shop: Shop, engine: Engine, which: str) -> str:
    if which == "volume-drn":
        with make_sessionmaker(engine)() as s:
            return s.execute(select(Meter.drn).where(Meter.pan == shop.volume_pan)).scalar_one()
    return {"volume": shop.volume_pan, "amount": shop.amount_pan, "blocked": shop.blocked_pan}.get(
        which, which
    )


def _prepare(
    step: str,
    case: dict[str, Any],
    shop: Shop,
    engine: Engine,
    security: SoftwareSecurityModule,
    client: TestClient,
) -> None:
    pan = _pan(shop, engine, case["meter"])
    if step in ("same", "other_amount", "sale"):
        body = {"meter_number": pan, **case["body"]}
        headers = auth(shop.cashier_token)
        if step == "other_amount":
            body["amount"] = "10.00"
        if step != "sale":
            headers["Idempotency-Key"] = case["key"]
        assert client.post("/api/v1/sales", json=body, headers=headers).status_code == 201
    elif step == "drain_float":
        with make_sessionmaker(engine).begin() as s:
            vendor = s.get(Vendor, shop.vendor_id)
            assert vendor is not None
            vendor.float_balance = 500
    elif step == "pending_key_change":
        with make_sessionmaker(engine).begin() as s:
            new_sg = factories.supply_group(s, security, krn=2)
            m = s.execute(select(Meter).where(Meter.pan == pan)).scalar_one()
            m.pending_supply_group_id = new_sg.id
    elif step == "pending_base_date_backwards":
        with make_sessionmaker(engine).begin() as s:
            m = s.execute(select(Meter).where(Meter.pan == pan)).scalar_one()
            m.pending_base_date = 1993
    elif step == "cancel":
        r = client.get(
            "/api/v1/sales/outcome",
            params={"key": case["key"], "channel": case["body"]["channel"]},
            headers=auth(shop.cashier_token),
        )
        cancelled = client.post(
            f"/api/v1/sales/{r.json()['sale_id']}/cancel",
            json={"reason": "sold to the wrong meter"},
            headers=auth(shop.supervisor_token),
        )
        assert cancelled.status_code == 200, cancelled.text
    elif step == "recharge_limit_1m3":
        with make_sessionmaker(engine).begin() as s:
            m = s.execute(select(Meter).where(Meter.pan == pan)).scalar_one()
            m.recharge_limit = 1_000
    elif step == "tariff_not_yet_in_force":
        with make_sessionmaker(engine).begin() as s:
            m = s.execute(select(Meter).where(Meter.pan == pan)).scalar_one()
            s.execute(
                update(TariffVersion)
                .where(TariffVersion.tariff_id == m.tariff_id)
                .values(effective_from=datetime(2099, 1, 1, tzinfo=UTC))
            )
    elif step == "monthly":
        set_period(engine, shop, FixedChargePeriod.MONTH)
    elif step == "sale_two_months_ago":
        sell_at(engine, shop, security, month_start(datetime.now(UTC)) - timedelta(days=40))
    else:  # pragma: no cover - a typo in the data file
        raise AssertionError(f"unknown step {step!r}")


def _token(case: dict[str, Any], shop: Shop, make_operator: Any) -> dict[str, str]:
    who = case.get("token", "cashier")
    if who == "cashier":
        return auth(shop.cashier_token)
    if who == "auditor":
        return auth(make_operator(Role.AUDITOR)[1])
    if who == "supervisor":  # no vendor of its own
        return auth(make_operator(Role.SUPERVISOR, username="novendorsup")[1])
    if who == "supervisor-vendor":  # sells from the shop's float
        return auth(shop.supervisor_token)
    if who == "unknown":
        return auth("not-a-token-anyone-was-given")
    if who == "basic":
        return {"Authorization": "Basic dXNlcjpwYXNz"}
    assert who == "none"
    return {}


@pytest.mark.parametrize("fast", [True, False], ids=["fast-on", "fast-off"])
@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_both_paths_answer_alike(
    case: dict[str, Any],
    fast: bool,
    shop: Shop,
    engine: Engine,
    settings: Settings,
    security_module: SoftwareSecurityModule,
    make_operator: Any,
) -> None:
    with client_with(
        settings, engine, security_module, fast_sales=fast, **case.get("settings", {})
    ) as client:
        for step in case["before"]:
            _prepare(step, case, shop, engine, security_module, client)
        pan = _pan(shop, engine, case["meter"])
        headers = _token(case, shop, make_operator)
        if "key" in case:
            headers["Idempotency-Key"] = case["key"]
        if "key_length" in case:
            headers["Idempotency-Key"] = "k" * case["key_length"]
        before, stats = counts(engine), _stats(client)
        if "raw" in case:
            headers["Content-Type"] = case["content_type"]
            r = client.post(
                "/api/v1/sales", content=case["raw"].replace("{pan}", pan), headers=headers
            )
        else:
            r = client.post(
                "/api/v1/sales", json={"meter_number": pan, **case["body"]}, headers=headers
            )
        assert r.status_code == case["status"], r.text
        if case["status"] != 201:
            assert r.headers["content-type"] == "application/problem+json"
            assert r.json()["code"] == case["code"]
            assert counts(engine) == before  # nothing written, float untouched
        else:
            body = r.json()
            assert r.headers.get("Idempotent-Replayed") == (
                "true" if case.get("replayed") else None
            )
            assert [t["kind"] for t in body["tokens"]] == case.get("kinds", ["credit"])
            assert {k: body[k] for k in case.get("receipt", {})} == case.get("receipt", {})
            _assert_token_is_the_sale(engine, security_module, body)
        assert ("Retry-After" in r.headers) == case.get("retry_after", False)
        taken = _stats(client) - stats
        if fast:
            expected = Counter() if case["path"] == "route" else Counter({case["path"]: 1})
            assert taken == expected
        else:
            assert client.app.state.sale_pool is None  # type: ignore[attr-defined]


def _assert_token_is_the_sale(
    engine: Engine, security: SoftwareSecurityModule, body: dict[str, Any]
) -> None:
    with make_sessionmaker(engine)() as s:
        sale = s.get(Sale, body["sale_id"])
        assert sale is not None
        assert sale.response == body
        cfg = meter_config(s, security, body["meter_number"])
        credit = decode(body["tokens"][-1]["digits"], cfg.key())
        if sale.credit_units is not None:
            assert isinstance(credit, CreditToken)
            assert credit.units == sale.credit_units
        else:
            assert isinstance(credit, CurrencyCreditToken)
        assert credit.tid == body["tid"]
        meter = s.execute(select(Meter).where(Meter.pan == body["meter_number"])).scalar_one()
        assert meter.last_tid == body["tid"]
        assert meter.sales_head == sale.chain_hash


def test_an_unknown_token_locks_nothing(client: TestClient, shop: Shop, engine: Engine) -> None:
    """A request with a made-up token is refused at once, even while the meter is
    locked by another sale: the meter is only read for a token that exists."""
    with engine.connect() as other:
        other.execute(
            text("SELECT 1 FROM meters WHERE pan = :p FOR UPDATE"), {"p": shop.volume_pan}
        )
        r = client.post(
            "/api/v1/sales",
            json={"meter_number": shop.volume_pan, "amount": "10.00"},
            headers=auth("made-up"),
        )
        other.rollback()
    assert r.status_code == 401
    assert _stats(client)["refused:not_authenticated"] == 1


def test_a_connection_ended_mid_sale_is_sold_on_a_new_one(
    client: TestClient, shop: Shop, engine: Engine
) -> None:
    """The server ends a sale's session while it waits for the meter lock (a restart,
    a failover, an operator's pg_terminate_backend): nothing was committed, so the
    sale runs again on a new connection and succeeds, once."""
    body = {"meter_number": shop.amount_pan, "amount": "5.00"}
    locked, ended = threading.Event(), []

    def hold_lock_then_end_the_waiter() -> None:
        with engine.connect() as holder, engine.connect() as admin:
            holder.execute(
                text("SELECT 1 FROM meters WHERE pan = :p FOR UPDATE"), {"p": shop.amount_pan}
            )
            locked.set()
            for _ in range(500):
                n = admin.execute(
                    text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE application_name = 'stsgas-sales' AND wait_event_type = 'Lock' "
                        "AND datname = current_database()"
                    )
                ).scalar_one()
                admin.commit()
                if n:
                    ended.append(n)
                    break
                time.sleep(0.01)
            holder.rollback()

    worker = threading.Thread(target=hold_lock_then_end_the_waiter)
    worker.start()
    assert locked.wait(10)
    before = counts(engine)
    r = client.post("/api/v1/sales", json=body, headers=auth(shop.cashier_token))
    worker.join(10)
    assert ended == [1]
    assert r.status_code == 201, r.text
    after = counts(engine)
    assert after["sales"] == before["sales"] + 1  # sold once, not twice
    stats = _stats(client)
    assert stats["fast"] == 1
    assert stats["retried"] == 1


def test_concurrent_sales_to_one_meter_take_increasing_tids(
    shop: Shop,
    engine: Engine,
    settings: Settings,
    security_module: SoftwareSecurityModule,
) -> None:
    """40 sales at once to one meter on the event loop, and 8 twins of one idempotency
    key: TIDs strictly increase in commit order, and the key has one sale."""
    app = create_app(settings, engine=engine, security_module=security_module)

    async def run() -> tuple[list[httpx.Response], list[httpx.Response], Counter[str]]:
        dsn = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        app.state.sale_pool = pool = await SalePool.open(dsn, size=8)
        try:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:

                def post(key: str | None) -> Any:
                    headers = auth(shop.cashier_token)
                    if key is not None:
                        headers["Idempotency-Key"] = key
                    return c.post(
                        "/api/v1/sales",
                        headers=headers,
                        json={"meter_number": shop.amount_pan, "amount": "2.00"},
                    )

                many = await asyncio.gather(*(post(None) for _ in range(40)))
                twins = await asyncio.gather(*(post("twin") for _ in range(8)))
            return list(many), list(twins), Counter(pool.stats)
        finally:
            app.state.sale_pool = None
            await pool.close()

    many, twins, stats = asyncio.run(run())
    assert [r.status_code for r in many] == [201] * 40
    assert [r.status_code for r in twins] == [201] * 8
    assert len({r.json()["sale_id"] for r in twins}) == 1
    assert stats["fast"] >= 40
    with make_sessionmaker(engine)() as s:
        tids = (
            s.execute(
                select(Token.tid)
                .join(Meter, Meter.id == Token.meter_id)
                .where(Meter.pan == shop.amount_pan)
                .order_by(Token.sale_id)
            )
            .scalars()
            .all()
        )
        assert len(tids) == 41
        assert all(a is not None and b is not None and a < b for a, b in itertools.pairwise(tids))
        keyed = s.execute(select(Sale).where(Sale.idempotency_key == "twin")).scalars().all()
        assert len(keyed) == 1


@pytest.mark.parametrize("period", list(FixedChargePeriod))
@pytest.mark.parametrize("fast", [True, False], ids=["fast-on", "fast-off"])
def test_a_sale_queued_behind_another_prices_after_it(
    fast: bool,
    period: FixedChargePeriod,
    shop: Shop,
    engine: Engine,
    settings: Settings,
    security_module: SoftwareSecurityModule,
) -> None:
    """Sale A holds the meter; sale B waits for it. The month's purchases B is priced
    on include A (step 1 is 10 m³; A uses it up), though B's statement began before A
    committed: PostgreSQL hands B the latest meter row but an older snapshot. Under a
    monthly fixed charge, A paid the month: B pays none."""
    from stsgas.vending.operators import service as ops
    from stsgas.vending.sales import service

    set_period(engine, shop, period)
    with client_with(settings, engine, security_module, fast_sales=fast) as client:
        a_done, b_answer = threading.Event(), []
        session = make_sessionmaker(engine)()
        cashier = ops.authenticate(session, shop.cashier_token)
        a = service.sell(
            session,
            service.SaleRequest(
                meter_number=shop.volume_pan,
                paid=10_000,
                channel="pos",
                idempotency_key=None,
            ),
            operator=cashier,
            security=security_module,
        )
        assert a.receipt.tariff_steps[0].position == 1

        def sale_b() -> None:
            b_answer.append(
                client.post(
                    "/api/v1/sales",
                    json={"meter_number": shop.volume_pan, "amount": "10.00"},
                    headers=auth(shop.cashier_token),
                )
            )
            a_done.wait()

        worker = threading.Thread(target=sale_b)
        worker.start()
        assert len(lock_waiters(engine)) == 1
        session.commit()
        session.close()
        a_done.set()
        worker.join(20)
        (r,) = b_answer
        assert r.status_code == 201, r.text
        used = [step["position"] for step in r.json()["tariff_steps"]]
        assert 1 not in used, r.json()["tariff_steps"]
        fixed = (r.json()["fixed_charge"], r.json()["fixed_charge_months"])
        assert fixed == (("0.00", 0) if period is FixedChargePeriod.MONTH else ("1.00", None))
