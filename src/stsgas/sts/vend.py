"""The recipe layer: make the tokens a vending system issues, from a meter config.

These functions take explicit time (``at``) and randomness (``rnd``); nothing
here reads the clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_DOWN, Decimal, InvalidOperation
from typing import Final

from stsgas.sts.amount import (
    CURRENCY_UNIT,
    GAS_UNIT,
    decode_amount16,
    decode_currency,
    encode_amount16,
    encode_currency,
)
from stsgas.sts.codec import encode
from stsgas.sts.digits import group_digits
from stsgas.sts.errors import RangeError, UnsupportedTokenType
from stsgas.sts.keychange import KeyChangeRefused, check_keys, rollover_for
from stsgas.sts.keys import EA, MeterConfig
from stsgas.sts.tid import tid_for
from stsgas.sts.tokens import (
    ClearCredit,
    ClearTamper,
    CreditToken,
    CurrencyCreditToken,
    KeyChange1,
    KeyChange2,
    KeyChange3,
    KeyChange3Sgc,
    KeyChange4,
    Token,
)

__all__ = [
    "IssuedToken",
    "clear_credit_token",
    "clear_tamper_token",
    "credit_currency",
    "credit_token",
    "credit_token_at_tid",
    "credit_units",
    "key_change_tokens",
    "management_token",
    "to_decimal",
]

_TENTH: Final = 1 / GAS_UNIT
_CURRENCY_SCALE: Final = 1 / CURRENCY_UNIT


@dataclass(frozen=True, slots=True, kw_only=True)
class IssuedToken:
    """A token as issued: its digits, TID, the amount actually credited, and its value."""

    digits: str
    tid: int | None
    amount: Decimal | None
    token: Token

    @property
    def grouped(self) -> str:
        """The digits grouped 4-4-4-4-4."""
        return group_digits(self.digits)


def to_decimal(amount: Decimal | str | int) -> Decimal:
    """A finite Decimal from a Decimal, a decimal string or an int (never a float)."""
    if isinstance(amount, float):
        raise TypeError("amounts are Decimal, str or int, never float")
    try:
        value = amount if isinstance(amount, Decimal) else Decimal(str(amount).strip())
    except InvalidOperation:
        raise RangeError(f"amount {amount!r} is not a decimal number") from None
    if not value.is_finite():
        raise RangeError(f"amount {amount!r} is not a finite number")
    return value


def credit_units(amount: Decimal) -> int:
    """The 0.1-unit credit a unit token carries for ``amount``.

    Rounded up to 0.1 and then to the next value the 16-bit field can hold,
    so the customer is never credited less than asked.
    """
    if amount < 0:
        raise RangeError("a credit amount cannot be negative")
    units = int((amount * _TENTH).to_integral_value(ROUND_CEILING))
    return decode_amount16(encode_amount16(units))


def credit_currency(amount: Decimal) -> int:
    """The 10^-5 currency credit a currency token carries for ``amount``.

    Positive amounts round up and negative ones round their magnitude down
    (both toward the customer), then snap to what the 20-bit field can hold:
    a negative token never takes more than asked.
    """
    rounding = ROUND_CEILING if amount >= 0 else ROUND_DOWN
    raw = int((amount * _CURRENCY_SCALE).to_integral_value(rounding))
    return decode_currency(*encode_currency(raw))


def credit_token(
    meter: MeterConfig,
    amount: Decimal | str | int,
    *,
    at: datetime,
    rnd: int = 0,
    subclass: int = 2,
) -> IssuedToken:
    """A credit transfer token issued at ``at`` (aware), which gives its TID.

    Args:
        amount: subclasses 0–3 in whole units (m³ for gas, subclass 2), to 0.1;
            subclasses 4–7 in base currency (gas currency is subclass 6), to 10^-5.
            Rounded up, so the credit is never less than asked.
        rnd: the 4-bit random number (ignored by currency tokens).
    """
    tid = tid_for(at, meter.base_date)
    return credit_token_at_tid(meter, amount, tid=tid, rnd=rnd, subclass=subclass)


def credit_token_at_tid(
    meter: MeterConfig,
    amount: Decimal | str | int,
    *,
    tid: int,
    rnd: int = 0,
    subclass: int = 2,
) -> IssuedToken:
    """A credit transfer token with a TID the caller chose.

    A vending system picks the TID itself (one minute past the meter's last,
    when two sales fall in one minute), so this is the recipe it calls;
    ``amount`` and the rounding are as for :func:`credit_token`.
    """
    value = to_decimal(amount)
    if 0 <= subclass <= 3:
        credited_units = credit_units(value)
        tok: Token = CreditToken(subclass=subclass, tid=tid, units=credited_units, rnd=rnd)
        credited = credited_units * GAS_UNIT
    elif 4 <= subclass <= 7:
        exact = credit_currency(value)
        tok = CurrencyCreditToken(subclass=subclass, tid=tid, amount=exact)
        credited = exact * CURRENCY_UNIT
    else:
        raise UnsupportedTokenType(f"class 0 has no subclass {subclass}")
    return IssuedToken(digits=encode(tok, meter.key()), tid=tid, amount=credited, token=tok)


def management_token(meter: MeterConfig, token: Token) -> IssuedToken:
    """Encode any class 2 token (or a test token) for a meter."""
    tid = getattr(token, "tid", None)
    return IssuedToken(digits=encode(token, meter.key()), tid=tid, amount=None, token=token)


def clear_credit_token(
    meter: MeterConfig, *, register: int = 0xFFFF, at: datetime, rnd: int = 0
) -> IssuedToken:
    """Clear a credit register (gas units 2, gas currency 6, ``0xFFFF`` all)."""
    tok = ClearCredit(tid=tid_for(at, meter.base_date), rnd=rnd, register=register)
    return management_token(meter, tok)


def clear_tamper_token(meter: MeterConfig, *, at: datetime, rnd: int = 0) -> IssuedToken:
    """Clear the meter's tamper condition."""
    return management_token(meter, ClearTamper(tid=tid_for(at, meter.base_date), rnd=rnd))


