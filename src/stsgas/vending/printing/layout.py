"""The printed receipt: a typed :class:`Receipt` laid out as ESC/POS commands.

Plain ASCII apart from names (m3, not m³): cheap thermal printers carry few code
pages. Every itemised line of the receipt is printed with the currency, then the
token(s) in entry order, grouped in fours and printed large, and a QR code of
the credit token for phones that scan it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import TYPE_CHECKING

from stsgas.vending.kit.money import currency_decimals, minor_unit, to_major
from stsgas.vending.kit.volume import LITRE
from stsgas.vending.sales.receipt_parts import ReceiptStep, ReceiptToken
from stsgas.vending.sales.receipts import Receipt

if TYPE_CHECKING:  # python-escpos loads its printer profiles on import (~0.25 s): not
    from escpos.escpos import Escpos  # at every server start, only when printing

#: what each kind of token is called on paper
_KIND = {"kct": "Key change token", "credit": "Credit token", "mgmt": "Management token"}


@dataclass(frozen=True, slots=True, kw_only=True)
class PrintedReceipt:
    """A receipt and the names printed around it."""

    receipt: Receipt
    utility: str
    vendor: str | None
    #: the customer's name as the receipt may show it (masked), or None
    customer: str | None
    currency: str = ""
    columns: int = 32
    qr: bool = True


def escpos_bytes(doc: PrintedReceipt) -> bytes:
    """The receipt as the bytes a thermal printer prints."""
    from escpos.printer import Dummy

    printer = Dummy()
    compose(printer, doc)
    return printer.output


def compose(printer: Escpos, doc: PrintedReceipt) -> None:
    """Write the receipt to ``printer`` (a Dummy, a Usb or a Network printer)."""
    r = doc.receipt
    printer.hw("INIT")
    printer.set(align="center", bold=True, double_height=True, double_width=True)
    printer.textln(doc.utility)
    printer.set(align="center", bold=False, normal_textsize=True)
    if doc.vendor:
        printer.textln(doc.vendor)
    printer.textln("COPY" if r.copy else "GAS SALE RECEIPT")
    if r.status != "completed":
        printer.textln(r.status.upper())
    printer.set(align="left")
    rule = "-" * doc.columns
    printer.textln(rule)
    for label, value in _head(doc):
        printer.textln(_pair(label, value, doc.columns))
    printer.textln(rule)
    for label, value in _lines(r, doc.currency):
        printer.textln(_pair(label, value, doc.columns))
    printer.textln(rule)
    for i, (label, tok) in enumerate(_tokens(r.tokens), start=1):
        printer.textln(f"{i}. {label}")
        printer.set(align="center", bold=True, double_height=True)
        printer.textln(tok.grouped)
        printer.set(align="left", bold=False, normal_textsize=True)
    for note in r.notes:
        printer.textln(note)
    credit = r.credit
    if doc.qr and credit is not None:
        printer.set(align="center")
        printer.qr(credit.digits, native=True, size=5)
        printer.set(align="left")
    printer.cut()


def _head(doc: PrintedReceipt) -> list[tuple[str, str]]:
    r = doc.receipt
    rows = [
        ("Sale", f"#{r.sale_id}"),
        ("Date", r.time.isoformat(sep=" ", timespec="seconds")[:19] + " UTC"),
        ("Meter", r.meter_number),
    ]
    if doc.customer:
        rows.append(("Customer", doc.customer))
    rows.append(("Operator", r.operator))
    if doc.currency:
        rows.append(("Currency", doc.currency))
    return rows


def _money(amount: Decimal, currency: str) -> str:
    text = str(amount.quantize(minor_unit(currency_decimals.get())))
    return f"{currency} {text}" if currency else text


def _step(step: ReceiptStep, currency: str) -> str:
    price = _money(to_major(step.price_per_m3, currency_decimals.get()), currency)
    return f"{(step.litres * LITRE).quantize(LITRE)} m3 at {price}/m3"


def _credit(r: Receipt, currency: str) -> str:
    if r.units_credited is not None:
        return f"{r.units_credited} m3"
    if r.money_credited is not None:
        unit = minor_unit(currency_decimals.get())
        return _money(r.money_credited.quantize(unit, ROUND_DOWN), currency)
    return "-"


def _lines(r: Receipt, currency: str) -> list[tuple[str, str]]:
    """Every line of the itemised receipt, in the order the console shows them."""
    rows: list[tuple[str, str]] = []
    if r.change:
        rows.append(("Amount tendered", _money(r.amount_tendered, currency)))
    rows.append(("Amount paid", _money(r.amount_paid, currency)))
    fixed = "Fixed charge"
    if r.fixed_charge_period == "month" and r.fixed_charge_months is not None:
        months = r.fixed_charge_months
        fixed = f"Fixed charge ({months} month{'' if months == 1 else 's'})"
    rows += [
        (fixed, _money(r.fixed_charge, currency)),
        ("Debt recovered", _money(r.debt_recovered, currency)),
        ("Tax", _money(r.tax, currency)),
        ("Gas", _money(r.energy_amount, currency)),
    ]
    rows += [("Tariff step", _step(s, currency)) for s in r.tariff_steps]
    rows.append(("Credit", _credit(r, currency)))
    if r.change:
        rows.append(("Change", _money(r.change, currency)))
    return rows


def _tokens(tokens: tuple[ReceiptToken, ...]) -> list[tuple[str, ReceiptToken]]:
    """Tokens in entry order (key change tokens first, numbered), with their names."""
    out = []
    kct = 0
    for t in sorted(tokens, key=lambda t: (0 if t.kind == "kct" else 1, t.sequence)):
        label = _KIND.get(t.kind, "Token")
        if t.kind == "kct":
            kct += 1
            label = f"{label} {kct}"
        out.append((label, t))
    return out


def _pair(label: str, value: str, columns: int) -> str:
    """``label`` left and ``value`` right on one line; on two when they do not fit."""
    gap = columns - len(label) - len(value)
    if gap >= 1:
        return label + " " * gap + value
    return f"{label}\n{value.rjust(columns)}"
