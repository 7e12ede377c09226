"""The receipt: an itemised, JSON-ready record of a sale, stored with it for replays."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import ROUND_DOWN, Decimal
from typing import Any, Protocol

from stsgas.sts import group_digits
from stsgas.vending.kit.money import currency_decimals
from stsgas.vending.models import SaleStatus, TokenKind
from stsgas.vending.sales.pricing import Priced


def major(minor: int) -> Decimal:
    """Minor units as major units, by the currency's decimals (``STSGAS_CURRENCY_DECIMALS``,
    set per request by the guard; 2 outside a request)."""
    decimals = currency_decimals.get()
    return Decimal(minor).scaleb(-decimals).quantize(Decimal(1).scaleb(-decimals))


def money(minor: int | None) -> str | None:
    """Minor units as a string with the currency's decimals (never a float)."""
    return None if minor is None else str(major(minor))


def money_shown(amount: Decimal) -> str:
    """A credit in major units to the currency's decimals, rounded down: the token's
    finer 10^-5 digits are not money the customer can count."""
    quantum = Decimal(1).scaleb(-currency_decimals.get())
    return str(amount.quantize(quantum, rounding=ROUND_DOWN))


class TokenLike(Protocol):
    """What a receipt shows of a token (an ORM ``Token`` or a freshly issued row)."""

    @property
    def sequence(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def token_class(self) -> int: ...
    @property
    def subclass(self) -> int: ...
    @property
    def tid(self) -> int | None: ...
    @property
    def amount(self) -> int | None: ...
    @property
    def digits(self) -> str: ...


def token_view(tok: TokenLike) -> dict[str, Any]:
    """One token as the receipt shows it."""
    return {
        "sequence": tok.sequence,
        "kind": tok.kind,
        "token_class": tok.token_class,
        "subclass": tok.subclass,
        "tid": tok.tid,
        "digits": tok.digits,
        "grouped": group_digits(tok.digits),
    }


def build(
    *,
    sale_id: int,
    meter_pan: str,
    mode: str,
    channel: str,
    operator: str,
    vendor_id: int | None,
    created_at: datetime,
    priced: Priced,
    tariff_steps: list[dict[str, Any]],
    tokens: Sequence[TokenLike],
    fixed_per_period: int = 0,
    fixed_period: str = "sale",
) -> dict[str, Any]:
    """The receipt of a sale; the same body answers an idempotent replay."""
    credit = next(t for t in tokens if t.kind == TokenKind.CREDIT.value)
    kcts = [t for t in tokens if t.kind == TokenKind.KCT.value]
    body: dict[str, Any] = {
        "sale_id": sale_id,
        "status": SaleStatus.COMPLETED.value,
        "meter_number": meter_pan,
        "mode": mode,
        "channel": channel,
        "operator": operator,
        "vendor_id": vendor_id,
        "time": created_at.isoformat(timespec="seconds"),
        "tid": credit.tid,
        "amount_tendered": money(priced.tendered),
        "amount_paid": money(priced.paid),
        "change": money(priced.change),
        "fixed_charge": money(priced.fixed_charge),
        # the fixed charge per period ("sale" or "month") and, monthly, how many months
        # this sale paid (this month and any arrears; 0 when the month was paid already)
        "fixed_charge_period": fixed_period,
        "fixed_charge_rate": money(fixed_per_period),
        "fixed_charge_months": priced.fixed_months,
        "debt_recovered": money(priced.debt_recovered),
        "tax": money(priced.tax),
        "energy_amount": money(priced.energy_amount),
        "units_credited": None,
        "money_credited": None,
        "tariff_steps": tariff_steps,
        "key_change": bool(kcts),
        "tokens": [token_view(t) for t in tokens],
        "token": group_digits(credit.digits),
        "copy": False,
        "notes": [],
    }
    credited = Decimal(credit.amount or 0)
    if priced.credit_units is not None:
        body["units_credited"] = str((credited / 10).quantize(Decimal("0.1")))
    else:
        # the token's currency field rounds up (never less than paid for), to 10^-5
        body["money_credited"] = money_shown(credited / 100_000)
    if kcts:
        body["notes"].append(
            f"KEY CHANGE: enter the {len(kcts)} key change tokens first, "
            f"then the credit token, in the order shown"
        )
    return body
