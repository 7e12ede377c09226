"""Post balanced journals. Every movement of money is debits = credits (V5).

Account codes used by sales:

- ``vendor:<id>:float`` (liability: money a vendor prepaid, drawn down by sales),
- ``clearing:<channel>`` (asset: money taken by a channel without a vendor float),
- ``customer:<id>:wallet`` (liability: money a customer prepaid, drawn down by the
  sales it pays for), ``clearing:mobile`` (asset: money held at the mobile-money provider),
- ``revenue:gas``, ``revenue:fixed``, ``liability:tax``, ``asset:customer_debt``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from stsgas.vending.kit.entropy import journal_id
from stsgas.vending.ledger.repository import AccountRepository, LedgerRepository
from stsgas.vending.models import AccountKind, LedgerEntry

REVENUE_GAS = "revenue:gas"
REVENUE_FIXED = "revenue:fixed"
TAX = "liability:tax"
CUSTOMER_DEBT = "asset:customer_debt"
#: free basic gas given (a contra-revenue: debited with the gas's tariff value)
FREE_GAS = "revenue:free_gas"
#: money received by mobile money, held at the provider until it settles
MOBILE_CLEARING = "clearing:mobile"

_KINDS = {
    REVENUE_GAS: (AccountKind.REVENUE, "Gas sales"),
    REVENUE_FIXED: (AccountKind.REVENUE, "Fixed charges"),
    TAX: (AccountKind.LIABILITY, "Tax collected"),
    CUSTOMER_DEBT: (AccountKind.ASSET, "Customer debt"),
    FREE_GAS: (AccountKind.REVENUE, "Free basic gas given"),
}


class UnbalancedJournal(ValueError):
    """A journal whose debits and credits differ: a programming error, never stored."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Line:
    """One side of a journal; exactly one of debit/credit is positive."""

    account: str
    debit: int = 0
    credit: int = 0


def vendor_float_account(vendor_id: int) -> str:
    """The ledger code of a vendor's float."""
    return f"vendor:{vendor_id}:float"


def clearing_account(channel: str) -> str:
    """The ledger code of money taken by a channel with no vendor float."""
    return f"clearing:{channel}"


def wallet_account(customer_id: int) -> str:
    """The ledger code of a customer's wallet."""
    return f"customer:{customer_id}:wallet"


def account_spec(code: str) -> tuple[AccountKind, str, int | None]:
    """The kind, name and vendor of account ``code`` (how it is made when missing)."""
    if code in _KINDS:
        kind, name = _KINDS[code]
        return kind, name, None
    if code.startswith("vendor:"):
        return AccountKind.LIABILITY, "Vendor float", int(code.split(":")[1])
    if code.startswith("customer:"):
        return AccountKind.LIABILITY, "Customer wallet", None
    return AccountKind.ASSET, "Clearing", None


def check_balanced(lines: list[Line], memo: str) -> None:
    """Raise :class:`UnbalancedJournal` unless debits equal credits."""
    if sum(ln.debit for ln in lines) != sum(ln.credit for ln in lines):
        raise UnbalancedJournal(f"journal {memo!r} does not balance: {lines}")


def ensure_account(session: Session, code: str) -> int:
    """The id of account ``code``, created on first use (a racing creator's row wins)."""
    kind, name, vendor_id = account_spec(code)
    acc = AccountRepository(session).get_or_create(code, kind=kind, name=name, vendor_id=vendor_id)
    session.flush()
    return acc.id


def post(session: Session, lines: list[Line], *, sale_id: int | None, memo: str) -> str:
    """Insert one balanced journal (zero lines dropped); returns its journal id."""
    lines = [ln for ln in lines if ln.debit or ln.credit]
    check_balanced(lines, memo)
    accounts = AccountRepository(session)
    known = accounts.by_codes({ln.account for ln in lines})
    journal = journal_id()
    rows = []
    for ln in lines:
        acc = known.get(ln.account)
        if acc is None:
            kind, name, vendor_id = account_spec(ln.account)
            acc = accounts.get_or_create(ln.account, kind=kind, name=name, vendor_id=vendor_id)
            known[ln.account] = acc
        rows.append(
            LedgerEntry(
                journal=journal,
                account_id=acc.id,
                sale_id=sale_id,
                debit=ln.debit,
                credit=ln.credit,
                memo=memo[:200],
            )
        )
    LedgerRepository(session).add_all(rows)
    return journal


def reverse(lines: list[Line]) -> list[Line]:
    """The reversal of a journal: debits become credits and back."""
    return [Line(account=ln.account, debit=ln.credit, credit=ln.debit) for ln in lines]


@dataclass(frozen=True, slots=True, kw_only=True)
class FloatMove:
    """One movement of a vendor's float: in (top-up, refund) or out (a sale)."""

    id: int
    at: datetime
    amount: int  #: minor units; positive in, negative out
    balance: int  #: the float after this movement, in minor units
    sale_id: int | None
    memo: str


def float_history(
    session: Session,
    vendor_id: int,
    *,
    now_balance: int,
    limit: int = 100,
    before_id: int | None = None,
) -> list[FloatMove]:
    """Newest first: the movements of a vendor's float with the balance after each,
    counted back from ``now_balance`` (the vendor's float as it stands)."""
    return liability_history(
        session,
        vendor_float_account(vendor_id),
        now_balance=now_balance,
        limit=limit,
        before_id=before_id,
    )


def liability_history(
    session: Session,
    code: str,
    *,
    now_balance: int,
    limit: int = 100,
    before_id: int | None = None,
) -> list[FloatMove]:
    """Newest first: the movements of a liability account held for someone (a
    vendor's float, a customer's wallet) with the balance after each, counted back
    from ``now_balance`` (the balance as it stands)."""
    lines, newer = LedgerRepository(session).account_lines(code, limit=limit, before_id=before_id)
    balance = now_balance - newer
    moves = []
    for ln in lines:
        amount = ln.credit - ln.debit  # a liability: a credit raises it
        moves.append(
            FloatMove(
                id=ln.id,
                at=ln.created_at,
                amount=amount,
                balance=balance,
                sale_id=ln.sale_id,
                memo=ln.memo,
            )
        )
        balance -= amount
    return moves
