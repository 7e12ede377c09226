"""Customer rules: create, change, find; every change audited."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from stsgas.vending.audit import service as audit
from stsgas.vending.customers.repository import CustomerRepository
from stsgas.vending.errors import NotFound
from stsgas.vending.models import Customer, Operator


def create(
    session: Session,
    *,
    actor: Operator | None,
    name: str,
    address: str = "",
    phone: str = "",
    debt_balance: int = 0,
    sms_tokens: bool = False,
) -> Customer:
    """Add a customer (``sms_tokens``: opted in to tokens by SMS)."""
    c = CustomerRepository(session).create(
        Customer(
            name=name,
            address=address,
            phone=phone,
            debt_balance=debt_balance,
            sms_tokens=sms_tokens,
        ),
        flush=True,
    )
    audit.record(
        session,
        actor=actor,
        action="customer.create",
        object_type="customer",
        object_id=c.id,
        data={"name": name, "phone": phone, "debt": debt_balance, "sms_tokens": sms_tokens},
    )
    return c


def get(session: Session, customer_id: int, *, for_update: bool = False) -> Customer:
    """The customer or :class:`NotFound`."""
    repo = CustomerRepository(session)
    return repo.get_or_raise(customer_id, NotFound, "customer", for_update=for_update)


def update(
    session: Session, *, actor: Operator | None, customer_id: int, changes: dict[str, Any]
) -> Customer:
    """Apply ``changes`` (name, address, phone, debt_balance, sms_tokens)."""
    c = get(session, customer_id, for_update=True)
    before = {k: getattr(c, k) for k in changes}
    for key, value in changes.items():
        setattr(c, key, value)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="customer.update",
        object_type="customer",
        object_id=c.id,
        data={"before": before, "after": changes},
    )
    return c


def mask_name(name: str) -> str:
    """Show only each word's first letter ("Ada Lovelace" -> "A** L*******")."""
    return " ".join(w[0] + "*" * (len(w) - 1) for w in name.split())


def mask_phone(phone: str) -> str:
    """Hide all but the last three digits ("+255711000111" -> "*********111")."""
    digits = [c for c in phone if c.isdigit()]
    if len(digits) <= 3:
        return "*" * len(digits)
    return "*" * (len(digits) - 3) + "".join(digits[-3:])
