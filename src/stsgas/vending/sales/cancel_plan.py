"""What cancelling a sale would do, worked out before anyone confirms; nothing written.

:func:`plan` takes a completed sale and its meter (and, for a take-back, the
credit the meter shows now) and answers a :class:`Plan`: void or take back,
whether four eyes are needed, what comes off the meter, which tokens, the
refund and the text the console shows; it refuses what must not happen (a
sale already cancelled, a volume take-back without a reading, a meter showing
less than the sale gave). The meter's values are in its own units and read
and shown as its display does (:func:`parse_reading`, :func:`shown`). Doing
the cancellation (moving the money, making the tokens) is :mod:`.cancel`.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace
from decimal import Decimal
from typing import Any, Final

from stsgas.sts import CURRENCY_UNIT, GAS_UNIT, decode_amount16, encode_amount16
from stsgas.sts.amount import AMOUNT16_MAX
from stsgas.vending.errors import BadMeterCredit, Conflict, CreditBelowSale, SaleCancelled
from stsgas.vending.kit.money import minor_unit
from stsgas.vending.kit.volume import LITRE, LITRES_PER_UNIT
from stsgas.vending.models import Meter, MeterMode, Sale, SaleStatus, TokenKind
from stsgas.vending.models import Token as TokenRow
from stsgas.vending.sales.receipt_money import money

#: the meter's gas credit registers: units (subclass 2) and currency (subclass 6)
REGISTER_UNITS: Final = 2
REGISTER_CURRENCY: Final = 6
#: what one of the meter's own units is worth: a litre in m³, 10^-5 of the currency
_SCALE: Final = {MeterMode.VOLUME.value: LITRE, MeterMode.AMOUNT.value: CURRENCY_UNIT}
#: the decimals the meter shows (m³ to the litre, money to 10^-5)
_DECIMALS: Final = {mode: -int(scale.as_tuple().exponent) for mode, scale in _SCALE.items()}
#: the fewest decimals the meter's display keeps of money: two, as it always did
#: (the meter's own rule, not the vending currency's ``STSGAS_CURRENCY_DECIMALS``)
METER_MONEY_SHOWN: Final = minor_unit(2)
#: the fewest decimals a shown value keeps (0.1 m³, 0.01 of the currency)
_LEAST: Final = {MeterMode.VOLUME.value: GAS_UNIT, MeterMode.AMOUNT.value: METER_MONEY_SHOWN}


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """What cancelling a sale does, worked out before anyone confirms.

    Meter values are in the meter's own units: litres by volume, 10^-5 of the
    currency by amount. ``credit_after`` is ``None`` when it cannot be known
    (by amount without a reading).
    """

    sale_id: int
    meter_number: str
    mode: str
    token_used: bool
    four_eyes: bool
    refund: str
    take: int
    meter_credit: int | None
    credit_after: int | None
    tokens: tuple[str, ...]
    preview: str
    last_tid: int

    def to_json(self) -> dict[str, Any]:
        """The plan as the API answers it, meter values as the meter shows them."""
        body = asdict(self)
        body["tokens"] = list(self.tokens)
        for key in ("take", "meter_credit", "credit_after"):
            value = body[key]
            body[key] = None if value is None else shown(value, self.mode)
        del body["last_tid"]
        return body


def shown(value: int, mode: str) -> str:
    """A meter value as its display reads (at least 1 decimal in m³, 2 in money)."""
    number, least = value * _SCALE[mode], _LEAST[mode]
    rounded = number.quantize(least)
    text = str(rounded) if number == rounded else str(number.normalize())
    return f"{text} m³" if mode == MeterMode.VOLUME.value else text


def parse_reading(text: str, mode: str) -> int:
    """The credit a customer read off the meter (query code 01), in the meter's units.

    ASCII digits, an optional minus (a meter in overdraft) and at most the
    decimals the meter shows (3 in m³, 5 in money); nothing else.
    """
    places = _DECIMALS[mode]
    value = text.strip()
    if not re.fullmatch(rf"-?[0-9]{{1,9}}(?:\.[0-9]{{1,{places}}})?", value):
        unit = "m³, e.g. 12.345" if mode == MeterMode.VOLUME.value else "money, e.g. 30.25"
        raise BadMeterCredit(
            f"type the credit the meter shows in {unit} (digits, at most {places} decimals)"
        )
    return int(Decimal(value) / _SCALE[mode])


def _units_at_most(units: int) -> int:
    """The largest credit a 16-bit amount holds that is not above ``units`` (0.1 m³)."""
    if units > AMOUNT16_MAX:
        raise BadMeterCredit("that is more credit than a gas token can carry; check the reading")
    field = encode_amount16(units)
    if decode_amount16(field) > units:
        field -= 1  # the encoding rounded up: the next lower value is below
    return decode_amount16(field)


def credit_token_of(sale: Sale) -> TokenRow:
    """The sale's credit token row (what the meter was given)."""
    return next(t for t in sale.tokens if t.kind == TokenKind.CREDIT.value)


