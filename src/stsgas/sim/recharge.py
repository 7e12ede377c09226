"""Recharge policies: when the simulated customer buys gas, and how much.

A policy answers two questions for the runner: the next planned purchase
after a moment (monthly on a day and hour), and whether a low reading calls
for a purchase now ("recharge when low"). Amounts are ``Decimal`` (m³ in
volume mode, currency in amount mode): they go straight into
``stsgas.sts.credit_token``, so the simulator vends real tokens for the
meter's own key, exactly as a vending system would.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

__all__ = ["LowCreditRecharge", "MonthlyRecharge", "RechargePolicy", "next_month"]


def next_month(at: datetime, *, day: int, hour: int) -> datetime:
    """The first ``day`` of a month at ``hour`` strictly after ``at`` (day capped at 28)."""
    day = min(day, 28)
    candidate = at.replace(day=day, hour=hour, minute=0, second=0, microsecond=0)
    if candidate > at:
        return candidate
    year, month = (at.year + 1, 1) if at.month == 12 else (at.year, at.month + 1)
    return candidate.replace(year=year, month=month)


@dataclass(frozen=True, slots=True, kw_only=True)
class MonthlyRecharge:
    """Buy ``amount`` on ``day`` of every month at ``hour`` (UTC)."""

    amount: Decimal
    day: int = 1
    hour: int = 10

    def next_planned(self, after: datetime) -> datetime | None:
        """The next planned purchase strictly after ``after``."""
        return next_month(after, day=self.day, hour=self.hour)

    def wants_more(self, credit: Decimal) -> bool:
        """Monthly buyers never top up early."""
        return False


@dataclass(frozen=True, slots=True, kw_only=True)
class LowCreditRecharge:
    """Buy ``amount`` once the credit is at or below ``threshold``, ``delay`` later."""

    amount: Decimal
    threshold: Decimal
    delay: timedelta = timedelta(hours=2)

    def next_planned(self, after: datetime) -> datetime | None:
        """No calendar: purchases follow the credit."""
        return None

    def wants_more(self, credit: Decimal) -> bool:
        """True once the credit has fallen to the threshold."""
        return credit <= self.threshold


RechargePolicy = MonthlyRecharge | LowCreditRecharge
