"""SQL of the reports (read-only aggregates)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from stsgas.vending.models import (
    LedgerEntry,
    ManagementRequest,
    Sale,
    SaleStatus,
    Token,
    TokenKind,
)


def daily_totals(session: Session, start: datetime, end: datetime) -> Sequence[Any]:
    """Per (channel, vendor, status): count and summed receipt items."""
    stmt = (
        select(
            Sale.channel,
            Sale.vendor_id,
            Sale.status,
            func.count(Sale.id),
            func.sum(Sale.amount_paid),
            func.sum(Sale.fixed_charge),
            func.sum(Sale.debt_recovered),
            func.sum(Sale.tax),
            func.sum(Sale.energy_amount),
            func.coalesce(func.sum(Sale.credit_units), 0),
        )
        .where(Sale.created_at >= start, Sale.created_at < end)
        .group_by(Sale.channel, Sale.vendor_id, Sale.status)
        .order_by(Sale.channel, Sale.vendor_id, Sale.status)
    )
    return session.execute(stmt).all()


def meter_tokens(session: Session, meter_id: int) -> Sequence[Any]:
    """Every token of a meter with its sale or management request, in issue order."""
    stmt = (
        select(Token, Sale, ManagementRequest)
        .outerjoin(Sale, Sale.id == Token.sale_id)
        .outerjoin(ManagementRequest, ManagementRequest.id == Token.management_request_id)
        .where(Token.meter_id == meter_id)
        .order_by(Token.id)
    )
    return session.execute(stmt).all()


def sale_money(session: Session) -> dict[str, int]:
    """Money taken by completed and by cancelled sales."""
    stmt = select(Sale.status, func.coalesce(func.sum(Sale.amount_paid), 0)).group_by(Sale.status)
    out = {s.value: 0 for s in SaleStatus}
    out.update({str(k): int(v) for k, v in session.execute(stmt)})
    return out


def sales_without_one_credit_token(session: Session) -> list[int]:
    """Sales that do not have exactly one credit token (should be none)."""
    credit = (
        select(Token.sale_id, func.count(Token.id).label("n"))
        .where(Token.kind == TokenKind.CREDIT.value, Token.sale_id.is_not(None))
        .group_by(Token.sale_id)
        .subquery()
    )
    stmt = (
        select(Sale.id)
        .outerjoin(credit, credit.c.sale_id == Sale.id)
        .where(func.coalesce(credit.c.n, 0) != 1)
        .order_by(Sale.id)
    )
    return [int(i) for i in session.execute(stmt).scalars()]


def sales_with_wrong_journal(session: Session) -> list[int]:
    """Sales whose ledger lines do not add up to their payment (once, twice if cancelled)."""
    lines = (
        select(LedgerEntry.sale_id, func.sum(LedgerEntry.debit).label("d"))
        .where(LedgerEntry.sale_id.is_not(None))
        .group_by(LedgerEntry.sale_id)
        .subquery()
    )
    stmt = select(Sale.id, Sale.status, Sale.amount_paid, func.coalesce(lines.c.d, 0)).outerjoin(
        lines, lines.c.sale_id == Sale.id
    )
    bad = []
    for sid, status, paid, debit in session.execute(stmt):
        times = 2 if status == SaleStatus.CANCELLED.value else 1
        if int(debit) != times * int(paid):
            bad.append(int(sid))
    return bad


def credit_token_count(session: Session) -> int:
    """Credit tokens issued."""
    stmt = select(func.count(Token.id)).where(Token.kind == TokenKind.CREDIT.value)
    return int(session.execute(stmt).scalar_one())
