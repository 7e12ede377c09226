"""Report rules: what each report contains, and the reconciliation verdict (V5)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import UTC, date, tzinfo
from typing import Any

from sqlalchemy.orm import Session

from stsgas.sts import GAS_UNIT
from stsgas.vending.errors import MeterNotFound
from stsgas.vending.kit import localtime
from stsgas.vending.ledger.repository import LedgerRepository
from stsgas.vending.meters import resolve
from stsgas.vending.reports import repository as repo
from stsgas.vending.sales import chain
from stsgas.vending.sales.receipt_money import money
from stsgas.vending.wallet import repository as wallets


def daily(session: Session, day: date, tz: tzinfo = UTC) -> list[dict[str, Any]]:
    """Sales of one local day (midnight to midnight in ``tz``) by channel, vendor and
    status."""
    start, end = localtime.day_bounds(day, tz)
    rows = repo.daily_totals(session, start, end)
    return [
        {
            "date": day.isoformat(),
            "channel": ch,
            "vendor_id": vendor,
            "status": status,
            "sales": int(n),
            "amount_paid": money(int(paid)),
            "fixed_charge": money(int(fixed)),
            "debt_recovered": money(int(debt)),
            "tax": money(int(tax)),
            "energy_amount": money(int(energy)),
            "units_credited": str((int(units) * GAS_UNIT).quantize(GAS_UNIT)),
        }
        for ch, vendor, status, n, paid, fixed, debt, tax, energy, units in rows
    ]


def meter_history(session: Session, meter_number: str) -> list[dict[str, Any]]:
    """Every token a meter was given, oldest first, with what it came from."""
    meter = resolve.find(session, meter_number)
    if meter is None:
        raise MeterNotFound(f"no meter {meter_number}")
    out = []
    for tok, sale, req in repo.meter_tokens(session, meter.id):
        out.append(
            {
                "time": tok.created_at.isoformat(timespec="seconds"),
                "kind": tok.kind,
                "tid": tok.tid,
                "digits": tok.digits,
                "amount": tok.amount,
                "sale_id": sale.id if sale is not None else None,
                "sale_status": sale.status if sale is not None else None,
                "amount_paid": money(sale.amount_paid) if sale is not None else None,
                "management_request_id": req.id if req is not None else None,
                "management_kind": req.kind if req is not None else None,
            }
        )
    return out


def reconciliation(session: Session) -> dict[str, Any]:
    """Money against tokens and the ledger; ``ok`` only when every check holds."""
    ledger = LedgerRepository(session)
    debit, credit = ledger.totals()
    unbalanced = ledger.unbalanced_journals()
    taken = repo.sale_money(session)
    no_token = repo.sales_without_one_credit_token(session)
    wrong_journal = repo.sales_with_wrong_journal(session)
    broken_chains = chain.broken_meters(session)
    wallets_off = wallets.off_ledger(session)
    balances = [
        {"account": code, "kind": kind, "debit": money(d), "credit": money(c)}
        for code, kind, d, c in ledger.balances()
    ]
    return {
        "ok": debit == credit
        and not unbalanced
        and not no_token
        and not wrong_journal
        and not broken_chains
        and not wallets_off,
        "ledger_debits": money(debit),
        "ledger_credits": money(credit),
        "unbalanced_journals": unbalanced,
        "sales_completed": money(taken.get("completed", 0)),
        "sales_cancelled": money(taken.get("cancelled", 0)),
        "credit_tokens": repo.credit_token_count(session),
        "sales_without_one_credit_token": no_token,
        "sales_with_wrong_journal": wrong_journal,
        "meters_with_broken_sales_chain": broken_chains,
        "wallets_off_ledger": wallets_off,
        "accounts": balances,
    }


def to_csv(rows: Sequence[dict[str, Any]]) -> str:
    """Rows as CSV with a header (empty string when there are no rows)."""
    if not rows:
        return ""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()
