"""The sale's less common requests on SQLAlchemy (SQLite): replays, wallets, key changes.

:class:`.store.CoreSaleStore` answers the two requests of every sale (lock,
write) itself; these answer the rest of :mod:`.ops` on the same session,
each in a statement or two (a credit policy's requests are
``policies.repository``'s). PostgreSQL answers the same requests in
:mod:`.pg`. Nothing here commits.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from stsgas.vending.ledger import service as ledger
from stsgas.vending.models import Meter, Sale, SupplyGroup
from stsgas.vending.sales import ops
from stsgas.vending.sales.rows import GroupRow
from stsgas.vending.wallet import repository as wallets

#: a supply group's key data after its id, in :class:`.rows.GroupRow`'s field order (the
#: sale's lock reads them too, :mod:`.store`)
GROUP_KEY_COLUMNS = (
    SupplyGroup.sgc,
    SupplyGroup.krn,
    SupplyGroup.key_type,
    SupplyGroup.ea,
    SupplyGroup.dkga,
    SupplyGroup.vending_key_enc,
    SupplyGroup.key_expires_at,
    SupplyGroup.is_active,
)
_STORED = select(Sale.id, Sale.request_fingerprint, Sale.response, Sale.status, Sale.cancelled_at)
_PENDING = (
    select(
        Meter.pending_ti,
        Meter.pending_base_date,
        SupplyGroup.ken,
        SupplyGroup.id,
        *GROUP_KEY_COLUMNS,
    )
    .join(
        SupplyGroup,
        SupplyGroup.id == func.coalesce(Meter.pending_supply_group_id, Meter.supply_group_id),
    )
    .where(Meter.id == bindparam("meter_id"))
)
_MOVE_KEYS = (
    update(Meter)
    .where(Meter.id == bindparam("meter_id"))
    .values(
        supply_group_id=bindparam("group_id"),
        ti=bindparam("ti"),
        base_date=bindparam("base_date"),
        ken=bindparam("ken"),
        pending_supply_group_id=None,
        pending_ti=None,
        pending_base_date=None,
    )
)


def read_sale(session: Session, op: ops.ReadSale) -> ops.StoredSale | None:
    """A committed sale to replay."""
    return _stored(session, Sale.id == op.sale_id)


def find_keyed(session: Session, op: ops.FindKeyed) -> ops.StoredSale | None:
    """The sale an operator made under a key, if any."""
    return _stored(
        session,
        Sale.operator_id == op.operator_id,
        Sale.channel == op.channel,
        Sale.idempotency_key == op.key,
    )


def _stored(session: Session, *where: Any) -> ops.StoredSale | None:
    row = session.connection().execute(_STORED.where(*where)).one_or_none()
    if row is None:
        return None
    sale_id, fp, response, status, cancelled_at = row
    return ops.StoredSale(
        id=sale_id, fingerprint=fp, response=response, status=status, cancelled_at=cancelled_at
    )


def draw_wallet(session: Session, op: ops.DrawWallet) -> ops.WalletDrawn:
    """The wallet drawn if it holds the price (``wallet.repository``'s statements)."""
    if wallets.draw(session, op.customer_id, op.amount, op.now) is not None:
        return ops.WalletDrawn(ok=True, had=0)
    return ops.WalletDrawn(ok=False, had=wallets.balance(session, op.customer_id) or 0)


def credit_wallet(session: Session, op: ops.CreditWallet) -> int | None:
    """Money into the wallet with its journal (``wallet.repository``'s credit, then
    ``ledger.post``, which makes a missing account): the balance after, or None."""
    if op.amount <= 0:
        return None
    after = wallets.credit(session, op.customer_id, op.amount, op.now)
    if after is None:
        return None
    ledger.post(
        session,
        [
            ledger.Line(account=op.source, debit=op.amount),
            ledger.Line(account=ledger.wallet_account(op.customer_id), credit=op.amount),
        ],
        sale_id=None,
        memo=op.memo,
    )
    return after


def read_pending(session: Session, op: ops.ReadPending) -> ops.Pending:
    """The key data a meter's pending key change moves it to."""
    row = session.connection().execute(_PENDING, {"meter_id": op.meter_id}).one()
    ti, base_date, ken, *group = row
    return ops.Pending(group=GroupRow.of(group), ken=ken, ti=ti, base_date=base_date)


def move_keys(session: Session, op: ops.MoveKeys) -> None:
    """Move the meter's key data and clear its pending change."""
    session.connection().execute(_MOVE_KEYS, asdict(op))  # fields: its parameters
