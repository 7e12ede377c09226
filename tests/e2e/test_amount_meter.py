"""A by-amount meter across the seam: money settings asked by the office are applied
by the meter as money, read out as money, and the office takes them back as money."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from stsgas.irproto import decode_frame, encode_frame
from stsgas.meter.events import TokenAccepted
from stsgas.meter.readout import take_readout
from tests.e2e.office import approved, entered, sold_on, upload_and_reconcile
from tests.vending.conftest import auth
from tests.vending.sales.conftest import Shop
from tests.vending.virtual import virtual_meter

NOW = datetime(2026, 6, 1, 9, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
RATE = 250  # the flat rate, in minor units (0.01) per m³


def _issued(client: TestClient, shop: Shop, approver: str, params: dict[str, Any]) -> str:
    sup = shop.supervisor_token
    ok = approved(client, sup, approver, shop.amount_pan, "field_settings", params)
    return str(ok["ir_command"])


def test_money_settings_round_trip_office_meter_office(
    client: TestClient, shop: Shop, approver_token: str, engine: Engine
) -> None:
    """overdraft 7.50 and an alarm at 12 (money): the meter applies them, its readout
    says 7.50 and 12, and the office's reconciliation uses an overdraft of 7.50."""
    meter = virtual_meter(engine, shop.amount_pan, "amount", now=NOW)
    command = _issued(
        client, shop, approver_token, {"seq": 1, "overdraft": "7.5", "low_credit_alarm": "12"}
    )
    reply = meter.receive_ir(encode_frame(command), NOW).reply or b""
    assert decode_frame(reply) == "ok settings 2"
    later = NOW + timedelta(days=40)
    meter.handle_timer(later)
    read = take_readout(meter, later)
    settings = dict(read.settings)
    assert Decimal(str(settings["overdraft"])) == Decimal("7.5")
    assert Decimal(str(settings["low_credit_alarm"])) == 12
    assert read.mode == "amount"

    meter_id, rec = upload_and_reconcile(
        client, engine, shop.supervisor_token, read, shop.amount_pan
    )
    assert Decimal(rec["overdraft"]) == Decimal("7.5"), rec
    got = client.get(f"/api/v1/meters/{meter_id}/readouts", headers=auth(shop.supervisor_token))
    assert got.status_code == 200, got.text


def test_money_used_at_the_issued_rate_equals_the_money_sold(
    client: TestClient, shop: Shop, approver_token: str, engine: Engine
) -> None:
    """A flat rate of 2.50 per m³ issued by the office (four eyes) and taken by the
    meter; each month a sale's money is burnt as gas at that rate. The office prices
    the read litres at the same rate: money used == money sold, month by month.

    The rate token takes effect at its TID, the minute it was approved (now), so the
    months lived here are the three after this one."""
    meter = virtual_meter(engine, shop.amount_pan, "amount", now=datetime.now(UTC) - MINUTE)
    ok = approved(
        client,
        shop.supervisor_token,
        approver_token,
        shop.amount_pan,
        "set_tariff",
        {"rate": RATE},
        "flat price",
    )
    start = datetime.now(UTC)
    got = meter.enter_token(ok["tokens"][0]["digits"], start)
    assert any(isinstance(e, TokenAccepted) for e in got), got

    sold: dict[str, Decimal] = {}
    surplus = Decimal(0)
    first = start.replace(day=1, hour=0, minute=0)
    for n in range(1, 4):
        at = (first + timedelta(days=31 * n)).replace(day=3, hour=8)
        receipt = sold_on(client, engine, shop.cashier_token, shop.amount_pan, "25.00", at)
        money = Decimal(receipt["money_credited"])
        before = Decimal(dict(take_readout(meter, at).registers)["credit"])
        entered(meter, receipt, at)
        # the token's 20-bit amount rounds up, toward the customer (under 0.1%)
        credited = Decimal(dict(take_readout(meter, at).registers)["credit"]) - before
        assert money <= credited < money * Decimal("1.001")
        surplus += credited - money
        meter.open_key(at + timedelta(minutes=1))
        litres = money * 100 * 1000 / RATE
        assert litres == litres.to_integral()  # the test's sums come out whole
        meter.flow(int(litres), at + timedelta(days=4))
        sold[at.strftime("%Y-%m")] = money
    read_at = at + timedelta(days=35)
    meter.handle_timer(read_at)
    read = take_readout(meter, read_at)
    # every sale's money was used up; what is left is the tokens' rounding
    assert Decimal(dict(read.registers)["credit"]) == surplus

    _, rec = upload_and_reconcile(client, engine, shop.supervisor_token, read, shop.amount_pan)
    rows = {r["month"]: r for r in rec["months"]}
    for month, money in sold.items():
        row = rows[month]
        assert Decimal(row["sold"]) == Decimal(row["used"]) == money, row
    assert rec["flagged_months"] == [], rec
