"""SMS replies are short, show the token grouped 4-4-4-4-4 and put key change tokens first."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from stsgas.vending.sms.replies import (
    HELP_TEXT,
    LastPurchase,
    Purchase,
    balance_reply,
    buy_reply,
    refused_reply,
    unknown_reply,
)

CREDIT = "12345678901234567890"
KCT1 = "11112222333344445555"
KCT2 = "66667777888899990000"


def test_buy_reply_one_segment_with_grouped_token() -> None:
    """A plain purchase fits one SMS and shows the grouped token."""
    text = buy_reply(
        "01234567897",
        Purchase(
            paid=Decimal("50"),
            credited="12.5 m3",
            tokens=[CREDIT],
            key_change=False,
            wallet_left=Decimal("150.5"),
        ),
    )
    assert "1234 5678 9012 3456 7890" in text
    assert "paid 50.00" in text
    assert "Wallet left 150.50" in text
    assert len(text) <= 160


def test_buy_reply_key_change_first() -> None:
    """When a key change is due the reply lists its tokens before the credit token."""
    text = buy_reply(
        "01234567897",
        Purchase(
            paid=Decimal("10"),
            credited="2.5 m3",
            tokens=[KCT1, KCT2, CREDIT],
            key_change=True,
            wallet_left=Decimal("0"),
        ),
    )
    assert text.index("1111 2222") < text.index("6666 7777") < text.index("1234 5678")
    assert "KEY CHANGE" in text


def test_balance_reply() -> None:
    """BAL shows the last purchase's time, amount and token; or says there is none."""
    last = LastPurchase(
        at=datetime(2026, 11, 25, 8, 30, tzinfo=UTC),
        paid=Decimal("20"),
        credited="5.0 m3",
        digits=CREDIT,
    )
    assert "2026-11-25 08:30" in balance_reply("01234567897", last)
    assert "no purchase yet" in balance_reply("01234567897", None)


def test_unknown_and_refused_replies() -> None:
    """Unreadable messages get the help; refusals say no money was taken."""
    assert unknown_reply("bad amount").endswith(HELP_TEXT)
    assert "No money was taken" in refused_reply("wallet balance too low")
