"""What a sale reads and writes of a customer's credit policy (the caller's transaction).

:func:`read` locks the customer's row first, so two sales of one customer (on two
meters, on two channels) take their policy one after the other: the second reads
the free gas as given and the debt as already reduced. :func:`record` writes what
the sale did: the month's free-gas grant (a unique index makes it once per month
even without the lock), the advance as debt, the repayment, and one balanced
journal for the gas given (free or on credit).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, delete, select, update
from sqlalchemy.orm import Session

from stsgas.vending.kit import localtime
from stsgas.vending.kit.money import currency_decimals, parse_money
from stsgas.vending.kit.volume import LITRES_PER_UNIT
from stsgas.vending.ledger import service as ledger
from stsgas.vending.models import (
    Account,
    Customer,
    CustomerClass,
    CustomerPolicy,
    FreeGasGrant,
    LedgerEntry,
)
from stsgas.vending.policies.rules import (
    EMERGENCY_GIVEN,
    EMERGENCY_REPAID,
    FREE_GAS,
    DebtPlan,
    PolicyPriced,
    PolicyState,
)
from stsgas.vending.sales.receipt_parts import ReceiptPolicyLine


def month_of(now: datetime) -> str:
    """The utility's calendar month of ``now`` (``STSGAS_TIMEZONE``) as ``YYYY-MM``."""
    zone = localtime.vending_zone.get()
    return localtime.local_date(now, zone).strftime("%Y-%m")


def plan_of(policy: CustomerPolicy) -> DebtPlan | None:
    """The policy's debt plan, if it has one."""
    return plan_from(
        policy.plan_kind, policy.plan_amount, policy.plan_bp, policy.plan_min, policy.plan_max
    )


def plan_from(
    kind: str | None, amount: int | None, bp: int | None, lo: int | None, hi: int | None
) -> DebtPlan | None:
    """A debt plan from its columns (None: no plan)."""
    if kind is None:
        return None
    return DebtPlan(kind=kind, amount=amount, bp=bp, min=lo, max=hi)


def state_of(
    *,
    customer_id: int,
    debt: int,
    month: str,
    plan: DebtPlan | None,
    emergency_asked: int,
    emergency_owed: int,
    free_litres: int | None,
    free_money: int | None,
    granted: bool,
) -> PolicyState:
    """The policy as a sale reads it: the class's free gas is due unless this month's
    grant exists (whichever store read the columns)."""
    due = not granted and bool(free_litres or free_money)
    return PolicyState(
        customer_id=customer_id,
        debt=int(debt),
        month=month,
        free_litres=free_litres if due else None,
        free_money=free_money if due else None,
        emergency_asked=emergency_asked,
        emergency_owed=emergency_owed,
        plan=plan,
    )


