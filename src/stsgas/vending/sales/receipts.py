"""The receipt: an itemised, JSON-ready record of a sale, stored with it for replays."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from stsgas.sts import group_digits
from stsgas.vending.models import Meter, Operator, Sale, Token, TokenKind


def money(minor: int | None) -> str | None:
    """Minor units as a 2-decimal string (never a float)."""
    if minor is None:
        return None
    return str((Decimal(minor) / 100).quantize(Decimal("0.01")))


def token_view(tok: Token) -> dict[str, Any]:
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


def build(sale: Sale, tokens: list[Token], *, meter: Meter, operator: Operator) -> dict[str, Any]:
    """The receipt of a sale; the same body answers an idempotent replay."""
    credit = next(t for t in tokens if t.kind == TokenKind.CREDIT.value)
    kcts = [t for t in tokens if t.kind == TokenKind.KCT.value]
    body: dict[str, Any] = {
        "sale_id": sale.id,
        "status": sale.status,
        "meter_number": meter.pan,
        "mode": meter.mode,
        "channel": sale.channel,
        "operator": operator.username,
        "vendor_id": sale.vendor_id,
        "time": sale.created_at.isoformat(timespec="seconds"),
        "tid": credit.tid,
        "amount_paid": money(sale.amount_paid),
        "fixed_charge": money(sale.fixed_charge),
        "debt_recovered": money(sale.debt_recovered),
        "tax": money(sale.tax),
        "energy_amount": money(sale.energy_amount),
        "units_credited": None,
        "money_credited": None,
        "tariff_steps": sale.tariff_steps,
        "key_change": sale.key_change,
        "tokens": [token_view(t) for t in tokens],
        "token": group_digits(credit.digits),
        "copy": False,
        "notes": [],
    }
    credited = Decimal(credit.amount or 0)
    if sale.credit_units is not None:
        body["units_credited"] = str(credited / 10)
    else:
        # the currency field rounds up (never less than paid for), to 10^-5
        body["money_credited"] = str((credited / 100_000).normalize().quantize(Decimal("0.01"))
                                     if credited % 1000 == 0 else (credited / 100_000))
    if kcts:
        body["notes"].append(
            f"KEY CHANGE: enter the {len(kcts)} key change tokens first, "
            f"then the credit token, in the order shown"
        )
    return body
