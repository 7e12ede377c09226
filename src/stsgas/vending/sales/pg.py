"""The sale's requests answered on PostgreSQL, once for both drivers.

:func:`answer` turns one request of the pipeline (:mod:`.ops`) into the
statements that answer it, as a generator: it yields ``(sql, params)`` in
psycopg's ``%(name)s`` style and is sent the rows. Two executors run it:
:class:`PgSaleStore` on a caller's session (psycopg, prepared statements) and
:class:`.store_async.AsyncPgSaleStore` on asyncpg (the same text as ``$n``
parameters). So each statement exists once; the hot two (lock-and-read,
write) are in :mod:`.store_pg`, the rest (a replay, a wallet draw or credit,
a key change, a credit policy) here. Nothing here begins or commits.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from dataclasses import asdict, fields
from datetime import UTC
from typing import Any

import orjson
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from stsgas.vending.delivery import hook as after_sale
from stsgas.vending.kit import pgraw
from stsgas.vending.kit.entropy import journal_id
from stsgas.vending.ledger import service as ledger
from stsgas.vending.operators.repository import PRINCIPAL_SQL, SELLER_SQL, PrincipalRow
from stsgas.vending.policies import repository as policies
from stsgas.vending.policies.rules import PolicyState
from stsgas.vending.sales import ops, store_pg
from stsgas.vending.sales.rows import GroupRow
from stsgas.vending.transaction import ReadChanged

Rows = Sequence[Sequence[Any]]
#: the statements answering one request: yields (sql, params), is sent the rows
Plan = Generator[tuple[str, dict[str, Any]], Rows, Any]

_PRINCIPAL_COLUMNS = len(fields(PrincipalRow))
_AUTH_LOCK = "WITH p AS ({principal}) SELECT p.*, x.* FROM p LEFT JOIN LATERAL ({lock}) x ON true"
#: the lock behind the bearer's token row, so a token that does not exist locks nothing;
#: the replay it looks for is among the bearer's own sales (idempotency keys are per
#: operator)
AUTH_LOCK = _AUTH_LOCK.format(
    principal=PRINCIPAL_SQL, lock=store_pg.LOCK.replace("%(operator_id)s", "p.id")
)
#: the same behind a named operator's row (a sale paid by mobile money)
SELLER_LOCK = _AUTH_LOCK.format(
    principal=SELLER_SQL, lock=store_pg.LOCK.replace("%(operator_id)s", "p.id")
)
_STORED = "SELECT id, request_fingerprint, response, status, cancelled_at FROM sales "
READ_SALE = _STORED + "WHERE id = %(sale_id)s"
FIND_KEYED = (
    _STORED + "WHERE operator_id = %(operator_id)s AND channel = %(channel)s "
    "AND idempotency_key = %(key)s"
)
#: the customer locked first, so its policy is read (next statement) after any sale of
#: the same customer before it committed
LOCK_CUSTOMER = "SELECT debt_balance FROM customers WHERE id = %(customer_id)s FOR UPDATE"
READ_POLICY = """
SELECT p.plan_kind, p.plan_amount, p.plan_bp, p.plan_min, p.plan_max,
       p.emergency_asked, p.emergency_owed, k.free_litres, k.free_money,
       EXISTS (SELECT 1 FROM free_gas_grants f
               WHERE f.customer_id = p.customer_id AND f.month = %(month)s)
FROM customer_policies p LEFT JOIN customer_classes k ON k.id = p.class_id
WHERE p.customer_id = %(customer_id)s
"""
RECORD_POLICY = (
    """
WITH
grant_ AS (
    INSERT INTO free_gas_grants (customer_id, month, sale_id, litres, money, value, created_at)
    SELECT %(customer_id)s::bigint, %(month)s::text, %(sale_id)s::bigint, %(litres)s::bigint,
        %(money)s::bigint, %(value)s::bigint, %(created_at)s::timestamptz
    WHERE %(free)s::boolean),
