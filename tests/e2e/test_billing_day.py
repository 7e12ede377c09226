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
from sqlalchemy import Engine

from stsgas.irproto import decode_frame, encode_frame
from stsgas.meter import _clock
from stsgas.meter.readout import take_readout
from stsgas.vending.kit.localtime import local_date
from stsgas.vending.readouts.reconcile import period_of
from tests.e2e.office import approved, entered, sold_on, upload_and_reconcile
from tests.vending.sales.conftest import Shop
from tests.vending.virtual import virtual_meter

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
    ok = approved(
        client,
        shop.supervisor_token,
        approver_token,
        shop.volume_pan,
        "field_settings",
        {"seq": 1, "billing_day": 15},
        "billing moves to the 15th",
    )
    reply = meter.receive_ir(encode_frame(ok["ir_command"]), START).reply or b""
    assert decode_frame(reply) == "ok settings 1"

    used: dict[str, Decimal] = {}
    for at in SALES:
        receipt = sold_on(client, engine, shop.cashier_token, shop.volume_pan, "40.00", at)
        m3 = Decimal(receipt["units_credited"])
        entered(meter, receipt, at)
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
