"""A billing day set by the office moves the meter's months; the office's reconciliation
must count its sales in the same months (a period is named by the month it starts in,
and starts at 00:00 local on the billing day)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, update

from stsgas.irproto import decode_frame, encode_frame
from stsgas.meter import _clock
from stsgas.meter.events import TokenAccepted
from stsgas.meter.readout import take_readout
from stsgas.vending.db import make_sessionmaker
from stsgas.vending.kit.localtime import local_date
from stsgas.vending.models import Sale
from stsgas.vending.readouts.reconcile import period_of
from tests.e2e.office import upload_and_reconcile
from tests.vending.conftest import auth
from tests.vending.sales.conftest import Shop
from tests.vending.virtual import virtual_meter

URL = "/api/v1/management/requests"
START = datetime(2026, 6, 20, 9, tzinfo=UTC)
SALES = [datetime(2026, m, 2, 8, tzinfo=UTC) for m in (8, 9, 10)]  # before the 15th
READ = datetime(2026, 10, 20, 9, tzinfo=UTC)
#: zones with daylight saving, some of it at midnight (where a period starts)
ZONES = ["UTC", "Africa/Nairobi", "America/New_York", "Pacific/Auckland", "America/Santiago",
         "Asia/Beirut", "America/Havana"]  # fmt: skip


def test_sales_count_in_the_meters_billing_periods(
    client: TestClient, shop: Shop, approver_token: str, engine: Engine
) -> None:
    """Billing day 15: gas bought and used on the 2nd to 12th of August belongs to the
    period that began on 15 July (2026-07), on both sides; no month is flagged."""
    meter = virtual_meter(engine, shop.volume_pan, "volume", now=START)
    asked = client.post(
        URL,
        json={
            "meter_number": shop.volume_pan,
            "kind": "field_settings",
            "params": {"seq": 1, "billing_day": 15},
            "reason": "billing moves to the 15th",
        },
        headers=auth(shop.supervisor_token),
    )
    assert asked.status_code == 201, asked.text
    ok = client.post(f"{URL}/{asked.json()['id']}/approve", headers=auth(approver_token))
    assert ok.status_code == 200, ok.text
    reply = meter.receive_ir(encode_frame(ok.json()["ir_command"]), START).reply or b""
    assert decode_frame(reply) == "ok settings 1"

    used: dict[str, Decimal] = {}
    for at in SALES:
        r = client.post(
            "/api/v1/sales",
            json={"meter_number": shop.volume_pan, "amount": "40.00"},
            headers=auth(shop.cashier_token),
        )
        assert r.status_code == 201, r.text
        with make_sessionmaker(engine).begin() as s:
            s.execute(update(Sale).where(Sale.id == r.json()["sale_id"]).values(created_at=at))
        m3 = Decimal(r.json()["units_credited"])
        got = meter.enter_token(r.json()["token"].replace(" ", "").replace("-", ""), at)
        assert any(isinstance(e, TokenAccepted) for e in got), got
        meter.open_key(at + timedelta(minutes=1))
        meter.flow(int(m3 * 1000), at + timedelta(days=5))
        used[f"{at.year}-{at.month - 1:02d}"] = m3
    meter.handle_timer(READ)
    read = take_readout(meter, READ)
    assert {month: m3 for month, m3 in read.monthly if m3} == used  # the meter's side

    _, rec = upload_and_reconcile(client, engine, shop.supervisor_token, read, shop.volume_pan)
    rows = {r["month"]: r for r in rec["months"]}
    for month, m3 in used.items():
        assert Decimal(rows[month]["sold"]) == Decimal(rows[month]["used"]) == m3, rows[month]
    assert rec["flagged_months"] == [], rec


@given(
    at=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2090, 12, 31), timezones=st.just(UTC)
    ),
    billing_day=st.integers(1, 28),
    zone=st.sampled_from(ZONES),
)
def test_the_office_names_every_instant_s_period_as_the_meter_does(
    at: datetime, billing_day: int, zone: str
) -> None:
    """For any instant, zone and billing day, the office's month for a sale made then is
    the label of the meter's billing period holding that instant."""
    tz = ZoneInfo(zone)
    meter_says = _clock.period_label(_clock.period_start(at, tz, billing_day), tz)
    assert period_of(local_date(at, tz), billing_day) == meter_says
