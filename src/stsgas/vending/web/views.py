"""View models: the API's JSON turned into what a page shows, pure and testable.

Money arrives from the API in integer minor units and is shown with two
decimals; it is never a float on the way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from typing import Any, Final

from stsgas.sts import group_digits
from stsgas.vending.errors import BadAmount
from stsgas.vending.kit.money import currency_decimals, format_money, parse_money

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
]

_KIND_LABEL: Final = {
    "kct": "Key change token",
    "credit": "Credit token",
    "mgmt": "Management token",
}


def money(minor: int | str | None) -> str:
    """Minor units as a two-decimal amount (``1250`` -> ``"12.50"``).

    The receipts of the sales API already carry decimal strings; those pass through.
    """
    if minor is None:
        return "—"
    if isinstance(minor, str):
        return minor
    return f"{Decimal(minor).scaleb(-2):.2f}"


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


def credit_text(sale: Mapping[str, Any]) -> str:
    """What the token credits: m³ for a volume meter, money for an amount meter."""
    if sale.get("units_credited") is not None:
        return f"{sale['units_credited']} m³"
    if sale.get("money_credited") is not None:
        # to the currency's decimals, rounded down (older receipts carry the token's 10^-5)
        shown = Decimal(str(sale["money_credited"])).quantize(Decimal("0.01"), ROUND_DOWN)
        return f"{shown} (money credit)"
    units = sale.get("credit_units")
    if units is not None:
        return f"{Decimal(int(units)).scaleb(-1):.1f} m³"
    return money(sale.get("credit_money"))


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
        last_text = f"{when} UTC · paid {paid} · {credit_text(last)}"
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


def _tokens(raw: Sequence[Mapping[str, Any]]) -> list[TokenView]:
    ordered = sorted(raw, key=lambda t: int(t.get("sequence", 0)))
    # key change tokens are entered first, whatever order the API listed them in
    ordered.sort(key=lambda t: 0 if t.get("kind") == "kct" else 1)
    views = []
    kct = 0
    for t in ordered:
        digits = str(t["digits"])
        label = _KIND_LABEL.get(str(t.get("kind")), "Token")
        if t.get("kind") == "kct":
            kct += 1
            label = f"{label} {kct}"
        views.append(TokenView(label=label, digits=digits, grouped=group_digits(digits)))
    return views


def _step_text(step: Mapping[str, Any]) -> str:
    """One tariff step used, e.g. ``5.0 m³ at 1.50``; unknown shapes shown as key=value."""
    litres, price = step.get("litres"), step.get("price_per_m3")
    if isinstance(litres, int) and isinstance(price, int):
        return f"{Decimal(litres).scaleb(-3):.3f} m³ at {money(price)}/m³"
    return ", ".join(f"{k}={v}" for k, v in step.items())


def receipt_view(sale: Mapping[str, Any], *, copy: bool = False) -> ReceiptView:
    """Build the receipt from a sale as the sales API returns it."""
    lines = []
    if _nonzero(sale.get("change")):
        lines.append(ReceiptLine(label="Amount tendered", value=money(sale["amount_tendered"])))
    lines.append(ReceiptLine(label="Amount paid", value=money(sale.get("amount_paid"))))
    for key, label in (
        ("fixed_charge", _fixed_label(sale)),
        ("debt_recovered", "Debt recovered"),
        ("tax", "Tax"),
        ("energy_amount", "Gas"),
    ):
        if sale.get(key) is not None:
            lines.append(ReceiptLine(label=label, value=money(sale.get(key))))
    for step in sale.get("tariff_steps") or ():
        if isinstance(step, Mapping):
            lines.append(ReceiptLine(label="Tariff step", value=_step_text(step)))
    lines.append(ReceiptLine(label="Credit", value=credit_text(sale)))
    if _nonzero(sale.get("change")):
        lines.append(ReceiptLine(label="Change", value=money(sale["change"])))
    return ReceiptView(
        sale_id=int(sale.get("sale_id") or sale["id"]),
        at=str(sale.get("time") or sale.get("created_at") or "")[:19].replace("T", " ") + " UTC",
        meter=str(sale.get("meter_number") or sale.get("pan") or ""),
        customer=sale.get("customer_name"),
        channel=str(sale.get("channel", "")),
        operator=str(sale.get("operator") or sale.get("operator_username") or ""),
        status=str(sale.get("status", "completed")),
        paid=money(sale.get("amount_paid")),
        credited=credit_text(sale),
        key_change=bool(sale.get("key_change")),
        copy=copy or bool(sale.get("copy")),
        lines=lines,
        tokens=_tokens(sale.get("tokens") or ()),
        split=money_split(sale),
    )


def _nonzero(value: Any) -> bool:
    return value is not None and Decimal(str(value)) != 0


def _fixed_label(sale: Mapping[str, Any]) -> str:
    months = sale.get("fixed_charge_months")
    if sale.get("fixed_charge_period") != "month" or months is None:
        return "Fixed charge"
    rate = money(sale.get("fixed_charge_rate"))
    return f"Fixed charge ({months} month{'' if months == 1 else 's'} at {rate})"


def money_split(sale: Mapping[str, Any]) -> str:
    """Where the money of a sale went, in words: the fixed charge and debt when there
    are any, then tax and gas, then the change."""
    parts = []
    for key, word in (
        ("fixed_charge", "fixed charge"),
        ("debt_recovered", "debt"),
        ("tax", "tax"),
        ("energy_amount", "gas"),
        ("change", "change"),
    ):
        value = sale.get(key)
        if value is None or (key not in ("tax", "energy_amount") and not _nonzero(value)):
            continue
        months = sale.get("fixed_charge_months")
        if key == "fixed_charge" and sale.get("fixed_charge_period") == "month" and months:
            word = f"fixed charge ({months} month{'' if months == 1 else 's'})"
        parts.append(f"{word} {money(value)}")
    return " · ".join(parts)


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


def sale_row(sale: Mapping[str, Any]) -> SaleRow:
    """A sales-table row from a sale."""
    return SaleRow(
        id=int(sale.get("sale_id") or sale["id"]),
        at=str(sale.get("time") or sale.get("created_at") or "")[:16].replace("T", " "),
        meter=str(sale.get("meter_number") or sale.get("pan") or ""),
        channel=str(sale.get("channel", "")),
        paid=money(sale.get("amount_paid")),
        credited=credit_text(sale),
        status=str(sale.get("status", "")),
    )
