"""A by-amount meter across the seam: money settings asked by the office are applied
by the meter as money, read out as money, and the office takes them back as money."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from stsgas.irproto import decode_frame, encode_frame
from stsgas.meter.readout import take_readout
from stsgas.vending.db import make_sessionmaker
from stsgas.vending.models import Meter as MeterRow
from tests.vending.conftest import auth
from tests.vending.sales.conftest import Shop
from tests.vending.virtual import virtual_meter

URL = "/api/v1/management/requests"
NOW = datetime(2026, 6, 1, 9, tzinfo=UTC)


def _issued(client: TestClient, shop: Shop, approver: str, params: dict[str, Any]) -> str:
    asked = client.post(
        URL,
        json={
            "meter_number": shop.amount_pan,
            "kind": "field_settings",
            "params": params,
            "reason": "visit",
        },
        headers=auth(shop.supervisor_token),
    )
    assert asked.status_code == 201, asked.text
    ok = client.post(f"{URL}/{asked.json()['id']}/approve", headers=auth(approver))
    assert ok.status_code == 200, ok.text
    return str(ok.json()["ir_command"])


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

    up = client.post(
        "/api/v1/meters/readouts",
        content=json.dumps(read.to_json()).encode(),
        headers={**auth(shop.supervisor_token), "Content-Type": "application/json"},
    )
    assert up.status_code == 201, up.text
    with make_sessionmaker(engine)() as s:
        meter_id = s.execute(
            select(MeterRow.id).where(MeterRow.pan == shop.amount_pan)
        ).scalar_one()
    rec = client.get(
        f"/api/v1/meters/{meter_id}/reconciliation", headers=auth(shop.supervisor_token)
    )
    assert rec.status_code == 200, rec.text
    assert Decimal(rec.json()["overdraft"]) == Decimal("7.5"), rec.json()
    got = client.get(f"/api/v1/meters/{meter_id}/readouts", headers=auth(shop.supervisor_token))
    assert got.status_code == 200, got.text
