"""Meter rules: registration with checked numbers, status, tariff, customer link
and the lookup before payment. Every change is audited. (A key change is a
four-eyes management request: ``management.service``.)"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from stsgas.vending.audit import service as audit
from stsgas.vending.customers import service as customers
from stsgas.vending.errors import (
    AlreadyExists,
    InvalidInput,
    KeyExpired,
    MeterNotActive,
    MeterNotFound,
    NoFloat,
    NoTariffInForce,
    NotFound,
)
from stsgas.vending.keys.warnings import key_warnings
from stsgas.vending.meters import resolve
from stsgas.vending.meters.numbers import parse_meter_number
from stsgas.vending.meters.repository import MeterRepository
from stsgas.vending.models import (
    Customer,
    Meter,
    MeterMode,
    MeterStatus,
    Operator,
    Sale,
    Tariff,
    utcnow,
)
from stsgas.vending.supply_groups import service as supply_groups
from stsgas.vending.tariffs.repository import TariffRepository


def _tariff_for(session: Session, tariff_id: int, mode: str) -> Tariff:
    tariff = session.get(Tariff, tariff_id)
    if tariff is None:
        raise NotFound(f"tariff {tariff_id} not found")
    if tariff.mode != mode:
        raise InvalidInput(f"tariff {tariff.name!r} is for {tariff.mode} meters, not {mode}")
    return tariff


def create(
    session: Session,
    *,
    actor: Operator | None,
    number: str,
    mode: MeterMode,
    supply_group_id: int,
    iin: str | None = None,
    ti: str = "01",
    ken: int | None = None,
    base_date: int | None = None,
    tariff_id: int | None = None,
    customer_id: int | None = None,
    recharge_limit: int | None = None,
) -> Meter:
    """Register a meter; its number's check digits must hold."""
    num = parse_meter_number(number, iin=iin)
    repo = MeterRepository(session)
    if repo.by_pan(num.pan) is not None:
        raise AlreadyExists(f"meter {num.pan} is registered")
    sg = supply_groups.get(session, supply_group_id)
    if tariff_id is not None:
        _tariff_for(session, tariff_id, mode.value)
    if customer_id is not None:
        customers.get(session, customer_id)
    meter = repo.create(
        Meter(
            pan=num.pan,
            iin=num.iin,
            drn=num.drn,
            mode=mode.value,
            status=MeterStatus.ACTIVE.value,
            supply_group_id=sg.id,
            ti=ti,
            ken=sg.ken if ken is None else ken,
            base_date=sg.base_date if base_date is None else base_date,
            tariff_id=tariff_id,
            last_tid=0,
            recharge_limit=recharge_limit,
        ),
        flush=True,
    )
    if customer_id is not None:
        repo.link(meter.id, customer_id)
    audit.record(
        session,
        actor=actor,
        action="meter.create",
        object_type="meter",
        object_id=meter.id,
        data={
            "pan": num.pan,
            "mode": mode.value,
            "supply_group_id": sg.id,
            "ti": ti,
            "customer_id": customer_id,
            "tariff_id": tariff_id,
            "recharge_limit": recharge_limit,
        },
    )
    return meter


def set_recharge_limit(
    session: Session, *, actor: Operator, meter_id: int, recharge_limit: int | None
) -> Meter:
    """Record the meter's recharge limit (as the meter is set), so sales above it are
    refused at the counter instead of at the meter."""
    meter = get(session, meter_id, for_update=True)
    before = meter.recharge_limit
    meter.recharge_limit = recharge_limit
    audit.record(
        session,
        actor=actor,
        action="meter.recharge_limit",
        object_type="meter",
        object_id=meter.id,
        data={"from": before, "to": recharge_limit},
    )
    return meter


def get(session: Session, meter_id: int, *, for_update: bool = False) -> Meter:
    """The meter or :class:`MeterNotFound`."""
    repo = MeterRepository(session)
    return repo.get_or_raise(meter_id, MeterNotFound, "meter", for_update=for_update)


