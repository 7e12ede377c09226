"""The ``/api/v1`` paths the console and POS use, in one place."""

from __future__ import annotations

from typing import Final

LOGIN: Final = "/api/v1/auth/login"
LOGOUT: Final = "/api/v1/auth/logout"
ME: Final = "/api/v1/auth/me"
LOOKUP: Final = "/api/v1/meters/{meter}/lookup"
SALES: Final = "/api/v1/sales"
SALE: Final = "/api/v1/sales/{id}"
REPRINT: Final = "/api/v1/sales/{id}/reprint"
VENDOR: Final = "/api/v1/vendors/{id}"
KEY_WARNINGS: Final = "/api/v1/supply-groups/warnings"
CUSTOMERS: Final = "/api/v1/customers"
CUSTOMER: Final = "/api/v1/customers/{id}"
METERS: Final = "/api/v1/meters"
METER: Final = "/api/v1/meters/{id}"
MANAGEMENT: Final = "/api/v1/management/requests"
MANAGEMENT_ONE: Final = "/api/v1/management/requests/{id}"
MANAGEMENT_APPROVE: Final = "/api/v1/management/requests/{id}/approve"
REPORT_DAILY: Final = "/api/v1/reports/daily"
AUDIT: Final = "/api/v1/audit"
#: shown beside amount fields; the API itself works in minor units
CURRENCY: Final = ""
SUPPLY_GROUPS: Final = "/api/v1/supply-groups"
TARIFFS: Final = "/api/v1/tariffs"
TARIFF_VERSIONS: Final = "/api/v1/tariffs/{id}/versions"
CANCEL: Final = "/api/v1/sales/{id}/cancel"
