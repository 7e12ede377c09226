"""Role-aware navigation: who sees which pages (the API enforces the same rules)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = ["PAGE_ROLES", "NavItem", "allowed", "nav_for"]

ADMIN, SUPERVISOR, CASHIER, AUDITOR = "admin", "supervisor", "cashier", "auditor"


@dataclass(frozen=True, slots=True, kw_only=True)
class NavItem:
    """One link in the top bar."""

    key: str
    href: str
    label: str


#: page key -> roles that may open it; the order is the menu order
PAGE_ROLES: Final[dict[str, frozenset[str]]] = {
    "dashboard": frozenset({ADMIN, SUPERVISOR, CASHIER, AUDITOR}),
    "sell": frozenset({ADMIN, SUPERVISOR, CASHIER}),
    "pos": frozenset({ADMIN, SUPERVISOR, CASHIER}),
    "sales": frozenset({ADMIN, SUPERVISOR, CASHIER, AUDITOR}),
    "customers": frozenset({ADMIN, SUPERVISOR}),
    "meters": frozenset({ADMIN, SUPERVISOR}),
    "tariffs": frozenset({ADMIN, SUPERVISOR}),
    # as their APIs: vendors.manage, supply_groups.read, audit.read (the SMS log)
    "vendors": frozenset({ADMIN}),
    "supply_groups": frozenset({ADMIN, SUPERVISOR, AUDITOR}),
    "sms": frozenset({ADMIN, AUDITOR}),
    "management": frozenset({SUPERVISOR}),
    "reports": frozenset({ADMIN, SUPERVISOR, AUDITOR}),
    # as its API: reports.read (mobile-money reconciliation)
    "payments": frozenset({ADMIN, SUPERVISOR, AUDITOR}),
    "audit": frozenset({ADMIN, AUDITOR}),
    "operators": frozenset({ADMIN}),
}

_ITEMS: Final = (
    NavItem(key="dashboard", href="/console", label="Today"),
    NavItem(key="sell", href="/console/sell", label="Sell gas"),
    NavItem(key="pos", href="/pos", label="POS"),
    NavItem(key="sales", href="/console/sales", label="Sales"),
    NavItem(key="customers", href="/console/customers", label="Customers"),
    NavItem(key="meters", href="/console/meters", label="Meters"),
    NavItem(key="tariffs", href="/console/tariffs", label="Tariffs"),
    NavItem(key="vendors", href="/console/vendors", label="Vendors"),
    NavItem(key="supply_groups", href="/console/supply-groups", label="Supply groups"),
    NavItem(key="sms", href="/console/sms", label="SMS"),
    NavItem(key="management", href="/console/management", label="Management tokens"),
    NavItem(key="reports", href="/console/reports", label="Reports"),
    NavItem(key="payments", href="/console/payments", label="Payments"),
    NavItem(key="audit", href="/console/audit", label="Audit"),
    NavItem(key="operators", href="/console/operators", label="Operators"),
)


def allowed(page: str, role: str) -> bool:
    """True when ``role`` may open ``page``."""
    return role in PAGE_ROLES.get(page, frozenset())


def nav_for(role: str) -> list[NavItem]:
    """The menu for ``role``; a cashier's "Sales" are its own sales."""
    items = [i for i in _ITEMS if allowed(i.key, role)]
    if role == CASHIER:
        items = [
            NavItem(key=i.key, href=i.href, label="My sales") if i.key == "sales" else i
            for i in items
        ]
    return items
