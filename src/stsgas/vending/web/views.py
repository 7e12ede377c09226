"""View models: the API's JSON turned into what a page shows, pure and testable.

A sale arrives as its typed :class:`~stsgas.vending.sales.receipts.Receipt`
(exact ``Decimal`` major units); other answers carry integer minor units.
Both are shown with the currency's decimals and never become a float.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from typing import Any, Final

from stsgas.sts import GAS_UNIT
from stsgas.vending.errors import BadAmount
from stsgas.vending.kit.money import currency_decimals, format_money, minor_unit, parse_money
from stsgas.vending.kit.volume import LITRE
from stsgas.vending.sales.receipt_parts import ReceiptStep, ReceiptToken
from stsgas.vending.sales.receipts import Receipt

__all__ = [
    "LookupView",
    "ReceiptLine",
    "ReceiptView",
    "SaleRow",
    "TokenView",
    "credit_text",
    "lookup_view",
    "money",
    "money_split",
    "parse_amount",
    "receipt_view",
    "sale_row",
    "token_views",
]

_KIND_LABEL: Final = {
    "kct": "Key change token",
    "credit": "Credit token",
    "mgmt": "Management token",
}


def money(amount: int | Decimal | str | None) -> str:
    """An amount shown with the currency's decimals: an int is minor units
    (``1250`` -> ``"12.50"``), a ``Decimal`` major units; the decimal strings
    of the API's other answers pass through."""
    decimals = currency_decimals.get()
    if amount is None:
        return "—"
    if isinstance(amount, str):
        return amount
    if isinstance(amount, Decimal):
        return str(amount.quantize(minor_unit(decimals)))
    return format_money(amount, decimals)


def parse_amount(text: str) -> str | None:
    """An amount typed by a cashier, as the sales API takes it ("12,5" -> "12.50").

    The one money parser (``kit.money``) with the currency's decimals; a comma
    may stand for the point and spaces around the number are ignored. None
    when it is refused or not positive.
    """
    decimals = currency_decimals.get()
    try:
        minor = parse_money(text.strip(" "), decimals, decimal_comma=True)
    except BadAmount:
        return None
    return format_money(minor, decimals) if minor > 0 else None


def credit_text(receipt: Receipt) -> str:
    """What the token credits: m³ for a volume meter, money for an amount meter."""
    if receipt.units_credited is not None:
        return f"{receipt.units_credited} m³"
    if receipt.money_credited is not None:
        # to the currency's decimals, rounded down (older receipts carry the token's 10^-5)
        unit = minor_unit(currency_decimals.get())
        return f"{receipt.money_credited.quantize(unit, ROUND_DOWN)} (money credit)"
    return "—"


def _last_credit(last: Mapping[str, Any]) -> str:
    """What a meter's last sale credited, from the lookup's stored columns (0.1 m³
    units for a volume meter, minor units for an amount meter)."""
    units = last.get("credit_units")
    if units is not None:
        return f"{(int(units) * GAS_UNIT).quantize(GAS_UNIT)} m³"
    return money(last.get("credit_money"))


@dataclass(frozen=True, slots=True, kw_only=True)
class LookupView:
    """The meter facts a vendor confirms before taking money."""

    meter: str
    customer: str | None
    mode: str
    mode_label: str
    status: str
    supply_group: str | None
    last_sale: str | None
    key_change: bool
    can_sell: bool
    warnings: Sequence[str] = field(default_factory=tuple)
    #: (problem code, sentence) for each reason a sale would be refused
    cannot_sell: Sequence[tuple[str, str]] = field(default_factory=tuple)