def set_status(
    session: Session, *, actor: Operator, meter_id: int, status: MeterStatus, reason: str = ""
) -> Meter:
    """Block, unblock or retire a meter; a retired meter stays retired."""
    meter = get(session, meter_id, for_update=True)
    if meter.status == MeterStatus.RETIRED.value and status is not MeterStatus.RETIRED:
        raise InvalidInput("a retired meter cannot come back")
    before = meter.status
    meter.status = status.value
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="meter.status",
        object_type="meter",
        object_id=meter.id,
        data={"from": before, "to": status.value, "reason": reason},
    )
    return meter


def assign_tariff(session: Session, *, actor: Operator, meter_id: int, tariff_id: int) -> Meter:
    """Put a meter on a tariff of its mode."""
    meter = get(session, meter_id, for_update=True)
    _tariff_for(session, tariff_id, meter.mode)
    before = meter.tariff_id
    meter.tariff_id = tariff_id
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="meter.tariff",
        object_type="meter",
        object_id=meter.id,
        data={"from": before, "to": tariff_id},
    )
    return meter


def link_customer(session: Session, *, actor: Operator, meter_id: int, customer_id: int) -> Meter:
    """Make ``customer_id`` the meter's customer (the old link is kept as history)."""
    meter = get(session, meter_id, for_update=True)
    customers.get(session, customer_id)
    MeterRepository(session).link(meter.id, customer_id)
    audit.record(
        session,
        actor=actor,
        action="meter.link",
        object_type="meter",
        object_id=meter.id,
        data={"customer_id": customer_id},
    )
    return meter


@dataclass(frozen=True, slots=True, kw_only=True)
class Lookup:
    """The facts a vendor checks before taking money for a meter."""

    meter: Meter
    customer: Customer | None
    last_sale: Sale | None
    key_change_reasons: list[str]
    warnings: list[str]
    #: (problem code, sentence) for each reason a sale would be refused
    cannot_sell: list[tuple[str, str]]

    @property
    def can_sell(self) -> bool:
        """True when nothing known here refuses a sale."""
        return not self.cannot_sell


def lookup(
    session: Session,
    number: str,
    *,
    window: timedelta,
    now: datetime | None = None,
    seller_vendor_id: int | None = None,
) -> Lookup:
    """Answer "is this the right meter, and can it be sold to?" for ``number``; a sale
    by an account with no vendor (``seller_vendor_id`` None) has no float to draw."""
    now = now or utcnow()
    meter = resolve.resolve(session, number, full=True)  # 422 bad number, 404 none
    repo = MeterRepository(session)
    sg = meter.supply_group
    reasons: list[str] = []
    if meter.pending_supply_group_id is not None:
        reasons.append("new supply group or key revision")
    if meter.pending_ti is not None:
        reasons.append("new tariff index")
    if meter.pending_base_date is not None:
        reasons.append("new base date (TID rollover)")
    found = key_warnings(
        now=now,
        window=window,
        base_date=meter.base_date,
        ken=meter.ken,
        key_expires_at=sg.key_expires_at,
    )
    warnings = [w.message for w in found]
    blocked_by_key = any(
        w.expired and w.code.startswith(("vending_key", "base_date")) for w in found
    )
    scheduled = bool(reasons)
    if blocked_by_key and not scheduled:
        reasons.append("the meter's key data has run out: schedule a key change")
    refusals: list[tuple[str, str]] = []
    if meter.status != MeterStatus.ACTIVE.value:
        refusals.append(
            (MeterNotActive.code, f"This meter is {meter.status}: it cannot be sold to.")
        )
    if meter.tariff_id is None or TariffRepository(session).in_force(meter.tariff_id, now) is None:
        refusals.append(
            (
                NoTariffInForce.code,
                "This meter has no tariff in force: a "
                "supervisor must put it on a tariff before it can be sold to.",
            )
        )
    if blocked_by_key and not scheduled:
        refusals.append(
            (
                KeyExpired.code,
                "The meter's key data has run out: a key change "
                "must be scheduled before it can be sold to.",
            )
        )
    if seller_vendor_id is None:
        refusals.append(
            (
                NoFloat.code,
                "Your account sells from no vendor float: an admin "
                "must assign it a vendor before you can sell.",
            )
        )
    return Lookup(
        meter=meter,
        customer=repo.customer_of(meter.id),
        last_sale=repo.last_sale(meter.id),
        key_change_reasons=reasons,
        warnings=warnings,
        cannot_sell=refusals,
    )
