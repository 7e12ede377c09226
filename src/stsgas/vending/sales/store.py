"""The sale's store on SQLAlchemy (SQLite): the SQL of one sale in few round trips (V2).

A sale is the hot path, so it skips the ORM's unit of work. It reads once
and writes once (the two requests every sale of :mod:`.pipeline` makes;
:meth:`CoreSaleStore.do` answers the less common ones with
:mod:`.store_more` and ``policies.repository``):

* :meth:`CoreSaleStore.lock_meter` locks the meter and reads, beside it, its
  supply group, linked customer (debt and rate window), the tariff version in
  force with its steps, any committed sale under the idempotency key, and
  the id the sale will take;
* :meth:`CoreSaleStore.write_sale` charges the customer's debt and the vendor's
  float (both ``WHERE`` balance ≥ amount, both counting the rate-limit
  window), moves the meter's last TID and inserts the sale with its receipt,
  its tokens and its journal (the ledger accounts exist already: made with
  the vendor or channel), then reports what the counters say; the
  pipeline raises, and so rolls everything back, when a limit or the float
  says no.

This module holds the portable version (SQLAlchemy Core, one statement per
step: SQLite runs in-process, so round trips cost little); :mod:`.store_pg`
does each half in one PostgreSQL statement. The values both read and write
are :mod:`.rows`; the requests and the store interface, :mod:`.ops`.
Nothing here commits.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, case, func, select, update
from sqlalchemy.orm import Session

from stsgas.vending.delivery import hook as after_sale
from stsgas.vending.ledger import service as ledger
from stsgas.vending.models import (
    Account,
    Customer,
    CustomerMeter,
    CustomerPolicy,
    FixedChargePeriod,
    LedgerEntry,
    Meter,
    MeterMode,
    Sale,
    SaleStatus,
    SupplyGroup,
    TariffStep,
    TariffVersion,
    Token,
    Vendor,
)
from stsgas.vending.policies import repository as policies
from stsgas.vending.sales import ops
from stsgas.vending.sales import store_more as more
from stsgas.vending.sales.rows import (
    GroupRow,
    LockedMeter,
    SaleWrite,
    VersionRow,
    Written,
    steps_of,
)

_ACCOUNTS = cast(Table, Account.__table__)
_SALES = cast(Table, Sale.__table__)
_TOKENS = cast(Table, Token.__table__)
_LEDGER = cast(Table, LedgerEntry.__table__)


def _lock_statement() -> Any:
    customer = (
        select(CustomerMeter.customer_id)
        .where(CustomerMeter.meter_id == Meter.id, CustomerMeter.active == 1)
        .correlate(Meter)  # the locked meter, also where it stands nested in the reads below
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
    debt = select(Customer.debt_balance).where(Customer.id == customer).scalar_subquery()
    has_policy = select(CustomerPolicy.customer_id).where(CustomerPolicy.customer_id == customer)
    replay = (
        select(Sale.id)
        .where(
            Sale.operator_id == bindparam("operator_id"),
            Sale.channel == bindparam("channel"),
            Sale.idempotency_key == bindparam("key"),
        )
        .scalar_subquery()
    )
    return (
        select(
            Meter.id,
            Meter.pan,
            Meter.mode,
            Meter.status,
            Meter.supply_group_id,
            Meter.ti,
            Meter.ken,
            Meter.base_date,
            Meter.last_tid,
            Meter.sales_head,
            Meter.pending_supply_group_id,
            Meter.pending_ti,
            Meter.pending_base_date,
            Meter.recharge_limit,
            customer.label("customer_id"),
            debt.label("customer_debt"),
            has_policy.exists().label("credit_policy"),
            version.label("version_id"),
            replay.label("replay_id"),
            *more.GROUP_KEY_COLUMNS,
        )
        .join(SupplyGroup, SupplyGroup.id == Meter.supply_group_id)
        .where(Meter.pan == bindparam("number"))
        .with_for_update(of=Meter)
    )


_LOCK = _lock_statement()
_VERSION = (
    select(
        TariffVersion.fixed_charge,
        TariffVersion.tax_rate_bp,
        TariffVersion.debt_recovery_bp,
        TariffVersion.fixed_charge_period,
        TariffStep.up_to_litres,
        TariffStep.price_per_m3,
    )
    .outerjoin(TariffStep, TariffStep.tariff_version_id == TariffVersion.id)
    .where(TariffVersion.id == bindparam("version_id"))
    .order_by(TariffStep.position)
)
_NEXT_SALE_ID = select(func.coalesce(func.max(Sale.id), 0) + 1)
_ACCOUNT_IDS = select(Account.code, Account.id).where(
    Account.code.in_(bindparam("codes", expanding=True))
)
_MONTH_UNITS = select(func.coalesce(func.sum(Sale.credit_units), 0)).where(
    Sale.meter_id == bindparam("meter_id"),
    Sale.created_at >= bindparam("since"),
    Sale.status == SaleStatus.COMPLETED.value,
)

_FIXED_PAID_AT = select(func.max(Sale.created_at)).where(
    Sale.meter_id == bindparam("meter_id"),
    Sale.status == SaleStatus.COMPLETED.value,
    Sale.fixed_months > 0,
)


def _window_count(table: Any, window: str) -> Any:
    """``rate_count`` + 1 in the same window, 1 in a new one."""
    return case((table.rate_window == bindparam(window), table.rate_count + 1), else_=1)


_CHARGE_CUSTOMER = (
    update(Customer)
    .where(Customer.id == bindparam("customer_id"), Customer.debt_balance >= bindparam("debt"))
    .values(
        debt_balance=Customer.debt_balance - bindparam("debt"),
        rate_count=_window_count(Customer, "hour"),
        rate_window=bindparam("hour"),
    )
    .returning(Customer.rate_count)
)
_DRAW_FLOAT = (
    update(Vendor)
    .where(Vendor.id == bindparam("vendor_id"), Vendor.float_balance >= bindparam("paid"))
    .values(
        float_balance=Vendor.float_balance - bindparam("paid"),
        rate_count=_window_count(Vendor, "minute"),
        rate_window=bindparam("minute"),
    )
    .returning(Vendor.rate_count, Vendor.sales_per_minute)
)
#: the rarer requests' answers (:mod:`.store_more`)
_MORE: dict[type, Callable[[Session, Any], Any]] = {
    ops.ReadSale: more.read_sale,
    ops.FindKeyed: more.find_keyed,
    ops.DrawWallet: more.draw_wallet,
    ops.CreditWallet: more.credit_wallet,
    ops.ReadPending: more.read_pending,
    ops.MoveKeys: more.move_keys,
}
_SET_LAST_TID = (
    update(Meter)
    .where(Meter.id == bindparam("meter_id"))
    .values(last_tid=bindparam("tid"), sales_head=bindparam("head"), updated_at=bindparam("now"))
)


class CoreSaleStore:
    """The statements of one sale on a session's connection (SQLAlchemy Core: SQLite)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.conn: Connection = session.connection()

    def do(self, op: ops.Op) -> Any:
        """The answer to one of the sale's requests (:mod:`.ops`)."""
        if isinstance(op, ops.Lock):
            return self._lock(op)
        if isinstance(op, ops.Write):
            return self.write_sale(op.write)
        if isinstance(op, ops.AfterSale):
            return after_sale.sold(self.session, op.receipt)  # its token SMS once committed
        if isinstance(op, ops.ReadPolicy):
            return policies.read(self.session, op.customer_id, op.now)
        if isinstance(op, ops.RecordPolicy):
            return policies.record(self.session, op.priced, sale_id=op.sale_id, now=op.now)
        return _MORE[type(op)](self.session, op)

    def _lock(self, op: ops.Lock) -> ops.Locked:
        assert op.operator_id is not None, "the caller's session authenticated the seller"
        return ops.Locked(
            meter=self.lock_meter(
                op.number,
                operator_id=op.operator_id,
                channel=op.channel,
                key=op.key,
                now=op.now,
                month_start=op.month_start,
            )
        )

    def lock_meter(
        self,
        number: str,
        *,
        operator_id: int,
        channel: str,
        key: str | None,
        now: datetime,
        month_start: datetime,
    ) -> LockedMeter | None:
        """Find and lock the meter whose PAN is ``number`` (:mod:`..meters.resolve`), or
        None; with it, what a sale reads (a volume meter's units sold since
        ``month_start`` too, and the sale ``operator_id`` made under ``key``, if any)."""
        rows = self.conn.execute(
            _LOCK,
            {
                "number": number,
                "now": now,
                "channel": channel,
                "key": key,
                "operator_id": operator_id,
            },
        ).all()
        if len(rows) != 1:
            return None
        r = rows[0]
        version = None
        if r.version_id is not None:
            vrows = self.conn.execute(_VERSION, {"version_id": r.version_id}).all()
            v = vrows[0]
            version = VersionRow(
                id=r.version_id,
                fixed_charge=v.fixed_charge,
                tax_rate_bp=v.tax_rate_bp,
                debt_recovery_bp=v.debt_recovery_bp,
                fixed_charge_period=v.fixed_charge_period,
                steps=steps_of((x.up_to_litres, x.price_per_m3) for x in vrows),
            )
        return LockedMeter(
            id=r.id,
            pan=r.pan,
            mode=r.mode,
            status=r.status,
            ti=r.ti,
            ken=r.ken,
            base_date=r.base_date,
            last_tid=r.last_tid,
            sales_head=r.sales_head,
            needs_key_change=(
                r.pending_supply_group_id is not None
                or r.pending_ti is not None
                or r.pending_base_date is not None
            ),
            group=GroupRow.of(
                (
                    r.supply_group_id,
                    r.sgc,
                    r.krn,
                    r.key_type,
                    r.ea,
                    r.dkga,
                    r.vending_key_enc,
                    r.key_expires_at,
                    r.is_active,
                )
            ),
            customer_id=r.customer_id,
            customer_debt=int(r.customer_debt or 0),
            credit_policy=bool(r.credit_policy),
            version=version,
            replay_id=r.replay_id,
            sale_id=int(self.conn.execute(_NEXT_SALE_ID).scalar_one()),
            month_units=self._month_units(r.id, month_start)
            if r.mode == MeterMode.VOLUME.value
            else 0,
            recharge_limit=r.recharge_limit,
            fixed_paid_at=self.conn.execute(_FIXED_PAID_AT, {"meter_id": r.id}).scalar_one()
            if version is not None and version.fixed_charge_period == FixedChargePeriod.MONTH.value
            else None,
        )

    def _month_units(self, meter_id: int, since: datetime) -> int:
        value = self.conn.execute(_MONTH_UNITS, {"meter_id": meter_id, "since": since})
        return int(value.scalar_one() or 0)

    def _account_ids(self, codes: list[str]) -> dict[str, int]:
        """The ids of the journal's accounts. They exist (made with the vendor, and by
        migration 0010); one deleted by hand is made again here, never deferred."""
        found = self.conn.execute(_ACCOUNT_IDS, {"codes": codes}).all()
        ids: dict[str, int] = {str(row[0]): int(row[1]) for row in found}
        for code in codes:
            if code not in ids:
                kind, name, vendor_id = ledger.account_spec(code)
                ids[code] = self.conn.execute(
                    _ACCOUNTS.insert().returning(_ACCOUNTS.c.id),
                    {"code": code, "name": name, "kind": kind.value, "vendor_id": vendor_id},
                ).scalar_one()
        return ids

    def write_sale(self, w: SaleWrite) -> Written:
        """Charge, count, move the TID and insert sale, tokens and journal."""
        customer_ok, customer_count = True, 0
        if w.customer_id is not None:
            row = self.conn.execute(
                _CHARGE_CUSTOMER,
                {
                    "customer_id": w.customer_id,
                    "debt": w.debt_recovered,
                    "hour": w.hour,
                },
            ).one_or_none()
            customer_ok, customer_count = row is not None, 0 if row is None else int(row[0])
        vendor_ok, vendor_count, vendor_limit = True, 0, None
        if w.vendor_id is not None:
            drawn = self.conn.execute(
                _DRAW_FLOAT,
                {
                    "vendor_id": w.vendor_id,
                    "paid": w.paid,
                    "minute": w.minute,
                },
            ).one_or_none()
            vendor_ok = drawn is not None
            if drawn is not None:
                vendor_count, vendor_limit = int(drawn[0]), drawn[1]
        if w.last_tid is not None:
            self.conn.execute(
                _SET_LAST_TID,
                {
                    "meter_id": w.meter_id,
                    "tid": w.last_tid,
                    "head": w.sales_head,
                    "now": w.sale["created_at"],
                },
            )
        self.conn.execute(_SALES.insert(), w.sale)
        self.conn.execute(_TOKENS.insert(), w.tokens)
        ids = self._account_ids([line["code"] for line in w.journal])
        self.conn.execute(
            _LEDGER.insert(),
            [
                {**{k: v for k, v in line.items() if k != "code"}, "account_id": ids[line["code"]]}
                for line in w.journal
            ],
        )
        return Written(
            customer_ok=customer_ok,
            customer_count=customer_count,
            vendor_ok=vendor_ok,
            vendor_count=vendor_count,
            vendor_limit=vendor_limit,
        )
