"""What a sale asks of its database, as values: the store interface of the sale pipeline.

The sale (:mod:`.pipeline`) is written once, without I/O: it yields one of
these requests at a time and is sent back the answer written beside each
(``Lock`` → :class:`Locked`, ``Write`` → :class:`.rows.Written`, …). A store
answers them on one engine: :class:`.store.CoreSaleStore` (SQLAlchemy, SQLite)
and the PostgreSQL statements of :mod:`.store_pg`, run by psycopg
(:class:`.pg.PgSaleStore`, a caller's session) or by asyncpg
(:class:`.store_async.AsyncPgSaleStore`, the event loop). Every store
implements :class:`SaleStore` or :class:`AsyncSaleStore`: one method,
``do(op)``. Nothing here touches a database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from stsgas.vending.sales.rows import GroupRow, LockedMeter, SaleWrite

if TYPE_CHECKING:
    from stsgas.vending.operators.repository import PrincipalRow
    from stsgas.vending.policies.rules import PolicyPriced
    from stsgas.vending.sales.receipts import Receipt

__all__ = [
    "AfterSale",
    "AsyncSaleStore",
    "CreditWallet",
    "DrawWallet",
    "FindKeyed",
    "Lock",
    "Locked",
    "MoveKeys",
    "Op",
    "Pending",
    "ReadPending",
    "ReadPolicy",
    "ReadSale",
    "RecordPolicy",
    "SaleStore",
    "StoredSale",
    "WalletDrawn",
    "Write",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Lock:
    """Lock the meter whose PAN is ``number`` and read what a sale needs beside it.

    Who sells is one of: ``operator_id`` (a caller that authenticated already),
    ``token_hash`` (a bearer token, checked in the same statement) or ``username``
    (a configured operator: mobile money). Answer: :class:`Locked`.
    """

    number: str
    channel: str
    key: str | None
    now: datetime
    month_start: datetime
    operator_id: int | None = None
    token_hash: str | None = None
    username: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Locked:
    """The locked meter (None: no such meter) and, when the lock named the seller by
    token or username, its operator row (None: no such token or operator)."""

    meter: LockedMeter | None
    principal: PrincipalRow | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadSale:
    """The stored sale ``sale_id`` (a replay). Answer: :class:`StoredSale`."""

    sale_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class FindKeyed:
    """The sale ``operator_id`` made under ``(channel, key)``, if any (the meter
    number named no meter). Answer: :class:`StoredSale` or None."""

    operator_id: int
    channel: str
    key: str


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredSale:
    """What a replay needs of a committed sale."""

    id: int
    fingerprint: str | None
    response: dict[str, Any] | None
    status: str
    cancelled_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadPolicy:
    """Lock the customer and read its credit policy. Answer: ``PolicyState`` or None."""

    customer_id: int
    now: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class DrawWallet:
    """Take ``amount`` from the customer's wallet if it holds that much.
    Answer: :class:`WalletDrawn`."""

    customer_id: int
    amount: int
    now: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class WalletDrawn:
    """Whether the wallet paid, and what it held before."""

    ok: bool
    had: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CreditWallet:
    """Add ``amount`` to the customer's wallet and post it from ledger account
    ``source``: debit ``source``, credit ``customer:<id>:wallet``, one journal.

    Both or neither: nothing moves when the customer has no wallet or ``amount``
    is not positive. Not a step of the sale: money that reaches a wallet outside
    a sale (a payment's change, a top-up, a refund) asks its store for it, so
    each engine credits a wallet in one place. Answer: the balance after, or
    None (nothing credited, nothing posted).
    """

    customer_id: int
    amount: int
    source: str
    memo: str
    now: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadPending:
    """The key data the meter moves to (its pending key change). Answer: :class:`Pending`."""

    meter_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Pending:
    """A pending key change: the target group (the current one when only the TI or
    base date moves), that group's KEN, and the new TI and base date (None: keep)."""

    group: GroupRow
    ken: int
    ti: str | None
    base_date: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class MoveKeys:
    """Move the meter's key data to a checked plan and clear its pending change.
    Answer: None."""

    meter_id: int
    group_id: int
    ti: str
    base_date: int
    ken: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Write:
    """Charge, count, move the TID and insert sale, tokens and journal.
    Answer: :class:`.rows.Written`."""

    write: SaleWrite
    #: the sale's receipt, typed: a store that adds to the write (a mobile-money
    #: payment's SMS, ``payments.fast``) reads it instead of the stored body
    receipt: Receipt


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordPolicy:
    """Write what the sale did under the customer's credit policy. Answer: None."""

    priced: PolicyPriced
    sale_id: int
    now: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class AfterSale:
    """Note the new sale for its token SMS once committed (``delivery``). Answer: None.

    The event-loop store notes nothing: its caller hands the receipt over after COMMIT."""

    receipt: Receipt


Op = (
    Lock
    | ReadSale
    | FindKeyed
    | ReadPolicy
    | DrawWallet
    | CreditWallet
    | ReadPending
    | MoveKeys
    | Write
    | RecordPolicy
    | AfterSale
)


class SaleStore(Protocol):
    """Answers a sale's requests on a caller's transaction (nothing commits)."""

    def do(self, op: Op) -> Any:
        """The answer to ``op`` (the type each request names)."""
        ...


class AsyncSaleStore(Protocol):
    """:class:`SaleStore` on the event loop."""

    async def do(self, op: Op) -> Any:
        """The answer to ``op``."""
        ...
