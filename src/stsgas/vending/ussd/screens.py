"""The USSD session's closing screens, pure: balance, last tokens, a purchase, a refusal.

A USSD screen holds about 182 characters, so each says only what the customer
needs, tokens grouped 4-4-4-4-4 as the receipt shows them (key change tokens
first, in the order they are entered).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from stsgas.sts import group_digits
from stsgas.vending.sales.receipts import Receipt
from stsgas.vending.sms.replies import credited_text
from stsgas.vending.ussd.menu import Screen

__all__ = [
    "LastSale",
    "balance_screen",
    "bought_screen",
    "busy_screen",
    "refused_screen",
    "tokens_screen",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class LastSale:
    """The caller's latest purchase, as the balance screen shows it."""

    meter: str
    at: datetime
    paid: Decimal
    credited: str


def _tail(meter: str) -> str:
    return meter[-4:]


def balance_screen(wallet: Decimal | None, last: LastSale | None) -> Screen:
    """Menu 1: the wallet balance (when there is a wallet) and the last purchase."""
    lines = ["Wallet: none" if wallet is None else f"Wallet balance {wallet}"]
    if last is None:
        lines.append("No purchase yet.")
    else:
        when = last.at.strftime("%Y-%m-%d %H:%M")
        lines.append(
            f"Last purchase {when} UTC meter ..{_tail(last.meter)}: "
            f"paid {last.paid}, credit {last.credited}"
        )
    return Screen("\n".join(lines), end=True)


def tokens_screen(meter: str, tokens: Sequence[tuple[datetime, str]]) -> Screen:
    """Menu 3: the meter's last credit tokens, newest first."""
    if not tokens:
        return Screen(f"Meter ..{_tail(meter)}: no tokens yet.", end=True)
    lines = [f"{at:%m-%d} {group_digits(digits)}" for at, digits in tokens]
    return Screen(f"Meter ..{_tail(meter)} last tokens:\n" + "\n".join(lines), end=True)


def bought_screen(meter: str, receipt: Receipt) -> Screen:
    """Menu 2 done: what was paid and credited, and the token(s) to enter."""
    groups = [group_digits(t.digits) for t in receipt.tokens]
    head = f"Meter ..{_tail(meter)} paid {receipt.amount_paid}, credit {credited_text(receipt)}"
    if receipt.key_change:
        body = "KEY CHANGE, enter in order:\n" + "\n".join(groups)
    else:
        body = f"Token {groups[0]}"
    return Screen(f"{head}\n{body}", end=True)


#: the longest reason a refusal screen quotes (the API's wording can run long; a USSD
#: screen holds about 182 characters)
MAX_REASON = 130


def refused_screen(reason: str) -> Screen:
    """No sale (no money moved) and why."""
    if len(reason) > MAX_REASON:
        reason = reason[: MAX_REASON - 1].rstrip() + "…"
    return Screen(f"Not done: {reason}. No money was taken.", end=True)


def busy_screen() -> Screen:
    """The same confirm is still being handled (a gateway retry racing the first)."""
    return Screen("Your purchase is being processed. The token comes by SMS or menu 3.", end=True)
