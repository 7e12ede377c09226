"""The SQL of one sale: Core statements on the session's connection, few round trips.

A sale is the service's hot path, so it skips the ORM's unit of work: one
statement finds and locks the meter (with its supply group, linked customer,
tariff version in force and any committed sale under the idempotency key),
one ``UPDATE … RETURNING`` each counts and charges the customer and the
vendor (debt, float and the rate-limit windows live on those rows), and the
sale, its tokens and its journal go in as plain inserts. Statements are
built once; SQLAlchemy caches their compiled form. Nothing here commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, case, func, select, update
from sqlalchemy.orm import Session

from stsgas.vending.models import (
    Account,
    Customer,
    CustomerMeter,
    LedgerEntry,
    Meter,
    Sale,
    SaleStatus,
    SupplyGroup,
    TariffStep,
    TariffVersion,
    Token,
    Vendor,
)
from stsgas.vending.sales import pricing

_SALES = cast(Table, Sale.__table__)
_TOKENS = cast(Table, Token.__table__)
_LEDGER = cast(Table, LedgerEntry.__table__)


@dataclass(frozen=True, slots=True, kw_only=True)
class LockedMeter:
    """A meter row locked for this transaction, with what a sale needs beside it."""

    id: int
    pan: str
    mode: str
    status: str
    supply_group_id: int
    ti: str
    ken: int
    base_date: int
    tariff_id: int | None
    last_tid: int
    needs_key_change: bool
    customer_id: int | None
    version_id: int | None
    #: a committed sale under the request's idempotency key, if any
    replay_id: int | None
    group: GroupRow


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupRow:
    """The supply-group columns a sale reads."""

    id: int
    sgc: str
    krn: int
    key_type: int
    ea: int
    dkga: int
    vending_key_enc: bytes
    key_expires_at: datetime | None
    is_active: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class VersionRow:
    """The tariff version in force: charges in minor units and basis points, steps."""

    fixed_charge: int
    tax_rate_bp: int
    debt_recovery_bp: int
    steps: tuple[pricing.Step, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Charged:
    """What an ``UPDATE … RETURNING`` on a vendor or customer row gave back."""

    balance: int
    count: int
    limit: int | None = None


def _lock_statement(by_pan: bool) -> Any:
    customer = (
        select(CustomerMeter.customer_id)
        .where(CustomerMeter.meter_id == Meter.id, CustomerMeter.active == 1)
        .scalar_subquery()
    )
    version = (
        select(TariffVersion.id)
        .where(
            TariffVersion.tariff_id == Meter.tariff_id,
            TariffVersion.effective_from <= bindparam("now"),
        )
        .order_by(TariffVersion.effective_from.desc())
        .limit(1)
        .scalar_subquery()
    )
    replay = (
        select(Sale.id)
        .where(Sale.channel == bindparam("channel"), Sale.idempotency_key == bindparam("key"))
        .scalar_subquery()
    )
    key = Meter.pan if by_pan else Meter.drn
    return (
        select(
            Meter.id, Meter.pan, Meter.mode, Meter.status, Meter.supply_group_id, Meter.ti,
            Meter.ken, Meter.base_date, Meter.tariff_id, Meter.last_tid,
            Meter.pending_supply_group_id, Meter.pending_ti, Meter.pending_base_date,
            customer.label("customer_id"), version.label("version_id"),
            replay.label("replay_id"),
            SupplyGroup.sgc, SupplyGroup.krn, SupplyGroup.key_type, SupplyGroup.ea,
            SupplyGroup.dkga, SupplyGroup.vending_key_enc, SupplyGroup.key_expires_at,
            SupplyGroup.is_active,
        )
        .join(SupplyGroup, SupplyGroup.id == Meter.supply_group_id)
        .where(key == bindparam("number"))
        .limit(2)
        .with_for_update(of=Meter)
    )


_LOCK_BY_PAN = _lock_statement(by_pan=True)
_LOCK_BY_DRN = _lock_statement(by_pan=False)

_MONTH_UNITS = select(func.coalesce(func.sum(Sale.credit_units), 0)).where(
    Sale.meter_id == bindparam("meter_id"),
    Sale.created_at >= bindparam("since"),
    Sale.status == SaleStatus.COMPLETED.value,
)


def _window_count(table: Any) -> Any:
    """``rate_count`` + 1 in the same window, 1 in a new one."""
    return case(
        (table.rate_window == bindparam("window"), table.rate_count + 1), else_=1
    )


_COUNT_CUSTOMER = (
    update(Customer)
    .where(Customer.id == bindparam("customer_id"))
    .values(rate_count=_window_count(Customer), rate_window=bindparam("window"))
    .returning(Customer.debt_balance, Customer.rate_count)
)
_RECOVER_DEBT = (
    update(Customer)
    .where(Customer.id == bindparam("customer_id"))
    .values(debt_balance=Customer.debt_balance - bindparam("debt"))
)

_DRAW_FLOAT = (
    update(Vendor)
    .where(Vendor.id == bindparam("vendor_id"), Vendor.float_balance >= bindparam("paid"))
    .values(
        float_balance=Vendor.float_balance - bindparam("paid"),
        rate_count=_window_count(Vendor),
        rate_window=bindparam("window"),
    )
    .returning(Vendor.float_balance, Vendor.rate_count, Vendor.sales_per_minute)
)

_SET_LAST_TID = (
    update(Meter).where(Meter.id == bindparam("meter_id")).values(last_tid=bindparam("tid"))
)
_SET_RESPONSE = (
    update(Sale).where(Sale.id == bindparam("sale_id")).values(response=bindparam("response"))
)
_VERSION = (
    select(
        TariffVersion.fixed_charge, TariffVersion.tax_rate_bp, TariffVersion.debt_recovery_bp,
        TariffStep.up_to_litres, TariffStep.price_per_m3,
    )
    .outerjoin(TariffStep, TariffStep.tariff_version_id == TariffVersion.id)
    .where(TariffVersion.id == bindparam("version_id"))
    .order_by(TariffStep.position)
)
_ACCOUNTS = select(Account.code, Account.id).where(
    Account.code.in_(bindparam("codes", expanding=True))
)
_INSERT_SALE = _SALES.insert().returning(_SALES.c.id)


class SaleStore:
    """The statements of one sale on a session's connection."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.conn: Connection = session.connection()

    def lock_meter(
        self, number: str, *, channel: str, key: str | None, now: datetime
    ) -> LockedMeter | None:
        """Find and lock the meter ``number`` (PAN, or a unique DRN), or None."""
        stmt = _LOCK_BY_PAN if len(number) == 18 else _LOCK_BY_DRN
        rows = self.conn.execute(
            stmt, {"number": number, "now": now, "channel": channel, "key": key}
        ).all()
        if len(rows) != 1:
            return None
        r = rows[0]
        return LockedMeter(
            id=r.id, pan=r.pan, mode=r.mode, status=r.status, supply_group_id=r.supply_group_id,
            ti=r.ti, ken=r.ken, base_date=r.base_date, tariff_id=r.tariff_id,
            last_tid=r.last_tid,
            needs_key_change=(r.pending_supply_group_id is not None or r.pending_ti is not None
                              or r.pending_base_date is not None),
            customer_id=r.customer_id, version_id=r.version_id, replay_id=r.replay_id,
            group=GroupRow(
                id=r.supply_group_id, sgc=r.sgc, krn=r.krn, key_type=r.key_type, ea=r.ea,
                dkga=r.dkga, vending_key_enc=r.vending_key_enc,
                key_expires_at=r.key_expires_at, is_active=bool(r.is_active),
            ),
        )

    def tariff(self, version_id: int) -> VersionRow:
        """A tariff version's charges and price steps (versions never change once made)."""
        rows = self.conn.execute(_VERSION, {"version_id": version_id}).all()
        first = rows[0]
        return VersionRow(
            fixed_charge=first.fixed_charge, tax_rate_bp=first.tax_rate_bp,
            debt_recovery_bp=first.debt_recovery_bp,
            steps=tuple(pricing.Step(up_to_litres=r.up_to_litres, price_per_m3=r.price_per_m3)
                        for r in rows if r.price_per_m3 is not None),
        )

    def month_units(self, meter_id: int, since: datetime) -> int:
        """Gas units (0.1 m³) sold to a meter since ``since`` (completed sales)."""
        value = self.conn.execute(_MONTH_UNITS, {"meter_id": meter_id, "since": since})
        return int(value.scalar_one() or 0)

    def count_customer(self, customer_id: int, *, window: int) -> Charged:
        """Lock the customer and count one sale in ``window``; returns its debt and count."""
        row = self.conn.execute(
            _COUNT_CUSTOMER, {"customer_id": customer_id, "window": window}
        ).one()
        return Charged(balance=int(row[0]), count=int(row[1]))

    def recover_debt(self, customer_id: int, amount: int) -> None:
        """Take ``amount`` off the (locked) customer's debt."""
        self.conn.execute(_RECOVER_DEBT, {"customer_id": customer_id, "debt": amount})

    def draw_float(self, vendor_id: int, *, paid: int, window: int) -> Charged | None:
        """Take ``paid`` off the vendor's float and count one sale; None if it does not cover it."""
        row = self.conn.execute(
            _DRAW_FLOAT, {"vendor_id": vendor_id, "paid": paid, "window": window}
        ).one_or_none()
        if row is None:
            return None
        return Charged(balance=int(row[0]), count=int(row[1]), limit=row[2])

    def insert_sale(self, values: dict[str, Any]) -> int:
        """Insert the sale row; returns its id."""
        return int(self.conn.execute(_INSERT_SALE, values).scalar_one())

    def insert_tokens(self, rows: list[dict[str, Any]]) -> None:
        """Insert the sale's tokens."""
        self.conn.execute(_TOKENS.insert(), rows)

    def insert_journal(self, rows: list[dict[str, Any]]) -> None:
        """Insert the sale's ledger lines."""
        self.conn.execute(_LEDGER.insert(), rows)

    def account_ids(self, codes: set[str]) -> dict[str, int]:
        """The ids of the existing ledger accounts among ``codes``."""
        rows = self.conn.execute(_ACCOUNTS, {"codes": list(codes)})
        return {code: int(id_) for code, id_ in rows}

    def set_last_tid(self, meter_id: int, tid: int) -> None:
        """Record the TID just issued to the meter."""
        self.conn.execute(_SET_LAST_TID, {"meter_id": meter_id, "tid": tid})

    def set_response(self, sale_id: int, response: dict[str, Any]) -> None:
        """Store the receipt with the sale (an idempotent replay answers it)."""
        self.conn.execute(_SET_RESPONSE, {"sale_id": sale_id, "response": response})
