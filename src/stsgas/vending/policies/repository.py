"""What a sale reads and writes of a customer's credit policy (the caller's transaction).

:func:`read` locks the customer's row first, so two sales of one customer (on two
meters, on two channels) take their policy one after the other: the second reads
the free gas as given and the debt as already reduced. :func:`record` writes what
the sale did: the month's free-gas grant (a unique index makes it once per month
even without the lock), the advance as debt, the repayment, and one balanced
journal for the gas given (free or on credit).
"""

from __future__ import annotations

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


def month_of(now: datetime) -> str:
    """The utility's calendar month of ``now`` (``STSGAS_TIMEZONE``) as ``YYYY-MM``."""
    zone = localtime.vending_zone.get()
    return localtime.local_date(now, zone).strftime("%Y-%m")


def plan_of(policy: CustomerPolicy) -> DebtPlan | None:
    """The policy's debt plan, if it has one."""
    if policy.plan_kind is None:
        return None
    return DebtPlan(
        kind=policy.plan_kind,
        amount=policy.plan_amount,
        bp=policy.plan_bp,
        min=policy.plan_min,
        max=policy.plan_max,
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
    free_litres = free_money = None
    klass = None if policy.class_id is None else session.get(CustomerClass, policy.class_id)
    if klass is not None and (klass.free_litres or klass.free_money):
        given = session.execute(
            select(FreeGasGrant.id).where(
                FreeGasGrant.customer_id == customer_id, FreeGasGrant.month == month
            )
        ).first()
        if given is None:
            free_litres, free_money = klass.free_litres, klass.free_money
    return PolicyState(
        customer_id=customer_id,
        debt=int(debt),
        month=month,
        free_litres=free_litres,
        free_money=free_money,
        emergency_asked=policy.emergency_asked,
        emergency_owed=policy.emergency_owed,
        plan=plan_of(policy),
    )


def record(session: Session, priced: PolicyPriced, *, sale_id: int, now: datetime) -> None:
    """Write what the sale did to the customer's policy, and its journal."""
    state = priced.state
    free = priced.line(FREE_GAS)
    if free is not None:
        session.add(
            FreeGasGrant(
                customer_id=state.customer_id,
                month=state.month,
                sale_id=sale_id,
                litres=None if free.units is None else free.units * LITRES_PER_UNIT,
                money=None if free.units is not None else free.amount,
                value=free.amount,
                created_at=now,
            )
        )
    given = 0 if priced.advance is None else priced.advance.paid
    if given or priced.emergency_repaid:
        session.execute(
            update(CustomerPolicy)
            .where(CustomerPolicy.customer_id == state.customer_id)
            .values(
                emergency_asked=CustomerPolicy.emergency_asked
                - (state.emergency_asked if given else 0),
                emergency_owed=CustomerPolicy.emergency_owed - priced.emergency_repaid + given,
                updated_at=now,
            )
        )
    if given:
        session.execute(
            update(Customer)
            .where(Customer.id == state.customer_id)
            .values(debt_balance=Customer.debt_balance + given)
        )
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
    if lines:
        ledger.post(session, lines, sale_id=None, memo=_memo(sale_id))
    session.flush()


def undo(session: Session, sale_id: int, customer_id: int | None, receipt: Any) -> None:
    """Take back what a cancelled sale did under a credit policy (its journal of gas
    given is reversed, its month's free gas may be given again, an advance it gave is
    no longer owed, an emergency repayment it took is owed again). The sale's own
    debt recovery is put back by the cancel itself."""
    if customer_id is None or not isinstance(receipt, dict) or not receipt.get("policy_lines"):
        return
    session.execute(delete(FreeGasGrant).where(FreeGasGrant.sale_id == sale_id))
    given = session.execute(
        select(LedgerEntry.debit, LedgerEntry.credit, Account.code)
        .join(Account, Account.id == LedgerEntry.account_id)
        .where(LedgerEntry.sale_id.is_(None), LedgerEntry.memo == _memo(sale_id))
    ).all()
    if given:
        lines = [ledger.Line(account=code, debit=d, credit=c) for d, c, code in given]
        ledger.post(session, ledger.reverse(lines), sale_id=None, memo=f"cancel {_memo(sale_id)}")
    amounts = {
        str(ln["kind"]): parse_money(str(ln["amount"]), currency_decimals.get())
        for ln in receipt["policy_lines"]
    }
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


def _memo(sale_id: int) -> str:
    return f"sale {sale_id}: credit policies"
