"""What each role may do: one table, checked by ``auth.require`` (V4).

Object-level rules (a cashier sees only its own vendor's sales; a
management token needs a second, activated person) are checked in the
services on top of this table. Admins administer accounts and hold no
management-token permission: duties are segregated.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from stsgas.vending.models import Role


class Permission(StrEnum):
    """One thing an operator can be allowed to do."""

    OPERATORS_MANAGE = "operators.manage"
    VENDORS_MANAGE = "vendors.manage"
    SUPPLY_GROUPS_MANAGE = "supply_groups.manage"
    SUPPLY_GROUPS_READ = "supply_groups.read"
    CUSTOMERS_WRITE = "customers.write"
    CUSTOMERS_READ = "customers.read"
    #: the masked view of a customer (initials, the phone's last digits): what a sale needs
    CUSTOMERS_LOOKUP = "customers.lookup"
    METERS_WRITE = "meters.write"
    METERS_READ = "meters.read"
    METERS_LOOKUP = "meters.lookup"
    TARIFFS_WRITE = "tariffs.write"
    TARIFFS_READ = "tariffs.read"
    SALES_CREATE = "sales.create"
    SALES_READ_ALL = "sales.read_all"
    SALES_READ_OWN = "sales.read_own"
    SALES_CANCEL = "sales.cancel"
    MGMT_REQUEST = "mgmt.request"
    MGMT_APPROVE = "mgmt.approve"
    REPORTS_READ = "reports.read"
    AUDIT_READ = "audit.read"


_P = Permission
ROLE_PERMISSIONS: Final[dict[Role, frozenset[Permission]]] = {
    Role.ADMIN: frozenset(
        {
            _P.OPERATORS_MANAGE,
            _P.VENDORS_MANAGE,
            _P.SUPPLY_GROUPS_MANAGE,
            _P.SUPPLY_GROUPS_READ,
            _P.CUSTOMERS_WRITE,
            _P.CUSTOMERS_READ,
            _P.METERS_WRITE,
            _P.METERS_READ,
            _P.METERS_LOOKUP,
            _P.TARIFFS_WRITE,
            _P.TARIFFS_READ,
            _P.SALES_READ_ALL,
            _P.REPORTS_READ,
            _P.AUDIT_READ,
        }
    ),
    Role.SUPERVISOR: frozenset(
        {
            _P.SUPPLY_GROUPS_READ,
            _P.CUSTOMERS_WRITE,
            _P.CUSTOMERS_READ,
            _P.METERS_WRITE,
            _P.METERS_READ,
            _P.METERS_LOOKUP,
            _P.TARIFFS_READ,
            _P.SALES_CREATE,
            _P.SALES_READ_ALL,
            _P.SALES_CANCEL,
            _P.MGMT_REQUEST,
            _P.MGMT_APPROVE,
            _P.REPORTS_READ,
        }
    ),
    Role.CASHIER: frozenset(
        {
            _P.CUSTOMERS_LOOKUP,
            _P.METERS_READ,
            _P.METERS_LOOKUP,
            _P.TARIFFS_READ,
            _P.SALES_CREATE,
            _P.SALES_READ_OWN,
        }
    ),
    Role.AUDITOR: frozenset(
        {
            _P.SUPPLY_GROUPS_READ,
            _P.CUSTOMERS_READ,
            _P.METERS_READ,
            _P.TARIFFS_READ,
            _P.SALES_READ_ALL,
            _P.REPORTS_READ,
            _P.AUDIT_READ,
        }
    ),
}


def allowed(role: str, permission: Permission) -> bool:
    """True when ``role`` holds ``permission``."""
    return permission in ROLE_PERMISSIONS.get(Role(role), frozenset())
