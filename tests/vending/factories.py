"""Factories for vending test data: add rows to a session and flush (the caller commits).

sg = supply_group(session, security_module)
t = tariff(session, mode=MeterMode.VOLUME)
c = customer(session)
m = meter(session, sg, customer=c, tariff=t)
session.commit()
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from stsgas.sts import pan_from_iin_drn
from stsgas.sts.identity import drn_with_check
from stsgas.vending.keys.security import KeyRef, SecurityModule
from stsgas.vending.models import (
    Customer,
    CustomerClass,
    CustomerMeter,
    CustomerPolicy,
    Meter,
    MeterMode,
    MeterStatus,
    SupplyGroup,
    Tariff,
    TariffStep,
    TariffVersion,
)
from tests.vending.conftest import TEST_KEYS

_serial = itertools.count(1)

#: a volume tariff: 10 m³ at 1.50, 20 m³ more at 2.00, then 3.00 (minor units per m³)
DEFAULT_VOLUME_STEPS: tuple[tuple[int | None, int], ...] = (
    (10_000, 150),
    (30_000, 200),
    (None, 300),
)
#: an amount (in-meter) tariff: the same blocks, applied by the meter
DEFAULT_AMOUNT_STEPS = DEFAULT_VOLUME_STEPS


def new_drn() -> tuple[str, str]:
    """A fresh (IIN, DRN) pair with a valid check digit (manufacturer 01)."""
    return "600727", drn_with_check(f"01{next(_serial):08d}")


def supply_group(
    session: Session,
    security_module: SecurityModule,
    *,
    sgc: str = "123456",
    krn: int = 1,
    key_type: int = 2,
    base_date: int = 2014,
    ea: int = 7,
    dkga: int = 2,
    ken: int = 255,
    vending_key_hex: str | None = None,
    key_expires_at: datetime | None = None,
    name: str = "",
) -> SupplyGroup:
    """A supply group whose vending key (the STS test key by default) is wrapped."""
    if vending_key_hex is None:
        vending_key_hex = TEST_KEYS["vending_key_dkga02" if dkga == 2 else "vending_key_dkga04"]
    blob = security_module.wrap(KeyRef(sgc=sgc, krn=krn), bytes.fromhex(vending_key_hex))
    sg = SupplyGroup(
        name=name or f"SGC {sgc} KRN {krn}",
        sgc=sgc,
        krn=krn,
        key_type=key_type,
        base_date=base_date,
        ea=ea,
        dkga=dkga,
        ken=ken,
        vending_key_enc=blob,
        key_expires_at=key_expires_at,
    )
    session.add(sg)
    session.flush()
    return sg


def customer(
    session: Session,
    *,
    name: str = "Ada Lovelace",
    address: str = "12 Analytical Way",
    phone: str = "+255700000001",
    debt_balance: int = 0,
) -> Customer:
    """A customer."""
    c = Customer(name=name, address=address, phone=phone, debt_balance=debt_balance)
    session.add(c)
    session.flush()
    return c


def lifeline_policy(
    session: Session, customer_id: int, *, instalment: int, emergency_asked: int
) -> CustomerPolicy:
    """A "lifeline" class (1 m³ of free gas a month) for the customer, with a fixed debt
    instalment per sale and the emergency credit asked (minor units)."""
    klass = CustomerClass(code="lifeline", name="Lifeline", free_litres=1_000)
    session.add(klass)
    session.flush()
    policy = CustomerPolicy(
        customer_id=customer_id,
        class_id=klass.id,
        plan_kind="fixed",
        plan_amount=instalment,
        emergency_asked=emergency_asked,
        emergency_owed=0,
    )
    session.add(policy)
    session.flush()
    return policy


def tariff(
    session: Session,
    *,
    mode: MeterMode = MeterMode.VOLUME,
    name: str | None = None,
    steps: Sequence[tuple[int | None, int]] = DEFAULT_VOLUME_STEPS,
    fixed_charge: int = 0,
    tax_rate_bp: int = 0,
    debt_recovery_bp: int = 0,
    effective_from: datetime = datetime(2020, 1, 1, tzinfo=UTC),
    currency: str = "USD",
) -> Tariff:
    """A tariff with one version in force since ``effective_from``."""
    t = Tariff(name=name or f"{mode.value}-{next(_serial)}", mode=mode.value, currency=currency)
    session.add(t)
    session.flush()
    add_tariff_version(
        session,
        t,
        version=1,
        steps=steps,
        fixed_charge=fixed_charge,
        tax_rate_bp=tax_rate_bp,
        debt_recovery_bp=debt_recovery_bp,
        effective_from=effective_from,
    )
    return t


def add_tariff_version(
    session: Session,
    t: Tariff,
    *,
    version: int,
    steps: Sequence[tuple[int | None, int]],
    effective_from: datetime,
    fixed_charge: int = 0,
    tax_rate_bp: int = 0,
    debt_recovery_bp: int = 0,
) -> TariffVersion:
    """Another version of ``t``."""
    v = TariffVersion(
        tariff_id=t.id,
        version=version,
        effective_from=effective_from,
        fixed_charge=fixed_charge,
        tax_rate_bp=tax_rate_bp,
        debt_recovery_bp=debt_recovery_bp,
    )
    v.steps = [
        TariffStep(position=i, up_to_litres=up_to, price_per_m3=price)
        for i, (up_to, price) in enumerate(steps, start=1)
    ]
    session.add(v)
    session.flush()
    return v


def meter(
    session: Session,
    sg: SupplyGroup,
    *,
    customer: Customer | None = None,
    tariff: Tariff | None = None,
    mode: MeterMode = MeterMode.VOLUME,
    status: MeterStatus = MeterStatus.ACTIVE,
    iin: str | None = None,
    drn: str | None = None,
    ti: str = "01",
    ken: int | None = None,
    base_date: int | None = None,
    last_tid: int = 0,
) -> Meter:
    """A meter in supply group ``sg``, linked to ``customer`` when given."""
    if iin is None or drn is None:
        iin, drn = new_drn()
    m = Meter(
        pan=pan_from_iin_drn(iin, drn),
        iin=iin,
        drn=drn,
        mode=mode.value,
        status=status.value,
        supply_group_id=sg.id,
        ti=ti,
        ken=sg.ken if ken is None else ken,
        base_date=sg.base_date if base_date is None else base_date,
        tariff_id=None if tariff is None else tariff.id,
        last_tid=last_tid,
    )
    session.add(m)
    session.flush()
    if customer is not None:
        session.add(CustomerMeter(customer_id=customer.id, meter_id=m.id))
        session.flush()
    return m
