"""SMS self-service commands: the text a customer types, parsed into a value.

Pure: no database, no clock. A phone keyboard produces odd spacing, lower
case and separators inside long numbers, so the parser is forgiving about
those and strict about everything that decides money (the meter number's
digits and the amount's decimals). Anything it cannot read becomes
:class:`Unknown`, which the service answers with the help text.

Commands::

    BAL <meter>            last purchase for the meter
    BUY <meter> <amount>   buy gas for <amount> (base currency, ≤ the currency's decimals)
    HELP                   the command list
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from stsgas.vending.errors import BadAmount, BadMeterNumber
from stsgas.vending.kit.money import format_money, parse_money
from stsgas.vending.meters.numbers import parse_meter_number

__all__ = ["Balance", "Buy", "Command", "Help", "Unknown", "parse_command"]

#: A meter number: the 11-digit DRN, or IIN + DRN (13 or 18 digits with check);
#: ASCII digits only ([0-9], not \d, which also matches other scripts' digits)
_METER_RE: Final = re.compile(r"^[0-9]{11,18}$")
_SEPARATORS: Final = str.maketrans("", "", "-")
_MAX_TEXT: Final = 160


@dataclass(frozen=True, slots=True, kw_only=True)
class Balance:
    """``BAL <meter>``: the meter's last purchase."""

    meter: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Buy:
    """``BUY <meter> <amount>``: a sale paid from the customer's wallet."""

    meter: str
    amount: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class Help:
    """``HELP`` (or an empty message)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Unknown:
    """Anything else; ``reason`` says what was wrong, for the reply."""

    reason: str


Command = Balance | Buy | Help | Unknown

_VERBS: Final = {"BAL": "BAL", "BALANCE": "BAL", "BUY": "BUY", "HELP": "HELP", "?": "HELP"}


def _meter(word: str) -> str | None:
    """The digits typed, when they are a DRN or PAN whose check digits hold."""
    digits = word.translate(_SEPARATORS)
    if not _METER_RE.fullmatch(digits):
        return None
    try:
        parse_meter_number(digits)
    except BadMeterNumber:
        return None
    return digits


def _amount(word: str, decimals: int) -> Decimal | None:
    """The one money parser (``kit.money``), "," allowed for the point; positive only."""
    try:
        minor = parse_money(word, decimals, decimal_comma=True)
    except BadAmount:
        return None
    return Decimal(format_money(minor, decimals)) if minor > 0 else None


def parse_command(text: str, *, decimals: int = 2) -> Command:
    """Parse one SMS body into a command (amounts with the currency's ``decimals``); never
    raises."""
    words = text[:_MAX_TEXT].split()
    if not words:
        return Help()
    verb = _VERBS.get(words[0].upper())
    args = words[1:]
    if verb == "HELP":
        return Help()
    if verb == "BAL":
        if len(args) != 1:
            return Unknown(reason="BAL needs one meter number")
        meter = _meter(args[0])
        return Balance(meter=meter) if meter else Unknown(reason="bad meter number")
    if verb == "BUY":
        if len(args) != 2:
            return Unknown(reason="BUY needs a meter number and an amount")
        meter = _meter(args[0])
        if meter is None:
            return Unknown(reason="bad meter number")
        amount = _amount(args[1], decimals)
        if amount is None:
            return Unknown(reason="bad amount")
        return Buy(meter=meter, amount=amount)
    return Unknown(reason="unknown command")
