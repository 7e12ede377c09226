"""Domain errors of stsgas.vending; one handler turns them into problem+json.

    Exception
     +-- VendingError             status 400, code "vending"
         +-- InvalidInput         422 "invalid_input"
         |   +-- BadMeterNumber   422 "bad_meter_number"
         |   +-- BadAmount        422 "bad_amount"
         |   +-- TokenTooLong     422 "token_lifetime_too_long"
         +-- NotFound             404 "not_found"
         |   +-- MeterNotFound    404 "meter_not_found"
         |   +-- SaleNotFound     404 "sale_not_found"
         +-- Conflict             409 "conflict"
         |   +-- AlreadyExists    409 "already_exists"
         |   +-- RequestInProgress 409 "in_progress"
         +-- IdempotencyMismatch  422 "idempotency_mismatch"
         +-- MeterNotActive       409 "meter_not_active"
         +-- InsufficientFloat    409 "insufficient_float"
         +-- KeyExpired           409 "key_expired"
         +-- SaleCancelled        409 "sale_cancelled"
         +-- AlreadyRefunded      409 "already_refunded"
         +-- CancelPending        409 "cancel_pending"
         +-- MeterChanged         409 "meter_changed"
         +-- BadMeterCredit       422 "bad_meter_credit"
         +-- CreditBelowSale      422 "credit_below_sale"
         +-- NotAuthenticated     401 "not_authenticated"
         +-- AccountLocked        423 "account_locked"
         +-- Forbidden            403 "forbidden"
         |   +-- PasswordChangeRequired 403 "password_change_required"
         |   +-- NotActivated     403 "account_not_activated"
         |   +-- SegregatedDuty   403 "segregated_duty"
         +-- RateLimited          429 "rate_limited" (Retry-After)
         +-- RetryLater           503 "retry_later"
         |   +-- DatabaseUnavailable 503 "database_unavailable"
         +-- NoMasterKey          503 "no_master_key"

``stsgas.sts.StsError`` is mapped by its own ``code`` (status 422).
"""

from __future__ import annotations

from typing import Any, ClassVar


class VendingError(Exception):
    """Base of all domain errors: a stable ``code`` and an HTTP status."""

    code: ClassVar[str] = "vending"
    status_code: ClassVar[int] = 400
    title: ClassVar[str] = "Request failed"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class InvalidInput(VendingError):
    code = "invalid_input"
    status_code = 422
    title = "Invalid input"


class BadMeterNumber(InvalidInput):
    code = "bad_meter_number"
    title = "Bad meter number"


class BadAmount(InvalidInput):
    code = "bad_amount"
    title = "Bad amount"


class NotFound(VendingError):
    code = "not_found"
    status_code = 404
    title = "Not found"


class MeterNotFound(NotFound):
    code = "meter_not_found"
    title = "Unknown meter"


class SaleNotFound(NotFound):
    code = "sale_not_found"
    title = "No such sale"


class Conflict(VendingError):
    code = "conflict"
    status_code = 409
    title = "Conflict"


class AlreadyExists(Conflict):
    code = "already_exists"
    title = "Already exists"


class RequestInProgress(Conflict):
    code = "in_progress"
    title = "The same request is still in progress"


class IdempotencyMismatch(VendingError):
    code = "idempotency_mismatch"
    status_code = 422
    title = "Idempotency key reused with different data"


class MeterNotActive(Conflict):
    code = "meter_not_active"
    title = "Meter is not active"


class InsufficientFloat(Conflict):
    code = "insufficient_float"
    title = "Vendor float too low"


class NoFloat(Conflict):
    code = "no_float"
    title = "No float to sell from"


class NoTariffInForce(Conflict):
    code = "no_tariff_in_force"
    title = "No tariff in force"


class OverRechargeLimit(InvalidInput):
    code = "over_recharge_limit"
    title = "Credit over the meter's recharge limit"


class KeyExpired(Conflict):
    code = "key_expired"
    title = "Vending key expired"


class SaleCancelled(Conflict):
    """The sale is cancelled: a second cancel, or a replay of its idempotency key."""

    code = "sale_cancelled"
    title = "Sale cancelled"


class AlreadyRefunded(Conflict):
    """A refund owed to a mobile-money payer is marked refunded only once."""

    code = "already_refunded"
    title = "Already refunded"


class CancelPending(Conflict):
    """A request to take the sale back already waits for a second person."""

    code = "cancel_pending"
    title = "Cancellation already asked"


class MeterChanged(Conflict):
    """Tokens went to the meter after its credit was read: the reading is stale."""

    code = "meter_changed"
    title = "Meter changed since the reading"


class BadMeterCredit(InvalidInput):
    """The credit the meter shows is missing or not a number the meter displays."""

    code = "bad_meter_credit"
    title = "Bad meter credit"


class CreditBelowSale(InvalidInput):
    """The meter shows less credit than the sale gave: part of it is used."""

    code = "credit_below_sale"
    title = "Meter credit below the sale"


class NotAuthenticated(VendingError):
    code = "not_authenticated"
    status_code = 401
    title = "Not authenticated"


class AccountLocked(VendingError):
    code = "account_locked"
    status_code = 423
    title = "Account locked"


class Forbidden(VendingError):
    code = "forbidden"
    status_code = 403
    title = "Forbidden"


class PasswordChangeRequired(Forbidden):
    """An admin reset the password: its owner must set a new one first."""

    code = "password_change_required"
    title = "Password change required"


class NotActivated(Forbidden):
    """A new, re-enabled or reset account not yet activated by a second admin."""

    code = "account_not_activated"
    title = "Account not activated"


class SegregatedDuty(Forbidden):
    """Two duties one person may not hold together (e.g. administer and approve)."""

    code = "segregated_duty"
    title = "Segregated duty"


class TokenTooLong(InvalidInput):
    """An API token asked for longer than the configured maximum lifetime."""

    code = "token_lifetime_too_long"
    title = "Token lifetime too long"


class RateLimited(VendingError):
    """Too many sales for one vendor or customer in the current window (V4)."""

    code = "rate_limited"
    status_code = 429
    title = "Too many requests"


class RetryLater(VendingError):
    code = "retry_later"
    status_code = 503
    title = "Busy, retry"


class DatabaseUnavailable(RetryLater):
    """The database could not be reached or dropped the connection (``kit.guard``)."""

    code = "database_unavailable"
    title = "Database unavailable"


class NoMasterKey(VendingError):
    code = "no_master_key"
    status_code = 503
    title = "Key custody unavailable"
