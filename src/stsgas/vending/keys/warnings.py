"""Key and TID expiry warnings (V3, STS202-6): tell the vendor before a key bites.

Three clocks run out: the vending key's issue-until time (``key_expires_at``),
the key expiry number (a meter refuses tokens once ``TID >> 16 > KEN``), and
the base date's 24-bit TID range (A4: 2045-11-24 20:15 for base date 2014).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from stsgas.sts import TID_MAX, BaseDate, datetime_for_tid


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyWarning:
    """One warning: a stable ``code``, when it bites, and whether it already has."""

    code: str
    message: str
    at: datetime
    expired: bool


def key_warnings(
    *,
    now: datetime,
    window: timedelta,
    base_date: int,
    ken: int,
    key_expires_at: datetime | None,
) -> list[KeyWarning]:
    """Warnings for key data that expires before ``now + window`` (or already has)."""
    out: list[KeyWarning] = []

    def check(code: str, what: str, at: datetime) -> None:
        expired = at <= now
        if expired or at - now <= window:
            suffix, verb = ("_expired", "ran") if expired else ("_expiring", "runs")
            out.append(
                KeyWarning(
                    code=code + suffix,
                    message=f"{what} {verb} out at {at:%Y-%m-%d %H:%M} UTC",
                    at=at,
                    expired=expired,
                )
            )

    if key_expires_at is not None:
        check("vending_key", "the vending key", key_expires_at)
    bd = BaseDate(base_date)
    if ken < 255 and (ken + 1) << 16 <= TID_MAX:
        check("ken", f"key expiry number {ken}", datetime_for_tid((ken + 1) << 16, bd))
    check(
        "base_date",
        f"the TID range of base date {base_date} (a rollover key change is due)",
        bd.last_minute,
    )
    return out
