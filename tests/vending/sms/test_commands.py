"""The SMS command parser reads what customers type and refuses what decides money badly."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stsgas.vending.sms.commands import Balance, Buy, Help, Unknown, parse_command

CASES = json.loads(
    (Path(__file__).parents[2] / "data" / "vending" / "sms" / "commands.json").read_text()
)["cases"]


@pytest.mark.parametrize("case", CASES, ids=[c["text"] or "<empty>" for c in CASES])
def test_parse_table(case: dict[str, Any]) -> None:
    """Each sample body parses to the expected command and fields."""
    command = parse_command(case["text"])
    assert type(command).__name__ == case["kind"]
    if isinstance(command, Balance):
        assert command.meter == case["meter"]
    if isinstance(command, Buy):
        assert command.meter == case["meter"]
        assert command.amount == Decimal(case["amount"])
    if isinstance(command, Unknown):
        assert command.reason == case["reason"]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_parser_never_raises(text: str) -> None:
    """Any text at all gives a command value, never an exception."""
    assert isinstance(parse_command(text), Balance | Buy | Help | Unknown)


@settings(max_examples=100, deadline=None)
@given(
    st.from_regex(r"[0-9]{11}", fullmatch=True),
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999"), places=2),
)
def test_buy_amount_is_exact(meter: str, amount: Decimal) -> None:
    """A BUY amount comes back as the exact Decimal typed, never a float."""
    command = parse_command(f"BUY {meter} {amount}")
    assert command == Buy(meter=meter, amount=amount)