def key_change_tokens(
    old: MeterConfig,
    new: MeterConfig,
    *,
    rollover: bool | None = None,
    three_token: bool | None = None,
) -> list[IssuedToken]:
    """The key change token set moving a meter from ``old`` to ``new`` keys.

    Encrypted under the old decoder key, in the order to enter them. 64-bit
    keys give 2 tokens (3 with the SGC section when ``three_token``, by
    default when the SGC changes); MISTY1 keys give 4.

    Args:
        rollover: the RO bit (the meter clears its TID memory and moves to
            the next base date). By default set exactly when ``new`` is on
            the next base date; a value that disagrees with that is refused.

    Raises:
        KeyChangeRefused: a set the meter must refuse (docs/sts.md "Key
            changes"): RO=1 with an unchanged key, a move to key type 0, or
            a base-date move other than one step forward.
    """
    if (old.ea is EA.MISTY1) != (new.ea is EA.MISTY1):
        raise UnsupportedTokenType("a key change cannot move between 64-bit and 128-bit keys")
    ro = rollover_for(old.base_date, new.base_date)
    if rollover is not None and rollover != ro:
        raise KeyChangeRefused(
            "base_date", "RO=1 moves the meter to the next base date: set it exactly then"
        )
    nk = new.key().value
    old_key = old.key()
    check_keys(
        old_key=old_key.value, new_key=nk, old_kt=old.key_type, new_kt=new.key_type, rollover=ro
    )
    sgc = int(new.sgc)
    tokens: list[Token]
    if new.ea is EA.MISTY1:
        tokens = [
            KeyChange1(
                ken_high=new.ken >> 4,
                krn=new.krn,
                rollover=ro,
                key_type=new.key_type,
                nk_high=int.from_bytes(nk[0:4], "big"),
            ),
            KeyChange2(
                ken_low=new.ken & 15, ti=int(new.ti), nk_low=int.from_bytes(nk[12:16], "big")
            ),
            KeyChange3(sgc_low=sgc & 0xFFF, nk_part=int.from_bytes(nk[4:8], "big")),
            KeyChange4(sgc_high=sgc >> 12, nk_part=int.from_bytes(nk[8:12], "big")),
        ]
    else:
        three = new.sgc != old.sgc if three_token is None else three_token
        tokens = [
            KeyChange1(
                ken_high=new.ken >> 4,
                krn=new.krn,
                rollover=ro,
                three_token=three,
                key_type=new.key_type,
                nk_high=int.from_bytes(nk[0:4], "big"),
            ),
            KeyChange2(ken_low=new.ken & 15, ti=int(new.ti), nk_low=int.from_bytes(nk[4:8], "big")),
        ]
        if three:
            tokens.append(KeyChange3Sgc(sgc=sgc))
    return [IssuedToken(digits=encode(t, old_key), tid=None, amount=None, token=t) for t in tokens]