def lookup_view(body: Mapping[str, Any]) -> LookupView:
    """Build the lookup card from the API's meter lookup answer."""
    mode = str(body.get("mode", ""))
    last = body.get("last_sale")
    last_text = None
    if isinstance(last, Mapping):
        when = str(last.get("time") or last.get("created_at") or "")[:16].replace("T", " ")
        paid = money(last.get("amount_paid"))
        last_text = f"{when} UTC · paid {paid} · {_last_credit(last)}"
    group = body.get("supply_group")
    if isinstance(group, Mapping):
        group = f"SGC {group.get('sgc', '?')} · KRN {group.get('krn', '?')}"
    return LookupView(
        meter=str(body.get("pan") or body.get("meter") or body.get("number") or ""),
        customer=body.get("customer_name") or body.get("customer"),
        mode=mode,
        mode_label={"volume": "by volume (m³)", "amount": "by amount (money)"}.get(mode, mode),
        status=str(body.get("status", "")),
        supply_group=str(group) if group else None,
        last_sale=last_text,
        key_change=bool(body.get("key_change_needed") or body.get("needs_key_change")),
        can_sell=bool(body.get("can_sell", body.get("status") == "active")),
        warnings=tuple(str(w) for w in body.get("warnings") or ()),
        cannot_sell=tuple(
            (str(r.get("code", "")), str(r.get("detail", "")))
            for r in body.get("cannot_sell") or ()
            if isinstance(r, Mapping)
        ),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenView:
    """One token, grouped 4-4-4-4-4, with what it is for."""

    label: str
    digits: str
    grouped: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ReceiptLine:
    """One itemised line of the payment."""

    label: str
    value: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ReceiptView:
    """The receipt page and the POS result."""

    sale_id: int
    at: str
    meter: str
    customer: str | None
    channel: str
    operator: str
    status: str
    paid: str
    credited: str
    key_change: bool
    copy: bool
    lines: Sequence[ReceiptLine] = field(default_factory=tuple)
    #: where the money went, e.g. "fixed charge 1.00 · debt 0.90 · tax 1.04 · gas 6.90"
    split: str = ""
    tokens: Sequence[TokenView] = field(default_factory=tuple)


def token_views(tokens: Sequence[ReceiptToken]) -> list[TokenView]:
    """Tokens in the order they are entered: key change tokens first, then by sequence."""
    ordered = sorted(tokens, key=lambda t: (0 if t.kind == "kct" else 1, t.sequence))
    views = []
    kct = 0
    for t in ordered:
        label = _KIND_LABEL.get(t.kind, "Token")
        if t.kind == "kct":
            kct += 1
            label = f"{label} {kct}"
        views.append(TokenView(label=label, digits=t.digits, grouped=t.grouped))
    return views


def _step_text(step: ReceiptStep) -> str:
    """One tariff step used, e.g. ``5.000 m³ at 1.50/m³``."""
    return f"{(step.litres * LITRE).quantize(LITRE)} m³ at {money(step.price_per_m3)}/m³"


def receipt_view(receipt: Receipt, *, copy: bool = False) -> ReceiptView:
    """Build the receipt page from a sale's receipt."""
    lines = []
    if receipt.change:
        lines.append(ReceiptLine(label="Amount tendered", value=money(receipt.amount_tendered)))
    lines.append(ReceiptLine(label="Amount paid", value=money(receipt.amount_paid)))
    for amount, label in (
        (receipt.fixed_charge, _fixed_label(receipt)),
        (receipt.debt_recovered, "Debt recovered"),
        (receipt.tax, "Tax"),
        (receipt.energy_amount, "Gas"),
    ):
        lines.append(ReceiptLine(label=label, value=money(amount)))
    for step in receipt.tariff_steps:
        lines.append(ReceiptLine(label="Tariff step", value=_step_text(step)))
    for pl in receipt.policy_lines:  # credit policies: free gas, emergency credit, instalment
        gas = "" if pl.units is None else f" ({pl.units} m³)"
        lines.append(ReceiptLine(label=pl.label, value=f"{money(pl.amount)}{gas}"))
    lines.append(ReceiptLine(label="Credit", value=credit_text(receipt)))
    if receipt.change:
        lines.append(ReceiptLine(label="Change", value=money(receipt.change)))
    return ReceiptView(
        sale_id=receipt.sale_id,
        at=receipt.time.isoformat(sep=" ", timespec="seconds")[:19] + " UTC",
        meter=receipt.meter_number,
        customer=None,
        channel=receipt.channel,
        operator=receipt.operator,
        status=receipt.status,
        paid=money(receipt.amount_paid),
        credited=credit_text(receipt),
        key_change=receipt.key_change,
        copy=copy or receipt.copy,
        lines=lines,
        tokens=token_views(receipt.tokens),
        split=money_split(receipt),
    )


def _months(receipt: Receipt) -> int | None:
    """The months a monthly fixed charge covered (None: charged per sale)."""
    return receipt.fixed_charge_months if receipt.fixed_charge_period == "month" else None


def _fixed_label(receipt: Receipt) -> str:
    months = _months(receipt)
    if months is None:
        return "Fixed charge"
    rate = money(receipt.fixed_charge_rate)
    return f"Fixed charge ({months} month{'' if months == 1 else 's'} at {rate})"


def money_split(receipt: Receipt) -> str:
    """Where the money of a sale went, in words: the fixed charge and debt when there
    are any, then tax and gas, then the change."""
    months = _months(receipt)
    fixed = f"fixed charge ({months} month{'' if months == 1 else 's'})" if months else None
    parts = [
        (receipt.fixed_charge, fixed or "fixed charge", False),
        (receipt.debt_recovered, "debt", False),
        (receipt.tax, "tax", True),
        (receipt.energy_amount, "gas", True),
        (receipt.change, "change", False),
    ]
    return " · ".join(f"{word} {money(v)}" for v, word, always in parts if always or v)


@dataclass(frozen=True, slots=True, kw_only=True)
class SaleRow:
    """One line of a sales table."""

    id: int
    at: str
    meter: str
    channel: str
    paid: str
    credited: str
    status: str


def sale_row(receipt: Receipt) -> SaleRow:
    """A sales-table row from a sale's receipt."""
    return SaleRow(
        id=receipt.sale_id,
        at=receipt.time.isoformat(sep=" ", timespec="minutes")[:16],
        meter=receipt.meter_number,
        channel=receipt.channel,
        paid=money(receipt.amount_paid),
        credited=credit_text(receipt),
        status=receipt.status,
    )
