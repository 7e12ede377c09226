"""The SMS command parser reads what customers type and refuses what decides money badly."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stsgas.sts.identity import drn_with_check
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
    st.from_regex(r"[0-9]{10}", fullmatch=True).map(drn_with_check),
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999"), places=2),
)
def test_buy_amount_is_exact(meter: str, amount: Decimal) -> None:
    """A BUY amount comes back as the exact Decimal typed, never a float."""
    command = parse_command(f"BUY {meter} {amount}")
    assert command == Buy(meter=meter, amount=amount)


@settings(max_examples=100, deadline=None)
@given(
    st.from_regex(r"[0-9]{10}", fullmatch=True).map(drn_with_check),
    st.integers(min_value=1, max_value=9),
)
def test_a_wrong_check_digit_is_a_bad_meter_number(drn: str, shift: int) -> None:
    """Any DRN with its check digit changed is refused as a bad meter number, not looked up."""
    typo = drn[:-1] + str((int(drn[-1]) + shift) % 10)
    for text in (f"BAL {typo}", f"BUY {typo} 10", f"BUY 600727{typo}0 10"):
        assert parse_command(text) == Unknown(reason="bad meter number")
