"""A shop to sell from: supply group, tariffs, customer, meters of both modes, a cashier
and a supervisor who both sell from the shop's vendor float.

``shop`` commits its rows so that HTTP requests and threads (own sessions) see them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from stsgas.sts import MeterConfig
from stsgas.vending.db import make_sessionmaker
from stsgas.vending.keys.security import MeterKeyData, SoftwareSecurityModule
from stsgas.vending.models import (
    AuditEntry,
    LedgerEntry,
    Meter,
    MeterMode,
    MeterStatus,
    Operator,
    Role,
    Sale,
    SupplyGroup,
    Token,
    Vendor,
)
from tests.vending import factories

#: a cashier's float in minor units (10,000.00)
FLOAT = 1_000_000


@dataclass(frozen=True, slots=True, kw_only=True)
class Shop:
    """Ids and tokens of the committed test shop."""

    volume_pan: str
    amount_pan: str
    blocked_pan: str
    group_id: int
    vendor_id: int
    cashier_token: str
    cashier_id: int
    supervisor_token: str


def make_shop(
    engine: Engine,
    security_module: SoftwareSecurityModule,
    make_operator: Callable[..., tuple[Operator, str]],
) -> Shop:
    """Build and commit the shop (for test modules outside this folder)."""
    with make_sessionmaker(engine).begin() as s:
        sg = factories.supply_group(s, security_module)
        vol_t = factories.tariff(
            s, mode=MeterMode.VOLUME, fixed_charge=100, tax_rate_bp=1500, debt_recovery_bp=1000
        )
        amt_t = factories.tariff(s, mode=MeterMode.AMOUNT, tax_rate_bp=1500)
        cust = factories.customer(s, debt_balance=5_000)
        vol = factories.meter(s, sg, customer=cust, tariff=vol_t)
        amt = factories.meter(s, sg, tariff=amt_t, mode=MeterMode.AMOUNT)
        blocked = factories.meter(s, sg, tariff=vol_t, status=MeterStatus.BLOCKED)
        vendor = Vendor(name="Float Kiosk", float_balance=FLOAT)
        s.add(vendor)
        s.flush()
        ids = (vol.pan, amt.pan, blocked.pan, sg.id, vendor.id)
    cashier, ctoken = make_operator(Role.CASHIER, username="shopcashier", vendor_id=ids[4])
    _sup, stoken = make_operator(Role.SUPERVISOR, username="shopsuper", vendor_id=ids[4])
    return Shop(
        volume_pan=ids[0],
        amount_pan=ids[1],
        blocked_pan=ids[2],
        group_id=ids[3],
        vendor_id=ids[4],
        cashier_token=ctoken,
        cashier_id=cashier.id,
        supervisor_token=stoken,
    )


def meter_config(session: Session, security: SoftwareSecurityModule, pan: str) -> MeterConfig:
    """The meter's current decoder config, to decode issued tokens."""
    m = session.execute(select(Meter).where(Meter.pan == pan)).scalar_one()
    sg = session.get(SupplyGroup, m.supply_group_id)
    assert sg is not None
    data = MeterKeyData(
        pan=m.pan,
        key_type=sg.key_type,
        sgc=sg.sgc,
        ti=m.ti,
        krn=sg.krn,
        ken=m.ken,
        base_date=m.base_date,
        ea=sg.ea,
        dkga=sg.dkga,
    )
    return security.meter_config(data, sg.vending_key_enc)


def all_sales(engine: Engine) -> list[Sale]:
    """Every sale in the database, oldest first."""
    with make_sessionmaker(engine)() as s:
        return list(s.execute(select(Sale).order_by(Sale.id)).scalars())


def sale_count(engine: Engine) -> int:
    """How many sales the database holds."""
    with make_sessionmaker(engine)() as s:
        return int(s.execute(select(func.count()).select_from(Sale)).scalar_one())


def counts(engine: Engine) -> dict[str, Any]:
    """Row counts and the float: what a refused request must leave unchanged."""
    with make_sessionmaker(engine)() as s:
        out: dict[str, Any] = {
            m.__tablename__: s.execute(select(func.count()).select_from(m)).scalar_one()
            for m in (Sale, Token, LedgerEntry, AuditEntry)
        }
        out["float"] = s.execute(select(func.sum(Vendor.float_balance))).scalar_one()
        out["last_tids"] = sorted(s.execute(select(Meter.last_tid)).scalars())
        return out
