"""The reply texts, pure: what the customer reads on a small phone screen.

Short (one SMS segment where possible), no jargon, and the token grouped
4-4-4-4-4 exactly as the receipt shows it, key change tokens first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from stsgas.sts import group_digits
from stsgas.vending.sales.receipts import Receipt

__all__ = [
    "HELP_TEXT",
    "LastPurchase",
    "Purchase",
    "balance_reply",
    "buy_reply",
    "refused_reply",
    "unknown_reply",
]

HELP_TEXT = "Gas SMS: BAL <meter> = last purchase. BUY <meter> <amount> = buy from your wallet."


@dataclass(frozen=True, slots=True, kw_only=True)
class LastPurchase:
    """The facts a ``BAL`` reply shows."""

    at: datetime
    paid: Decimal
    credited: str
    digits: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Purchase:
    """The facts a ``BUY`` reply shows; ``tokens`` in entry order."""

    paid: Decimal
    credited: str
    tokens: Sequence[str]
    key_change: bool
    #: left in the customer's wallet, when the payment model has one
    wallet_left: Decimal | None = None


def credited_text(receipt: Receipt) -> str:
    """What a sale credited, in SMS words: cubic metres or money."""
    if receipt.units_credited is not None:
        return f"{receipt.units_credited} m3"
    return str(receipt.money_credited)


def _tail(meter: str) -> str:
    return meter[-4:]


def unknown_reply(reason: str) -> str:
    """An unreadable message: say why, then the help."""
    return f"Sorry, {reason}. {HELP_TEXT}"


def refused_reply(reason: str) -> str:
    """A readable command that cannot be done (no money moved)."""
    return f"Not done: {reason}. No money was taken."


def balance_reply(meter: str, last: LastPurchase | None) -> str:
    """``BAL``: the last purchase with its token, or that there is none."""
    if last is None:
        return f"Meter ..{_tail(meter)}: no purchase yet."
    when = last.at.strftime("%Y-%m-%d %H:%M")
    return (
        f"Meter ..{_tail(meter)} last purchase {when} UTC: paid {last.paid:.2f}, "
        f"credit {last.credited}. Token {group_digits(last.digits)}"
    )


def buy_reply(meter: str, purchase: Purchase) -> str:
    """``BUY``: the token(s) to enter, key change tokens first."""
    groups = [group_digits(d) for d in purchase.tokens]
    if purchase.key_change:
        order = " then ".join(groups)
        tokens = f"KEY CHANGE: enter in order {order}"
    else:
        tokens = f"Token {groups[0]}"
    return (
        f"Meter ..{_tail(meter)}: paid {purchase.paid:.2f}, credit {purchase.credited}. "
        f"{tokens}."
        + (f" Wallet left {purchase.wallet_left:.2f}" if purchase.wallet_left is not None else "")
    )
