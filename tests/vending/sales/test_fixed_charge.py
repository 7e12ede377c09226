"""A tariff's fixed charge per sale or per month: the month's first sale pays it,
months without a sale are paid by the next one, and the receipt itemises it."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from stsgas.vending import transaction
from stsgas.vending.db import make_sessionmaker
from stsgas.vending.errors import BadAmount
from stsgas.vending.keys.security import SoftwareSecurityModule
from stsgas.vending.kit.localtime import vending_zone, zone
from stsgas.vending.ledger import service as ledger
from stsgas.vending.ledger.repository import LedgerRepository
from stsgas.vending.models import FixedChargePeriod, Meter, Operator, Sale, TariffVersion
from stsgas.vending.reports.service import reconciliation
from stsgas.vending.sales import service
from tests.vending.conftest import auth
from tests.vending.sales.conftest import Shop, counts

#: the shop's volume tariff charges 1.00 fixed (and 15 % tax, 10 % debt recovery)
FIXED = 100


def set_period(engine: Engine, shop: Shop, period: FixedChargePeriod) -> None:
    with make_sessionmaker(engine).begin() as s:
        meter = s.execute(select(Meter).where(Meter.pan == shop.volume_pan)).scalar_one()
        for v in s.execute(
            select(TariffVersion).where(TariffVersion.tariff_id == meter.tariff_id)
        ).scalars():
            v.fixed_charge_period = period.value


def sell_at(
    engine: Engine, shop: Shop, security: SoftwareSecurityModule, at: datetime, paid: int = 2000
) -> dict[str, Any]:
    with make_sessionmaker(engine)() as s:
        op = s.get(Operator, shop.cashier_id)
        assert op is not None
        req = service.SaleRequest(
            meter_number=shop.volume_pan, paid=paid, channel="pos", idempotency_key=None
        )
        return transaction.run(
            s, lambda: service.sell(s, req, operator=op, security=security, now=at)
        ).body


def _fixed(receipt: dict[str, Any]) -> tuple[str, str, int | None]:
    return (receipt["fixed_charge"], receipt["fixed_charge_period"], receipt["fixed_charge_months"])


def test_a_monthly_fixed_charge_is_paid_once_a_month_and_arrears_by_the_next_sale(
    engine: Engine, shop: Shop, security_module: SoftwareSecurityModule
) -> None:
    """January's first sale pays January; its second pays none; after two months
    without a sale, April's first sale pays February, March and April."""
    set_period(engine, shop, FixedChargePeriod.MONTH)
    jan10 = sell_at(engine, shop, security_module, datetime(2026, 1, 10, 9, tzinfo=UTC))
    jan20 = sell_at(engine, shop, security_module, datetime(2026, 1, 20, 9, tzinfo=UTC))
    apr5 = sell_at(engine, shop, security_module, datetime(2026, 4, 5, 9, tzinfo=UTC))
    may1 = sell_at(engine, shop, security_module, datetime(2026, 5, 1, 0, 1, tzinfo=UTC))
    assert _fixed(jan10) == ("1.00", "month", 1)
    assert _fixed(jan20) == ("0.00", "month", 0)
    assert _fixed(apr5) == ("3.00", "month", 3)
    assert _fixed(may1) == ("1.00", "month", 1)
    assert {r["fixed_charge_rate"] for r in (jan10, jan20, apr5, may1)} == {"1.00"}
    for r in (jan10, jan20, apr5, may1):
        items = sum(
            Decimal(r[k]) for k in ("fixed_charge", "debt_recovered", "tax", "energy_amount")
        )
        assert items == Decimal(r["amount_paid"])
    with make_sessionmaker(engine)() as s:
        months = s.execute(select(Sale.fixed_months).order_by(Sale.id)).scalars().all()
        assert months == [1, 0, 3, 1]
        balances = {code: c - d for code, _kind, d, c in LedgerRepository(s).balances()}
        assert balances[ledger.REVENUE_FIXED] == 5 * FIXED
        assert reconciliation(s)["ok"] is True


