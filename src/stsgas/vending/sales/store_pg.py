"""The sale's SQL on PostgreSQL: one statement to read, one to write.

The two requests every sale makes (:mod:`.ops` ``Lock`` and ``Write``), as
text for both drivers: :mod:`.pg` runs them on psycopg (prepared statements,
no result metadata to build) and on asyncpg, so a sale's own SQL is
lock-and-read, then write; here too the rows' decoding and the statements'
parameters.

The write is a chain of data-modifying CTEs; PostgreSQL runs them as one
statement and checks the foreign keys at its end, so tokens and journal
lines may name the sale inserted beside them. The sale id comes from the
table's sequence in the read, so the stored receipt can carry it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

import orjson

from stsgas.vending.kit.entropy import journal_id
from stsgas.vending.ledger import service as ledger
from stsgas.vending.models import FixedChargePeriod, MeterMode
from stsgas.vending.sales.rows import (
    GroupRow,
    LockedMeter,
    SaleWrite,
    VersionRow,
    Written,
    steps_of,
)

_LOCK_SELECT = """
SELECT m.id, m.pan, m.mode, m.status, m.supply_group_id, m.ti, m.ken, m.base_date, m.last_tid,
       m.sales_head, (m.pending_supply_group_id IS NOT NULL OR m.pending_ti IS NOT NULL
        OR m.pending_base_date IS NOT NULL),
       g.sgc, g.krn, g.key_type, g.ea, g.dkga, g.vending_key_enc, g.key_expires_at, g.is_active,
       m.recharge_limit, c.id, c.debt_balance,
       v.id, v.fixed_charge, v.tax_rate_bp, v.debt_recovery_bp, v.fixed_charge_period,
       (SELECT json_agg(json_build_array(s.up_to_litres, s.price_per_m3) ORDER BY s.position)
          FROM tariff_steps s WHERE s.tariff_version_id = v.id),
       (SELECT s.id FROM sales s WHERE s.operator_id = %(operator_id)s AND s.channel = %(channel)s
          AND s.idempotency_key = %(key)s),
       nextval(pg_get_serial_sequence('sales', 'id')),
       CASE WHEN m.mode = 'volume' THEN (
           SELECT coalesce(sum(s.credit_units), 0) FROM sales s
           WHERE s.meter_id = m.id AND s.created_at >= %(month_start)s
             AND s.status = 'completed') ELSE 0 END,
       CASE WHEN v.fixed_charge_period = 'month' THEN (
           SELECT max(s.created_at) FROM sales s
           WHERE s.meter_id = m.id AND s.status = 'completed' AND s.fixed_months > 0) END,
       (SELECT m0.last_tid FROM meters m0 WHERE m0.id = m.id) IS DISTINCT FROM m.last_tid,
       EXISTS (SELECT 1 FROM customer_policies p WHERE p.customer_id = c.id)
"""
#: the meter locked in a subquery, then joined: a sale that waited on the meter gets its
#: row as the sale ahead left it, and ``g`` is then that row's supply group (with ``FOR
#: UPDATE OF m`` on the join, PostgreSQL rechecks the join against the supply group row
#: read before the wait, and a key change ahead made the meter vanish)
_LOCK_FROM = """
FROM (SELECT * FROM meters WHERE pan = %(number)s FOR UPDATE) m
JOIN supply_groups g ON g.id = m.supply_group_id
LEFT JOIN customer_meters cm ON cm.meter_id = m.id AND cm.active = 1
LEFT JOIN customers c ON c.id = cm.customer_id
LEFT JOIN LATERAL (
    SELECT tv.id, tv.fixed_charge, tv.tax_rate_bp, tv.debt_recovery_bp, tv.fixed_charge_period
    FROM tariff_versions tv
    WHERE tv.tariff_id = m.tariff_id AND tv.effective_from <= %(now)s
    ORDER BY tv.effective_from DESC LIMIT 1
) v ON true
"""
_LOCK = _LOCK_SELECT + _LOCK_FROM
#: the month's units and the last monthly fixed charge paid again, in a statement of
#: their own (so with a fresh snapshot)
MONTH_UNITS = """
SELECT coalesce(sum(credit_units) FILTER (WHERE created_at >= %(month_start)s), 0),
       max(created_at) FILTER (WHERE fixed_months > 0)