pol AS (
    UPDATE customer_policies SET emergency_asked = emergency_asked - %(asked)s::bigint,
        emergency_owed = emergency_owed - %(repaid)s::bigint + %(given)s::bigint,
        updated_at = %(created_at)s::timestamptz
    WHERE customer_id = %(customer_id)s::bigint
      AND (%(given)s::bigint <> 0 OR %(repaid)s::bigint <> 0)),
cust AS (
    UPDATE customers SET debt_balance = debt_balance + %(given)s::bigint
    WHERE id = %(customer_id)s::bigint AND %(given)s::bigint <> 0),
"""
    + store_pg.JOURNAL.format(sale_id="NULL::bigint")
    + "\nSELECT (SELECT count(*) FROM led)"
)
DRAW_WALLET = """
WITH d AS (
    UPDATE wallets SET balance = balance - %(amount)s::bigint, updated_at = %(now)s
    WHERE customer_id = %(customer_id)s AND balance >= %(amount)s::bigint
    RETURNING 1)
SELECT (SELECT count(*) FROM d), (SELECT balance FROM wallets WHERE customer_id = %(customer_id)s)
"""
#: the wallet credited and its journal posted (:class:`.ops.CreditWallet`), both only when
#: the customer has a wallet and the amount is positive. ``{make}``: a CTE making the
#: accounts still missing, or nothing; ``{made}``: the CTE whose rows (id, code) are the
#: accounts this statement makes. The payment's write folds these CTEs in beside the
#: sale's own (``payments.fast_sql``), so its ``{made}`` is the sale's ``acc``.
_CREDIT_WALLET = (
    """
credit_wallet AS (
    UPDATE wallets SET balance = balance + %(credit_amount)s::bigint,
        updated_at = %(credit_now)s
    WHERE customer_id = %(credit_customer)s::bigint AND %(credit_amount)s::bigint > 0
    RETURNING balance),
credit_lines AS (
    SELECT l.*, """
    + store_pg.known_id("l")
    + """ AS id FROM (
    VALUES (%(credit_source)s::text, %(credit_source_kind)s::text,
            %(credit_source_name)s::text, %(credit_source_vendor)s::bigint,
            %(credit_amount)s::bigint, 0::bigint),
           (%(credit_wallet)s::text, %(credit_wallet_kind)s::text,
            %(credit_wallet_name)s::text, NULL::bigint,
            0::bigint, %(credit_amount)s::bigint))
        AS l (code, kind, name, vendor_id, debit, credit)
    WHERE EXISTS (SELECT 1 FROM credit_wallet)),{make}
credit_led AS (
    INSERT INTO ledger_entries (journal, account_id, sale_id, debit, credit, memo, created_at)
    SELECT %(credit_journal)s::text, x.id, NULL, x.debit, x.credit, %(credit_memo)s::text,
        %(credit_now)s
    FROM (SELECT """
    + store_pg.account_id("l", "{made}")
    + """ AS id, l.debit, l.credit FROM credit_lines l) x
    WHERE x.id IS NOT NULL
    ORDER BY x.credit  -- the source's line first, as ledger.post writes them
    RETURNING 1)"""
)
_CREDIT_ACCOUNTS = """
credit_acc AS (
    INSERT INTO accounts (code, name, kind, vendor_id, created_at)
    SELECT l.code, l.name, l.kind, l.vendor_id, %(credit_now)s FROM credit_lines l
    WHERE l.id IS NULL
    ON CONFLICT (code) DO NOTHING
    RETURNING id, code),"""


def credit_wallet_ctes(*, made: str) -> str:
    """:data:`CREDIT_WALLET`'s CTEs (``credit_wallet``: the balance after; ``credit_led``:
    the lines posted) for a statement whose CTE ``made`` makes the accounts it needs."""
    return _CREDIT_WALLET.format(make="", made=made)


CREDIT_WALLET = (
    "WITH"
    + _CREDIT_WALLET.format(make=_CREDIT_ACCOUNTS, made="credit_acc")
    + "\nSELECT (SELECT balance FROM credit_wallet), (SELECT count(*) FROM credit_led)"
)
#: the lines of a credit's journal when it posts any
CREDIT_LINES = 2


def credit_params(op: ops.CreditWallet) -> dict[str, Any]:
    """:data:`CREDIT_WALLET`'s parameters (the folded CTEs' too)."""
    wallet = ledger.wallet_account(op.customer_id)
    source_kind, source_name, source_vendor = ledger.account_spec(op.source)
    wallet_kind, wallet_name, _ = ledger.account_spec(wallet)
    return {
        "credit_customer": op.customer_id,
        "credit_amount": op.amount,
        "credit_now": op.now,
        "credit_journal": journal_id(),
        "credit_memo": op.memo[:200],
        "credit_source": op.source,
        "credit_source_kind": source_kind.value,
        "credit_source_name": source_name,
        "credit_source_vendor": source_vendor,
        "credit_wallet": wallet,
        "credit_wallet_kind": wallet_kind.value,
        "credit_wallet_name": wallet_name,
    }


READ_PENDING = """
SELECT m.pending_ti, m.pending_base_date, g.ken, g.id, g.sgc, g.krn, g.key_type, g.ea, g.dkga,
       g.vending_key_enc, g.key_expires_at, g.is_active
