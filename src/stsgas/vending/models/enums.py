"""The closed vocabularies stored in the database, as ``StrEnum`` values.

They are kept as plain strings with a CHECK constraint (not native enums) so
the same migration runs on SQLite and PostgreSQL and adding a value is a
one-line migration.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """What an operator may do (see ``operators.auth``)."""

    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    CASHIER = "cashier"
    AUDITOR = "auditor"


class MeterMode(StrEnum):
    """How a meter measures credit: m³ (volume) or money (amount)."""

    VOLUME = "volume"
    AMOUNT = "amount"


class MeterStatus(StrEnum):
    """Only active meters may be sold to."""

    ACTIVE = "active"
    BLOCKED = "blocked"
    RETIRED = "retired"


class FixedChargePeriod(StrEnum):
    """How often a tariff's fixed charge is due: with every sale, or once a month."""

    SALE = "sale"
    MONTH = "month"


class Channel(StrEnum):
    """Where a sale came from."""

    WEB = "web"
    POS = "pos"
    SMS = "sms"
    API = "api"
    #: the USSD menu's "Buy gas" (until 0017 such sales were recorded as ``sms``)
    USSD = "ussd"


class SaleStatus(StrEnum):
    """A completed sale may later be cancelled by a supervisor."""

    COMPLETED = "completed"
    CANCELLED = "cancelled"


class TokenKind(StrEnum):
    """What a stored token is for."""

    CREDIT = "credit"
    KCT = "kct"
    MGMT = "mgmt"


class ManagementKind(StrEnum):
    """Management token requests."""

    CLEAR_CREDIT = "clear_credit"
    CLEAR_TAMPER = "clear_tamper"
    SET_TARIFF = "set_tariff"
    KEY_CHANGE = "key_change"
    #: a step tariff for a by-amount meter, as a signed IR command (not a token)
    LOAD_TARIFF = "load_tariff"
    #: take a sale whose token was entered back off the meter (``sales.cancel``)
    CANCEL_SALE = "cancel_sale"
    #: field settings (overdraft, alarms, safety limits) as a signed IR command
    FIELD_SETTINGS = "field_settings"


class RequestStatus(StrEnum):
    """Four-eyes state of a management request."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    ISSUED = "issued"


class AccountKind(StrEnum):
    """Ledger account types; assets and expenses are debit-normal."""

    ASSET = "asset"
    LIABILITY = "liability"
    REVENUE = "revenue"


class IdempotencyState(StrEnum):
    """An idempotency record is in progress until its response is stored."""

    IN_PROGRESS = "in_progress"
    DONE = "done"


def check_in(column: str, values: type[StrEnum]) -> str:
    """SQL text of a CHECK that ``column`` holds one of the enum's values."""
    quoted = ", ".join(f"'{v.value}'" for v in values)
    return f"{column} IN ({quoted})"