def plan(sale: Sale, meter: Meter, *, token_used: bool, meter_credit: str | None) -> Plan:
    """Work out a cancellation; refuses what must not happen (already cancelled, a
    volume cancel without a reading, a meter showing less than the sale gave)."""
    if sale.status != SaleStatus.COMPLETED.value:
        raise SaleCancelled(f"sale {sale.id} is already {sale.status}", sale_id=sale.id)
    mode = meter.mode
    credit = credit_token_of(sale)
    expected = REGISTER_UNITS if mode == MeterMode.VOLUME.value else REGISTER_CURRENCY
    if credit.subclass != expected:
        raise Conflict(f"sale {sale.id} credited another register than the meter's mode")
    refund = money(sale.amount_paid) or "0.00"
    reading = (
        None
        if meter_credit is None or not meter_credit.strip()
        else (parse_reading(meter_credit, mode))
    )
    base = Plan(
        sale_id=sale.id,
        meter_number=meter.pan,
        mode=mode,
        token_used=token_used,
        four_eyes=False,
        refund=refund,
        take=0,
        meter_credit=reading,
        credit_after=reading,
        tokens=(),
        last_tid=meter.last_tid,
        preview=f"No token: the sale's token was never entered, so the meter keeps "
        f"its credit; {refund} is refunded now.",
    )
    if not token_used:
        return base
    if mode == MeterMode.AMOUNT.value:
        take = int(credit.amount or 0)
        after = None if reading is None else reading - take
        if reading is not None and reading < take:
            raise CreditBelowSale(
                f"the meter shows {shown(reading, mode)}, less than the {shown(take, mode)} "
                "this sale credited: part of it is used, so the sale cannot be taken back",
                sale_id=sale.id,
            )
        change = (
            f"goes from {shown(reading, mode)} to {shown(after, mode)}"
            if reading is not None and after is not None
            else f"goes down by {shown(take, mode)}"
        )
        return replace(
            base,
            four_eyes=True,
            take=take,
            credit_after=after,
            tokens=("take_back",),
            preview=f"The meter's credit {change}: one token takes exactly this sale's "
            f"{shown(take, mode)} off the meter. {refund} is refunded when a second "
            "supervisor approves.",
        )
    if reading is None:
        raise BadMeterCredit(
            "a volume meter cannot subtract: give the credit the meter shows now (query code 01)",
            sale_id=sale.id,
        )
    take = int(credit.amount or 0) * LITRES_PER_UNIT
    if reading < take:
        raise CreditBelowSale(
            f"the meter shows {shown(reading, mode)}, less than the {shown(take, mode)} this "
            "sale credited: part of it is used, so the sale cannot be taken back",
            sale_id=sale.id,
        )
    after = _units_at_most((reading - take) // LITRES_PER_UNIT) * LITRES_PER_UNIT
    tokens = ("clear_credit", "credit") if after else ("clear_credit",)
    then = f", then a credit of {shown(after, mode)}" if after else ""
    lost = reading - take - after
    rounding = (
        f" A credit token cannot carry the last {shown(lost, mode)}: it is not given back."
        if lost
        else ""
    )
    return replace(
        base,
        four_eyes=True,
        take=take,
        credit_after=after,
        tokens=tokens,
        preview=f"The meter's credit goes from {shown(reading, mode)} to {shown(after, mode)}: "
        f"enter clear credit{then}, before any other token.{rounding} {refund} is "
        "refunded when a second supervisor approves.",
    )