FROM sales WHERE meter_id = %(meter_id)s AND status = 'completed'
"""
#: the lock-and-read statement: the meter by its PAN (``meters.resolve``: every spelling
#: of a meter number is turned into its PAN before the sale reads)
LOCK = _LOCK


def known_id(line: str) -> str:
    """SQL for the id of the account whose code is ``{line}.code``, if the statement's
    snapshot sees it: one probe of the unique code's index. (A join of the lines to
    every account was planned as a scan of the whole table, the planner expecting 100
    lines from JSON, and the accounts grow with the customers: each has a wallet.)"""
    return f"(SELECT a.id FROM accounts a WHERE a.code = {line}.code)"


def account_id(line: str, made: str) -> str:
    """SQL for a line's account id: the one it found (``{line}.id``, :func:`known_id`),
    else the one CTE ``made`` makes in this statement (the statement's snapshot does not
    see that row in ``accounts``). The second probe runs only for a missing account."""
    return f"coalesce({line}.id, (SELECT m.id FROM {made} m WHERE m.code = {line}.code))"


#: a journal's lines (``%(lines)s``: JSON, :func:`journal_params`) into ``ledger_entries``
#: of sale ``{sale_id}``, making any account still missing; ``led`` counts the lines (a
#: line whose account a concurrent statement made after this one's snapshot is left out,
#: and the caller retries on the count). ``lines`` is read twice, so PostgreSQL keeps its
#: rows: each line's account is looked up once, whether or not it exists.
JOURNAL = (
    """lines AS (
    SELECT l.*, """
    + known_id("l")
    + """ AS id FROM json_to_recordset(%(lines)s::json)
        AS l(code text, kind text, name text, vendor_id bigint, debit bigint, credit bigint)),
acc AS (
    INSERT INTO accounts (code, name, kind, vendor_id, created_at)
    SELECT l.code, l.name, l.kind, l.vendor_id, %(created_at)s FROM lines l
    WHERE l.id IS NULL
    ON CONFLICT (code) DO NOTHING
    RETURNING id, code),
led AS (
    INSERT INTO ledger_entries (journal, account_id, sale_id, debit, credit, memo, created_at)
    SELECT %(journal)s, x.id, {sale_id}, x.debit, x.credit, %(memo)s, %(created_at)s
    FROM (SELECT """
    + account_id("l", "acc")
    + """ AS id, l.debit, l.credit FROM lines l) x
    WHERE x.id IS NOT NULL
    RETURNING 1)
"""
)

WRITE = (
    """
WITH
cust AS (
    UPDATE customers SET debt_balance = debt_balance - %(debt)s,
        rate_count = CASE WHEN rate_window = %(hour)s THEN rate_count + 1 ELSE 1 END,
        rate_window = %(hour)s
    WHERE id = %(customer_id)s AND debt_balance >= %(debt)s
    RETURNING rate_count),
vend AS (
    UPDATE vendors SET float_balance = float_balance - %(paid)s,
        rate_count = CASE WHEN rate_window = %(minute)s THEN rate_count + 1 ELSE 1 END,
        rate_window = %(minute)s
    WHERE id = %(vendor_id)s AND float_balance >= %(paid)s
    RETURNING rate_count, sales_per_minute),
mtr AS (
    UPDATE meters SET last_tid = %(tid)s, sales_head = %(head)s, updated_at = %(created_at)s
    WHERE id = %(meter_id)s AND %(tid)s::bigint IS NOT NULL),
sale AS (
    INSERT INTO sales (id, channel, operator_id, vendor_id, meter_id, customer_id,
        tariff_version_id, amount_paid, fixed_charge, fixed_months, debt_recovered, tax,
        energy_amount,
        credit_units, credit_money, tariff_steps, key_change, status, idempotency_key,
        request_fingerprint, response, chain_hash, reprint_count, created_at, paid_from)
    VALUES (%(id)s, %(channel)s, %(operator_id)s, %(vendor_id)s, %(meter_id)s,
        %(customer_id)s, %(tariff_version_id)s, %(amount_paid)s, %(fixed_charge)s,
        %(fixed_months)s, %(debt_recovered)s, %(tax)s, %(energy_amount)s, %(credit_units)s,
        %(credit_money)s,
        %(tariff_steps)s::json, %(key_change)s, %(status)s, %(idempotency_key)s,
        %(request_fingerprint)s, %(response)s::json, %(chain_hash)s, 0, %(created_at)s,
        %(paid_from)s)),
tok AS (
    INSERT INTO tokens (sale_id, meter_id, kind, sequence, token_class, subclass, tid, amount,
        digits, created_at)
    SELECT %(id)s, %(meter_id)s, t.kind, t.sequence, t.token_class, t.subclass, t.tid,
        t.amount, t.digits, %(created_at)s
    FROM json_to_recordset(%(tokens)s::json) AS t(kind text, sequence int, token_class int,
        subclass int, tid bigint, amount bigint, digits text)),
"""
    + JOURNAL.format(sale_id="%(id)s")
    + """SELECT (SELECT count(*) FROM cust), (SELECT max(rate_count) FROM cust),
       (SELECT count(*) FROM vend), (SELECT max(rate_count) FROM vend),
       (SELECT max(sales_per_minute) FROM vend), (SELECT count(*) FROM led)
"""
)


_TOKEN_FIELDS = ("kind", "sequence", "token_class", "subclass", "tid", "amount", "digits")


def lock_params(
    number: str,
    *,
    channel: str,
    key: str | None,
    now: datetime,
    month_start: datetime,
    operator_id: int | None = None,
) -> dict[str, Any]:
    """The lock statement's parameters (an idempotency key is the operator's own:
    the replay it finds is among ``operator_id``'s sales)."""
    return {
        "number": number,
        "now": now,
        "channel": channel,
        "key": key,
        "operator_id": operator_id,
        "month_start": month_start,
    }