def read(session: Session, customer_id: int, now: datetime) -> PolicyState | None:
    """Lock the customer and read its policy (None when it has none)."""
    debt = session.execute(
        select(Customer.debt_balance).where(Customer.id == customer_id).with_for_update()
    ).scalar_one()
    policy = session.get(CustomerPolicy, customer_id, populate_existing=True)
    if policy is None:
        return None
    month = month_of(now)
    klass = None if policy.class_id is None else session.get(CustomerClass, policy.class_id)
    granted = (
        session.execute(
            select(FreeGasGrant.id).where(
                FreeGasGrant.customer_id == customer_id, FreeGasGrant.month == month
            )
        ).first()
        is not None
    )
    return state_of(
        customer_id=customer_id,
        debt=debt,
        month=month,
        plan=plan_of(policy),
        emergency_asked=policy.emergency_asked,
        emergency_owed=policy.emergency_owed,
        free_litres=None if klass is None else klass.free_litres,
        free_money=None if klass is None else klass.free_money,
        granted=granted,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Recorded:
    """What :func:`record` writes for a sale, worked out once for every store."""

    #: the month's free-gas grant (None: none given): litres or money, and its value
    grant: tuple[int | None, int | None, int] | None
    #: the emergency credit given now (becomes debt), and the asked amount it uses up
    given: int
    asked: int
    repaid: int
    #: the journal of gas given (free or on credit), zero lines dropped, balanced
    journal: list[ledger.Line]
    memo: str


def recorded(priced: PolicyPriced, sale_id: int) -> Recorded:
    """What a sale under a policy writes (:func:`record` on the ORM, the PostgreSQL
    statement of ``sales.pg``)."""
    state = priced.state
    free = priced.line(FREE_GAS)
    grant = None
    if free is not None:
        litres = None if free.units is None else free.units * LITRES_PER_UNIT
        grant = (litres, None if free.units is not None else free.amount, free.amount)
    given = 0 if priced.advance is None else priced.advance.paid
    lines: list[ledger.Line] = []
    if priced.free_value:
        lines += [
            ledger.Line(account=ledger.FREE_GAS, debit=priced.free_value),
            ledger.Line(account=ledger.REVENUE_GAS, credit=priced.free_value),
        ]
    if priced.advance is not None:
        lines += [
            ledger.Line(account=ledger.CUSTOMER_DEBT, debit=priced.advance.paid),
            ledger.Line(account=ledger.REVENUE_GAS, credit=priced.advance.energy_amount),
            ledger.Line(account=ledger.TAX, credit=priced.advance.tax),
        ]
    lines = [ln for ln in lines if ln.debit or ln.credit]
    memo = memo_of(sale_id)
    ledger.check_balanced(lines, memo)
    return Recorded(
        grant=grant,
        given=given,
        asked=state.emergency_asked if given else 0,
        repaid=priced.emergency_repaid,
        journal=lines,
        memo=memo,
    )


def record(session: Session, priced: PolicyPriced, *, sale_id: int, now: datetime) -> None:
    """Write what the sale did to the customer's policy, and its journal."""
    customer_id = priced.state.customer_id
    r = recorded(priced, sale_id)
    if r.grant is not None:
        litres, money, value = r.grant
        session.add(
            FreeGasGrant(
                customer_id=customer_id,
                month=priced.state.month,
                sale_id=sale_id,
                litres=litres,
                money=money,
                value=value,
                created_at=now,
            )
        )
    if r.given or r.repaid:
        session.execute(
            update(CustomerPolicy)
            .where(CustomerPolicy.customer_id == customer_id)
            .values(
                emergency_asked=CustomerPolicy.emergency_asked - r.asked,
                emergency_owed=CustomerPolicy.emergency_owed - r.repaid + r.given,
                updated_at=now,
            )
        )
    if r.given:
        session.execute(
            update(Customer)
            .where(Customer.id == customer_id)
            .values(debt_balance=Customer.debt_balance + r.given)
        )
    if r.journal:
        ledger.post(session, r.journal, sale_id=None, memo=r.memo)
    session.flush()


def undo(session: Session, sale_id: int, customer_id: int | None, receipt: Any) -> None:
    """Take back what a cancelled sale did under a credit policy (its journal of gas
    given is reversed, its month's free gas may be given again, an advance it gave is
    no longer owed, an emergency repayment it took is owed again). The sale's own
    debt recovery is put back by the cancel itself. ``receipt`` is the sale's stored
    receipt body; its policy lines are read as the receipt's typed lines."""
    policy_lines = _policy_lines(receipt)
    if customer_id is None or not policy_lines:
        return
    session.execute(delete(FreeGasGrant).where(FreeGasGrant.sale_id == sale_id))
    given = session.execute(
        select(LedgerEntry.debit, LedgerEntry.credit, Account.code)
        .join(Account, Account.id == LedgerEntry.account_id)
        .where(LedgerEntry.sale_id.is_(None), LedgerEntry.memo == memo_of(sale_id))
    ).all()
    if given:
        lines = [ledger.Line(account=code, debit=d, credit=c) for d, c, code in given]
        ledger.post(session, ledger.reverse(lines), sale_id=None, memo=f"cancel {memo_of(sale_id)}")
    decimals = currency_decimals.get()
    amounts = {ln.kind: parse_money(format(ln.amount, "f"), decimals) for ln in policy_lines}
    policy = session.get(CustomerPolicy, customer_id, with_for_update=True)
    if policy is None:
        return
    advanced = min(amounts.get(EMERGENCY_GIVEN, 0), policy.emergency_owed)
    policy.emergency_owed += amounts.get(EMERGENCY_REPAID, 0) - advanced
    if advanced:
        session.execute(
            update(Customer)
            .where(Customer.id == customer_id)
            .values(
                debt_balance=case(
                    (Customer.debt_balance >= advanced, Customer.debt_balance - advanced),
                    else_=0,
                )
            )
        )
    session.flush()


def _policy_lines(receipt: object) -> tuple[ReceiptPolicyLine, ...]:
    """The policy lines of a stored receipt body (none when it has none)."""
    if not isinstance(receipt, Mapping):
        return ()
    return tuple(ReceiptPolicyLine.from_json(ln) for ln in receipt.get("policy_lines") or ())


def memo_of(sale_id: int) -> str:
    """The memo of the journal of gas a sale gave under a policy."""
    return f"sale {sale_id}: credit policies"
