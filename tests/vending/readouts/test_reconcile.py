"""Sold against used, per local month, with the running balance and the bypass flag."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from stsgas.vending.db import make_sessionmaker
from stsgas.vending.models import Meter, Sale, SaleStatus
from stsgas.vending.readouts.reconcile import reconcile
from tests.vending.conftest import auth
from tests.vending.readouts.office import Office, as_bytes, readout_bytes, readout_json
from tests.vending.sales.conftest import Shop


def _sale(
    engine: Engine,
    shop: Shop,
    meter_id: int,
    at: datetime,
    *,
    units: int | None = None,
    money: int | None = None,
    status: SaleStatus = SaleStatus.COMPLETED,
) -> None:
    """A completed (or cancelled) sale as the sale path leaves it: paid, credited, dated."""
    with make_sessionmaker(engine).begin() as s:
        s.add(
            Sale(
                channel="pos",
                operator_id=shop.cashier_id,
                vendor_id=shop.vendor_id,
                meter_id=meter_id,
                amount_paid=1000,
                energy_amount=1000,
                credit_units=units,
                credit_money=money,
                status=status.value,
                created_at=at,
            )
        )


def test_volume_months_against_sales_flag_the_months_used_beyond_sold_plus_overdraft(
    client: TestClient, office: Office, shop: Shop, engine: Engine, supervisor_token: str
) -> None:
    """Readouts A and B (Sep 14.7, Oct 12.9, Nov 11.8, Dec 2.1 m³; overdraft 5 m³;
    Nairobi months). 5 m³ sold in August open the balance; a sale at 22:00 UTC on 30
    September is October's in Nairobi; a cancelled sale and one after the readout do not
    count. Nov and Dec fall below -5 m³: flagged."""
    vid = office.volume_id
    _sale(engine, shop, vid, datetime(2026, 8, 20, 10, tzinfo=UTC), units=50)
    _sale(engine, shop, vid, datetime(2026, 9, 10, 10, tzinfo=UTC), units=150)
    _sale(engine, shop, vid, datetime(2026, 9, 30, 22, tzinfo=UTC), units=20)
    _sale(engine, shop, vid, datetime(2026, 10, 5, 10, tzinfo=UTC), units=100)
    _sale(
        engine, shop, vid, datetime(2026, 10, 6, tzinfo=UTC), units=200, status=SaleStatus.CANCELLED
    )
    _sale(engine, shop, vid, datetime(2026, 12, 2, 10, tzinfo=UTC), units=30)
    _sale(engine, shop, vid, datetime(2026, 12, 6, 10, tzinfo=UTC), units=500)
    for name in ("office-a.json", "office-b.json"):
        r = client.post(
            f"/api/v1/meters/{vid}/readouts",
            content=readout_bytes(name),
            headers=auth(supervisor_token),
        )
        assert r.status_code == 201, r.text
    rec = client.get(f"/api/v1/meters/{vid}/reconciliation", headers=auth(supervisor_token))
    assert rec.status_code == 200, rec.text
    body = rec.json()
    assert (body["unit"], body["overdraft"], body["opening"]) == ("m3", "5.000", "5.000")
    rows = [
        (m["month"], m["sold"], m["used"], m["difference"], m["balance"], m["flagged"])
        for m in body["months"]
    ]
    assert rows == [
        ("2026-09", "15.000", "14.700", "0.300", "5.300", False),
        ("2026-10", "12.000", "12.900", "-0.900", "4.400", False),
        ("2026-11", "0.000", "11.800", "-11.800", "-7.400", True),
        ("2026-12", "3.000", "2.100", "0.900", "-6.500", True),
    ]
    assert body["flagged_months"] == ["2026-11", "2026-12"]


def test_amount_months_compare_money(
    client: TestClient, office: Office, shop: Shop, engine: Engine, supervisor_token: str
) -> None:
    """An amount meter's months carry the money charged (30, 36, 60); 40, 30 and 50 were
    credited; overdraft 5.00: November's balance of -6.00 is flagged."""
    aid = office.amount_id
    for month, money in ((9, 4000), (10, 3000), (11, 5000)):
        _sale(engine, shop, aid, datetime(2026, month, 3, 12, tzinfo=UTC), money=money)
    r = client.post(
        "/api/v1/meters/readouts",
        content=readout_bytes("office-amount.json"),
        headers=auth(supervisor_token),
    )
    assert r.status_code == 201, r.text
    body = client.get(f"/api/v1/meters/{aid}/reconciliation", headers=auth(supervisor_token)).json()
    assert body["unit"] == "money"
    assert [(m["month"], m["sold"], m["used"], m["balance"]) for m in body["months"]] == [
        ("2026-09", "40.00", "30.00", "10.00"),
        ("2026-10", "30.00", "36.00", "4.00"),
        ("2026-11", "50.00", "60.00", "-6.00"),
    ]
    assert body["flagged_months"] == ["2026-11"]