FROM meters m JOIN supply_groups g ON g.id = coalesce(m.pending_supply_group_id, m.supply_group_id)
WHERE m.id = %(meter_id)s
"""
MOVE_KEYS = """
UPDATE meters SET supply_group_id = %(group_id)s, ti = %(ti)s, base_date = %(base_date)s,
    ken = %(ken)s, pending_supply_group_id = NULL, pending_ti = NULL, pending_base_date = NULL
WHERE id = %(meter_id)s
"""


def answer(op: ops.Op) -> Plan:
    """The statements answering ``op`` (all but ``AfterSale``, the executor's own)."""
    if isinstance(op, ops.Lock):
        return (yield from _lock(op))
    if isinstance(op, ops.Write):
        rows = yield store_pg.WRITE, store_pg.write_params(op.write)
        return store_pg.written_from_row(rows[0], op.write)
    if isinstance(op, ops.ReadSale):
        return _stored((yield READ_SALE, {"sale_id": op.sale_id}))
    if isinstance(op, ops.FindKeyed):
        params = {"operator_id": op.operator_id, "channel": op.channel, "key": op.key}
        return _stored((yield FIND_KEYED, params))
    if isinstance(op, ops.ReadPolicy):
        return (yield from _read_policy(op))
    if isinstance(op, ops.RecordPolicy):
        return (yield from _record_policy(op))
    if isinstance(op, ops.DrawWallet):
        params = {"customer_id": op.customer_id, "amount": op.amount, "now": op.now}
        ((drawn, had),) = yield DRAW_WALLET, params
        return ops.WalletDrawn(ok=drawn == 1, had=int(had or 0))
    if isinstance(op, ops.CreditWallet):
        ((balance, lines),) = yield CREDIT_WALLET, credit_params(op)
        if balance is not None and lines != CREDIT_LINES:
            # an account of the journal was made by a concurrent credit after the snapshot
            raise ReadChanged("a ledger account of this wallet credit was made concurrently")
        return None if balance is None else int(balance)
    if isinstance(op, ops.ReadPending):
        ((ti, base_date, ken, *group),) = yield READ_PENDING, {"meter_id": op.meter_id}
        return ops.Pending(group=GroupRow.of(group), ken=ken, ti=ti, base_date=base_date)
    if isinstance(op, ops.MoveKeys):
        yield MOVE_KEYS, asdict(op)  # its fields are the statement's parameters
        return None
    raise TypeError(f"no statement answers {op!r}")  # pragma: no cover


def _lock(op: ops.Lock) -> Plan:
    params = store_pg.lock_params(
        op.number,
        channel=op.channel,
        key=op.key,
        now=op.now,
        month_start=op.month_start,
        operator_id=op.operator_id,
    )
    principal = None
    if op.operator_id is not None:
        rows = yield store_pg.LOCK, params
        columns = rows[0] if len(rows) == 1 else None
    else:
        if op.token_hash is not None:
            params["token_hash"] = op.token_hash
            rows = yield AUTH_LOCK, params
        else:
            params["username"] = op.username
            rows = yield SELLER_LOCK, params
        if not rows:
            return ops.Locked(meter=None)
        principal = PrincipalRow(*rows[0][:_PRINCIPAL_COLUMNS])
        columns = rows[0][_PRINCIPAL_COLUMNS:] if len(rows) == 1 else None
    if columns is None or columns[0] is None:  # no such meter, or a DRN naming several
        return ops.Locked(meter=None, principal=principal)
    meter = store_pg.locked_from_row(columns)
    if meter.month_units_stale:
        rows = yield store_pg.MONTH_UNITS, {"meter_id": meter.id, "month_start": op.month_start}
        meter = store_pg.with_month_units(meter, rows[0])
    return ops.Locked(meter=meter, principal=principal)


def _stored(rows: Rows) -> ops.StoredSale | None:
    if not rows:
        return None
    sale_id, fp, response, status, cancelled_at = rows[0]
    if isinstance(response, str):  # asyncpg hands json over as text
        response = orjson.loads(response)
    return ops.StoredSale(
        id=sale_id,
        fingerprint=fp,
        response=response,
        status=status,
        cancelled_at=None if cancelled_at is None else cancelled_at.astimezone(UTC),
    )


def _read_policy(op: ops.ReadPolicy) -> Plan:
    ((debt,),) = yield LOCK_CUSTOMER, {"customer_id": op.customer_id}
    month = policies.month_of(op.now)
    rows = yield READ_POLICY, {"customer_id": op.customer_id, "month": month}
    if not rows:
        return None
    kind, amount, bp, lo, hi, asked, owed, free_litres, free_money, granted = rows[0]
    state: PolicyState = policies.state_of(
        customer_id=op.customer_id,
        debt=debt,
        month=month,
        plan=policies.plan_from(kind, amount, bp, lo, hi),
        emergency_asked=asked,
        emergency_owed=owed,
        free_litres=free_litres,
        free_money=free_money,
        granted=granted,
    )
    return state


def _record_policy(op: ops.RecordPolicy) -> Plan:
    r = policies.recorded(op.priced, op.sale_id)
    litres, money, value = r.grant if r.grant is not None else (None, None, 0)
    rows = yield (
        RECORD_POLICY,
        {
            "customer_id": op.priced.state.customer_id,
            "month": op.priced.state.month,
            "sale_id": op.sale_id,
            "free": r.grant is not None,
            "litres": litres,
            "money": money,
            "value": value,
            "asked": r.asked,
            "repaid": r.repaid,
            "given": r.given,
            "created_at": op.now,
            **store_pg.journal_params(r.journal, r.memo),
        },
    )
    if rows[0][0] != len(r.journal):
        # an account of the journal was made by a concurrent sale after the snapshot
        raise ReadChanged("a ledger account of this sale was made concurrently")
    return None


def drive(plan: Plan, fetch: Callable[[str, dict[str, Any]], Rows]) -> Any:
    """Run one answer's statements with a blocking ``fetch``."""
    try:
        query = next(plan)
        while True:
            query = plan.send(fetch(*query))
    except StopIteration as done:
        return done.value


class PgSaleStore:
    """:class:`.ops.SaleStore` on PostgreSQL: a caller's session, psycopg prepared
    statements straight on its connection (:mod:`stsgas.vending.kit.pgraw`)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.conn: Connection = session.connection()

    def _fetch(self, sql: str, params: dict[str, Any]) -> Rows:
        return pgraw.fetch(self.conn, sql, params)

    def do(self, op: ops.Op) -> Any:
        """The answer to one of the sale's requests."""
        if isinstance(op, ops.AfterSale):
            after_sale.sold(self.session, op.receipt)  # its token SMS once committed
            return None
        return drive(answer(op), self._fetch)