def locked_from_row(row: Sequence[Any]) -> LockedMeter:
    """A :class:`LockedMeter` from the lock statement's columns (either driver)."""
    (
        mid,
        pan,
        mode,
        status,
        group_id,
        ti,
        ken,
        base_date,
        last_tid,
        head,
        needs_kc,
        sgc,
        krn,
        key_type,
        ea,
        dkga,
        key_enc,
        key_expires_at,
        group_active,
        recharge_limit,
        customer_id,
        debt,
        version_id,
        fixed_charge,
        tax_bp,
        debt_bp,
        period,
        steps,
        replay_id,
        sale_id,
        month_units,
        fixed_paid_at,
        behind,
        credit_policy,
    ) = row
    version = None
    if version_id is not None:
        if isinstance(steps, str):  # asyncpg hands json over as text
            steps = orjson.loads(steps)
        version = VersionRow(
            id=version_id,
            fixed_charge=fixed_charge,
            tax_rate_bp=tax_bp,
            debt_recovery_bp=debt_bp,
            fixed_charge_period=period,
            steps=steps_of(steps or []),
        )
    return LockedMeter(
        id=mid,
        pan=pan,
        mode=mode,
        status=status,
        ti=ti,
        ken=ken,
        base_date=base_date,
        last_tid=last_tid,
        sales_head=head,
        needs_key_change=needs_kc,
        group=GroupRow.of(
            (group_id, sgc, krn, key_type, ea, dkga, key_enc, key_expires_at, group_active)
        ),
        customer_id=customer_id,
        customer_debt=int(debt or 0),
        version=version,
        replay_id=replay_id,
        sale_id=sale_id,
        month_units=int(month_units or 0),
        month_units_stale=bool(behind)
        and (mode == MeterMode.VOLUME.value or period == FixedChargePeriod.MONTH.value),
        recharge_limit=recharge_limit,
        fixed_paid_at=fixed_paid_at,
        credit_policy=bool(credit_policy),
    )


def with_month_units(meter: LockedMeter, row: Sequence[Any]) -> LockedMeter:
    """The meter with its month's units and last monthly fixed charge read afresh
    (:data:`MONTH_UNITS`'s row)."""
    units, paid_at = row
    version = meter.version
    monthly = version is not None and version.fixed_charge_period == FixedChargePeriod.MONTH.value
    return replace(
        meter,
        month_units=int(units or 0) if meter.mode == MeterMode.VOLUME.value else 0,
        fixed_paid_at=paid_at if monthly else None,
        month_units_stale=False,
    )


def write_params(w: SaleWrite) -> dict[str, Any]:
    """The write statement's parameters; row sets travel as one JSON text each
    (cheaper to send than seven arrays)."""
    s = w.sale
    return {
        **s,
        "tariff_steps": orjson.dumps(s["tariff_steps"]).decode(),
        "response": orjson.dumps(s["response"]).decode(),
        "debt": w.debt_recovered,
        "hour": w.hour,
        "minute": w.minute,
        "paid": w.paid,
        "tid": w.last_tid,
        "head": w.sales_head,
        "tokens": orjson.dumps([{k: t[k] for k in _TOKEN_FIELDS} for t in w.tokens]).decode(),
        "journal": w.journal[0]["journal"],
        "memo": w.journal[0]["memo"],
        "lines": orjson.dumps([_line(ln) for ln in w.journal]).decode(),
    }


def journal_params(lines: list[ledger.Line], memo: str) -> dict[str, Any]:
    """:data:`JOURNAL`'s parameters for a journal of its own (no sale row)."""
    return {
        "journal": journal_id(),
        "memo": memo[:200],
        "lines": orjson.dumps(
            [_line({"code": ln.account, "debit": ln.debit, "credit": ln.credit}) for ln in lines]
        ).decode(),
    }


def _line(line: dict[str, Any]) -> dict[str, Any]:
    """A journal line with what its account is made of, should it be missing."""
    kind, name, vendor_id = ledger.account_spec(line["code"])
    return {
        "code": line["code"],
        "kind": kind.value,
        "name": name,
        "vendor_id": vendor_id,
        "debit": line["debit"],
        "credit": line["credit"],
    }


def written_from_row(row: Sequence[Any], w: SaleWrite) -> Written:
    """What the write statement's counters say."""
    c_n, c_count, v_n, v_count, v_limit, lines = row
    return Written(
        customer_ok=w.customer_id is None or c_n == 1,
        customer_count=int(c_count or 0),
        vendor_ok=w.vendor_id is None or v_n == 1,
        vendor_count=int(v_count or 0),
        vendor_limit=v_limit,
        journal_complete=lines == len(w.journal),
    )