def test_a_per_sale_fixed_charge_is_paid_by_every_sale(
    engine: Engine, shop: Shop, security_module: SoftwareSecurityModule
) -> None:
    """Tariffs keep charging per sale unless set to monthly."""
    a = sell_at(engine, shop, security_module, datetime(2026, 1, 10, 9, tzinfo=UTC))
    b = sell_at(engine, shop, security_module, datetime(2026, 1, 20, 9, tzinfo=UTC))
    assert _fixed(a) == _fixed(b) == ("1.00", "sale", None)
    with make_sessionmaker(engine)() as s:
        assert s.execute(select(Sale.fixed_months)).scalars().all() == [None, None]


def test_a_payment_short_of_the_arrears_is_refused_and_writes_nothing(
    engine: Engine, shop: Shop, security_module: SoftwareSecurityModule
) -> None:
    """Six months of fixed charges due (6.00): 5.00 does not cover them."""
    set_period(engine, shop, FixedChargePeriod.MONTH)
    sell_at(engine, shop, security_module, datetime(2026, 1, 10, 9, tzinfo=UTC))
    before = counts(engine)
    with pytest.raises(BadAmount, match="fixed charge"):
        sell_at(engine, shop, security_module, datetime(2026, 7, 2, 9, tzinfo=UTC), paid=500)
    assert counts(engine) == before
    r = sell_at(engine, shop, security_module, datetime(2026, 7, 2, 9, tzinfo=UTC), paid=1000)
    assert _fixed(r) == ("6.00", "month", 6)


def test_the_api_sets_the_period_and_keeps_per_sale_by_default(
    client: TestClient, admin_token: str
) -> None:
    """A version states its period; none given is per sale; anything else is 422."""
    version: dict[str, Any] = {
        "effective_from": "2026-01-01T00:00:00Z",
        "fixed_charge": 500,
        "steps": [{"up_to_litres": None, "price_per_m3": 150}],
    }
    h = auth(admin_token)
    t = client.post(
        "/api/v1/tariffs",
        json={
            "name": "Standing",
            "mode": "volume",
            "version": {**version, "fixed_charge_period": "month"},
        },
        headers=h,
    )
    assert t.status_code == 201, t.text
    assert t.json()["versions"][0]["fixed_charge_period"] == "month"
    r = client.post(
        f"/api/v1/tariffs/{t.json()['id']}/versions",
        json={**version, "effective_from": "2026-06-01T00:00:00Z"},
        headers=h,
    )
    assert r.status_code == 201, r.text
    assert [v["fixed_charge_period"] for v in r.json()["versions"]] == ["month", "sale"]
    bad = client.post(
        f"/api/v1/tariffs/{t.json()['id']}/versions",
        json={**version, "effective_from": "2026-09-01T00:00:00Z", "fixed_charge_period": "year"},
        headers=h,
    )
    assert bad.status_code == 422
    assert bad.json()["code"] == "invalid_input"


def test_the_monthly_fixed_charge_counts_the_utilitys_local_months(
    engine: Engine, shop: Shop, security_module: SoftwareSecurityModule
) -> None:
    """With the vending time zone at UTC+3 (STSGAS_TIMEZONE=Africa/Nairobi), 31 January
    22:30 UTC is already 1 February locally: that sale pays February's fixed charge,
    and one at 30 January 20:00 UTC (23:00 local) is still January's."""
    set_period(engine, shop, FixedChargePeriod.MONTH)
    token = vending_zone.set(zone("Africa/Nairobi"))
    try:
        jan = sell_at(engine, shop, security_module, datetime(2026, 1, 30, 20, tzinfo=UTC))
        feb = sell_at(engine, shop, security_module, datetime(2026, 1, 31, 22, 30, tzinfo=UTC))
        still_feb = sell_at(engine, shop, security_module, datetime(2026, 2, 27, 9, tzinfo=UTC))
    finally:
        vending_zone.reset(token)
    assert _fixed(jan) == ("1.00", "month", 1)
    assert _fixed(feb) == ("1.00", "month", 1)
    assert _fixed(still_feb) == ("0.00", "month", 0)
