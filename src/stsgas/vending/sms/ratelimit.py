"""A fixed-window rate limit, pure: the caller passes the time and the recent count.

SMS costs money both ways, so each phone number and each meter gets a budget
per window (rule V4). The counting itself is done by the service against the
stored inbound messages, which makes the limit hold across API workers; this
module only holds the rule, so it is testable without a database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = ["RateLimit"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RateLimit:
    """At most ``limit`` messages per ``window``."""

    limit: int
    window: timedelta

    def window_start(self, now: datetime) -> datetime:
        """The oldest moment that still counts against the budget at ``now``."""
        return now - self.window

    def allows(self, recent: int) -> bool:
        """True when one more message fits, given ``recent`` already in the window."""
        return recent < self.limit
