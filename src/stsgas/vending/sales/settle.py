"""Judging a sale's write: the guards its one statement reported, and the rate limits.

The store writes a sale in one statement and reports what it found on the way
(:class:`.rows.Written`): whether the customer's debt and the ledger accounts
were as read, whether the vendor's float covers the sale, and how many sales
the vendor and the customer made in the current rate window. :func:`settle`
turns that into the sale's last refusals (:class:`ReadChanged` for a retry,
``insufficient_float``, ``rate_limited`` with its retry time), so the caller
rolls the write back. The windows the store counts in (:func:`minute_of`,
:func:`hour_of`) and the limits (:class:`SaleLimits`) live here with it.
Nothing here touches a database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from stsgas.vending.errors import InsufficientFloat, RateLimited
from stsgas.vending.sales.rows import Written
from stsgas.vending.transaction import ReadChanged

if TYPE_CHECKING:
    from stsgas.vending.settings import Settings


@dataclass(frozen=True, slots=True, kw_only=True)
class SaleLimits:
    """Rate limits a sale is counted against (V4); None switches one off.

    The API passes the configured limits; a direct caller of the service
    (scripts, tests) sells unlimited unless it asks otherwise.
    """

    vendor_per_minute: int | None = None
    customer_per_hour: int | None = None

    @classmethod
    def configured(cls, settings: Settings) -> SaleLimits:
        """The limits the API applies (``STSGAS_*_SALES_PER_*``)."""
        return cls(
            vendor_per_minute=settings.vendor_sales_per_minute,
            customer_per_hour=settings.customer_sales_per_hour,
        )


def settle(
    written: Written,
    *,
    customer_id: int | None,
    vendor_id: int | None,
    limits: SaleLimits,
    now: datetime,
) -> None:
    """Raise (so the caller rolls the write back) when the guards or a rate limit say no."""
    if not written.customer_ok:
        raise ReadChanged("the customer's debt changed during the sale")
    if not written.journal_complete:
        # a missing account was made by a concurrent sale after this statement's snapshot
        raise ReadChanged("a ledger account of this sale was made concurrently")
    if not written.vendor_ok:
        raise InsufficientFloat("the vendor's float does not cover this sale")
    _check_limit(
        written.customer_count if customer_id is not None else 0,
        limits.customer_per_hour,
        "customer",
        "hour",
        now,
        3600,
    )
    _check_limit(
        written.vendor_count if vendor_id is not None else 0,
        written.vendor_limit or limits.vendor_per_minute,
        "vendor",
        "minute",
        now,
        60,
    )


def minute_of(now: datetime) -> int:
    """The rate window (a minute since the epoch) ``now`` falls in: a vendor's count."""
    return int(now.timestamp()) // 60


def hour_of(now: datetime) -> int:
    """The rate window (an hour since the epoch) ``now`` falls in: a customer's count."""
    return int(now.timestamp()) // 3600


def _check_limit(
    count: int, limit: int | None, who: str, window: str, now: datetime, seconds: int
) -> None:
    if limit is not None and count > limit:
        retry = seconds - int(now.timestamp()) % seconds
        raise RateLimited(
            f"more than {limit} sales per {window} for this {who}; retry in {retry} s",
            retry_after=retry,
            limit=limit,
            scope=who,
        )