def test_amount_months_without_money_are_priced_at_the_meters_flat_rate(
    client: TestClient, office: Office, shop: Shop, engine: Engine, supervisor_token: str
) -> None:
    """The IR readout gives volumes only; a meter issued a flat rate of 3.00 per m³ used
    10 m³ = 30.00 in September, 12 m³ = 36.00 in October, 20 m³ = 60.00 in November."""
    aid = office.amount_id
    with make_sessionmaker(engine).begin() as s:
        meter = s.get(Meter, aid)
        assert meter is not None
        meter.loaded_tariff_rate = 300
    _sale(engine, shop, aid, datetime(2026, 9, 3, 12, tzinfo=UTC), money=12_000)
    data = readout_json("office-amount.json")
    for month in data["monthly"]:
        del month["amount"]
    r = client.post(
        "/api/v1/meters/readouts", content=as_bytes(data), headers=auth(supervisor_token)
    )
    assert r.status_code == 201, r.text
    body = client.get(f"/api/v1/meters/{aid}/reconciliation", headers=auth(supervisor_token)).json()
    assert [(m["month"], m["used"], m["balance"]) for m in body["months"]] == [
        ("2026-09", "30.00", "90.00"),
        ("2026-10", "36.00", "54.00"),
        ("2026-11", "60.00", "-6.00"),
    ]
    assert body["flagged_months"] == ["2026-11"]


def test_a_month_without_its_money_figure_raises_no_alarm() -> None:
    """By amount, a month the meter did not price leaves the balance unknown from there
    on: no flag is guessed."""
    rec = reconcile(
        mode="amount",
        used={"2026-01": 100, "2026-02": None, "2026-03": 10_000},
        sales=[(datetime(2026, 1, 5, tzinfo=UTC), 100)],
        tz=UTC,
        overdraft=0,
    )
    assert [(r.month, r.balance, r.flagged) for r in rec.rows] == [
        ("2026-01", 0, False),
        ("2026-02", None, False),
        ("2026-03", None, False),
    ]


def test_a_gap_month_counts_as_no_gas_by_volume() -> None:
    """A month missing from a volume meter's list is a month without gas."""
    rec = reconcile(
        mode="volume",
        used={"2026-01": 1000, "2026-03": 1000},
        sales=[(datetime(2026, 2, 1, tzinfo=UTC), 1500)],
        tz=UTC,
        overdraft=0,
        used_before=0,
    )
    assert [(r.month, r.used, r.balance) for r in rec.rows] == [
        ("2026-01", 1000, -1000),
        ("2026-02", 0, 500),
        ("2026-03", 1000, -500),
    ]
    assert rec.flagged == ("2026-01", "2026-03")


def test_no_months_no_rows() -> None:
    """A meter never read has nothing to reconcile."""
    assert reconcile(mode="volume", used={}, sales=[], tz=UTC, overdraft=0).rows == ()
