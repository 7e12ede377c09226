"""The token SMS, pure: what an opted-in customer receives after a sale.

Everything needed to load the meter without the receipt: the meter number, the
token(s) in entry order (key change tokens first, numbered), what was paid, what
it credits (m³ or money) and the receipt number to quote to the office.
"""

from __future__ import annotations

from stsgas.sts import group_digits
from stsgas.vending.sales.receipts import Receipt
from stsgas.vending.sms.replies import credited_text

__all__ = ["token_sms"]


def token_sms(receipt: Receipt) -> str:
    """The SMS text of ``receipt``."""
    groups = [group_digits(t.digits) for t in receipt.tokens]
    if receipt.key_change:
        steps = " ".join(f"{i}) {g}" for i, g in enumerate(groups, start=1))
        tokens = f"Enter in order: {steps}"
    else:
        tokens = f"Token {groups[0]}"
    return (
        f"Gas meter {receipt.meter_number}: {tokens}. "
        f"Paid {receipt.amount_paid}, credit {credited_text(receipt)}. "
        f"Receipt {receipt.sale_id}."
    )
