"""Credit policy rules on the office side: classes, a customer's class and debt plan,
an emergency advance asked for. Every change is audited; nothing here commits."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stsgas.vending.audit import service as audit
from stsgas.vending.customers import service as customers
from stsgas.vending.errors import AlreadyExists, Conflict, InvalidInput, NotFound
from stsgas.vending.kit.money import BP_PER_PERCENT
from stsgas.vending.kit.volume import LITRES_PER_M3
from stsgas.vending.models import CustomerClass, CustomerPolicy, Operator
from stsgas.vending.policies import schemas
from stsgas.vending.policies.repository import month_of, plan_of
from stsgas.vending.sales.receipt_money import money


class NoEmergencyCredit(Conflict):
    """The customer may not have (another) emergency advance now."""

    code = "emergency_credit_refused"
    title = "No emergency credit"


def class_view(c: CustomerClass) -> dict[str, Any]:
    """A class as the API shows it."""
    m3 = None if c.free_litres is None else Decimal(c.free_litres) / LITRES_PER_M3
    return {
        "id": c.id,
        "code": c.code,
        "name": c.name,
        "free_m3": None if m3 is None else format(m3.normalize(), "f"),
        "free_money": money(c.free_money),
        "emergency_max": money(c.emergency_max),
    }


def create_class(session: Session, body: schemas.ClassIn, actor: Operator) -> dict[str, Any]:
    """Add a class (codes are unique: 409 ``already_exists``)."""
    if session.execute(select(CustomerClass.id).where(CustomerClass.code == body.code)).first():
        raise AlreadyExists(f"customer class {body.code} exists")
    c = CustomerClass(
        code=body.code,
        name=body.name,
        free_litres=None if body.free_m3 is None else int(body.free_m3 * LITRES_PER_M3),
        free_money=body.free_money,
        emergency_max=body.emergency_max,
    )
    session.add(c)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="customer_class.create",
        object_type="customer_class",
        object_id=c.id,
        data=class_view(c),
    )
    return class_view(c)


def classes(session: Session) -> list[dict[str, Any]]:
    """Every class, by code."""
    rows = session.execute(select(CustomerClass).order_by(CustomerClass.code)).scalars()
    return [class_view(c) for c in rows]


def _policy(session: Session, customer_id: int, *, create: bool) -> CustomerPolicy | None:
    customers.get(session, customer_id, for_update=True)  # 404, and sales of it wait
    found = session.get(CustomerPolicy, customer_id)
    if found is None and create:
        found = CustomerPolicy(customer_id=customer_id, emergency_asked=0, emergency_owed=0)
        session.add(found)
        session.flush()
    return found


def view(session: Session, customer_id: int) -> dict[str, Any]:
    """A customer's policy (all empty when it has none)."""
    customer = customers.get(session, customer_id)
    p = session.get(CustomerPolicy, customer_id)
    klass = None if p is None or p.class_id is None else session.get(CustomerClass, p.class_id)
    plan = None if p is None else plan_of(p)
    return {
        "customer_id": customer_id,
        "debt_balance": money(customer.debt_balance),
        "class": None if klass is None else class_view(klass),
        "debt_plan": None
        if plan is None
        else {
            "kind": plan.kind,
            "amount": money(plan.amount),
            "percent": None if plan.bp is None else str(Decimal(plan.bp) / BP_PER_PERCENT),
            "min": money(plan.min),
            "max": money(plan.max),
        },
        "emergency_asked": money(0 if p is None else p.emergency_asked),
        "emergency_owed": money(0 if p is None else p.emergency_owed),
        "month": month_of(datetime.now(UTC)),
    }


def set_policy(
    session: Session, customer_id: int, body: schemas.PolicyIn, actor: Operator
) -> dict[str, Any]:
    """Set a customer's class and debt plan (audited)."""
    klass = None
    if body.class_code is not None:
        klass = session.execute(
            select(CustomerClass).where(CustomerClass.code == body.class_code)
        ).scalar_one_or_none()
        if klass is None:
            raise NotFound(f"no customer class {body.class_code}")
    plan = body.debt_plan
    if plan is not None:
        if (plan.kind == "fixed") != (plan.amount is not None) or (plan.kind == "percent") != (
            plan.percent is not None
        ):
            raise InvalidInput("a fixed plan gives an amount, a percent plan a percent (only)")
        if plan.min is not None and plan.max is not None and plan.min > plan.max:
            raise InvalidInput("the plan's min is above its max")
    p = _policy(session, customer_id, create=True)
    assert p is not None
    p.class_id = None if klass is None else klass.id
    p.plan_kind = None if plan is None else plan.kind
    p.plan_amount = None if plan is None else plan.amount
    p.plan_bp = None if plan is None or plan.percent is None else int(plan.percent * BP_PER_PERCENT)
    p.plan_min = None if plan is None else plan.min
    p.plan_max = None if plan is None else plan.max
    session.flush()
    shown = view(session, customer_id)
    audit.record(
        session,
        actor=actor,
        action="customer.policy",
        object_type="customer",
        object_id=customer_id,
        data={"class": body.class_code, "debt_plan": shown["debt_plan"]},
    )
    return shown


def ask_emergency(
    session: Session, customer_id: int, body: schemas.EmergencyIn, actor: Operator
) -> dict[str, Any]:
    """The customer asks for an emergency advance: given with its next sale. One at a
    time: refused (409) while one is waiting or owed, above the class's limit, or for
    a customer whose class gives none."""
    p = _policy(session, customer_id, create=False)
    klass = None if p is None or p.class_id is None else session.get(CustomerClass, p.class_id)
    if p is None or klass is None or klass.emergency_max is None:
        raise NoEmergencyCredit("the customer's class gives no emergency credit")
    if p.emergency_asked or p.emergency_owed:
        raise NoEmergencyCredit(
            "the customer has an emergency advance waiting or not yet repaid "
            f"({money(p.emergency_asked + p.emergency_owed)})"
        )
    if body.amount > klass.emergency_max:
        raise NoEmergencyCredit(
            f"the class {klass.code} allows at most {money(klass.emergency_max)}"
        )
    p.emergency_asked = body.amount
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="customer.emergency_credit",
        object_type="customer",
        object_id=customer_id,
        data={"amount": money(body.amount)},
    )
    return view(session, customer_id)
