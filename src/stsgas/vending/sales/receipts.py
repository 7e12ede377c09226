"""The receipt: an itemised, typed record of a sale, stored with it (as JSON) for replays.

:func:`build` makes a :class:`Receipt`; :meth:`Receipt.as_json` is the body the
API answers and the database keeps, and :meth:`Receipt.from_json` reads such a
body back (a replay, a reprint, the console, an SMS reply), so every reader
works on named fields instead of dictionary keys. The parts it holds (tokens,
tariff steps, credit-policy lines) are :mod:`.receipt_parts`; its money is
shown by :mod:`.receipt_money`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from stsgas.sts import CURRENCY_UNIT, GAS_UNIT, group_digits
from stsgas.vending.kit.answer import note_sale
from stsgas.vending.models import SaleStatus, TokenKind
from stsgas.vending.sales.pricing import Priced
from stsgas.vending.sales.receipt_money import major, money_shown
from stsgas.vending.sales.receipt_parts import (
    ReceiptPolicyLine,
    ReceiptStep,
    ReceiptToken,
    TokenLike,
    decimal_of,
    int_of,
    text_of,
    token_view,
)


def _decimal_or(doc: Mapping[str, Any], key: str, default: Decimal) -> Decimal:
    found = decimal_of(doc.get(key))
    return default if found is None else found


@dataclass(frozen=True, slots=True, kw_only=True)
class Receipt:
    """A sale's receipt; money in major units as exact ``Decimal`` (never a float).

    ``reprint_count`` and ``cancelled_at`` belong to a read of a stored sale
    (:meth:`read_as`) and are left out of the JSON while None.
    """

    sale_id: int
    status: str
    meter_number: str
    mode: str
    channel: str
    operator: str
    vendor_id: int | None
    time: datetime
    tid: int | None
    amount_tendered: Decimal
    amount_paid: Decimal
    change: Decimal
    fixed_charge: Decimal
    #: the fixed charge per period ("sale" or "month") and, monthly, how many months
    #: this sale paid (this month and any arrears; 0 when the month was paid already)
    fixed_charge_period: str
    fixed_charge_rate: Decimal
    fixed_charge_months: int | None
    debt_recovered: Decimal
    tax: Decimal
    energy_amount: Decimal
    #: m³ for a volume meter, else None
    units_credited: Decimal | None
    #: major units for an amount meter, else None
    money_credited: Decimal | None
    tariff_steps: tuple[ReceiptStep, ...]
    key_change: bool
    tokens: tuple[ReceiptToken, ...]
    #: the credit token grouped for typing; None once the sale is cancelled
    token: str | None
    copy: bool
    notes: tuple[str, ...]
    reprint_count: int | None = None
    cancelled_at: datetime | None = None
    #: credit-policy lines, in the order they were applied (left out of the JSON when none)
    policy_lines: tuple[ReceiptPolicyLine, ...] = ()

    @property
    def credit(self) -> ReceiptToken | None:
        """The credit token (None once the sale is cancelled: its tokens are withheld)."""
        return next((t for t in self.tokens if t.kind == TokenKind.CREDIT.value), None)

    def as_json(self) -> dict[str, Any]:
        """The receipt's JSON body: what the API answers and the sale row keeps."""
        body: dict[str, Any] = {
            "sale_id": self.sale_id,
            "status": self.status,
            "meter_number": self.meter_number,
            "mode": self.mode,
            "channel": self.channel,
            "operator": self.operator,
            "vendor_id": self.vendor_id,
            "time": self.time.isoformat(timespec="seconds"),
            "tid": self.tid,
            "amount_tendered": str(self.amount_tendered),
            "amount_paid": str(self.amount_paid),
            "change": str(self.change),
            "fixed_charge": str(self.fixed_charge),
            "fixed_charge_period": self.fixed_charge_period,
            "fixed_charge_rate": str(self.fixed_charge_rate),
            "fixed_charge_months": self.fixed_charge_months,
            "debt_recovered": str(self.debt_recovered),
            "tax": str(self.tax),
            "energy_amount": str(self.energy_amount),
            "units_credited": text_of(self.units_credited),
            "money_credited": text_of(self.money_credited),
            "tariff_steps": [s.as_json() for s in self.tariff_steps],
            "key_change": self.key_change,
            "tokens": [t.as_json() for t in self.tokens],
            "token": self.token,
            "copy": self.copy,
            "notes": list(self.notes),
        }
        if self.policy_lines:
            body["policy_lines"] = [ln.as_json() for ln in self.policy_lines]
        if self.reprint_count is not None:
            body["reprint_count"] = self.reprint_count
        if self.cancelled_at is not None:
            body["cancelled_at"] = self.cancelled_at.isoformat(timespec="seconds")
        return body

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Receipt:
        """A receipt read back from its JSON body (an API answer or a stored sale).

        Bodies stored before the tendered/change and fixed-charge period fields
        existed read as a sale that gave no change and charged per sale."""
        paid = Decimal(str(doc["amount_paid"]))
        fixed = Decimal(str(doc["fixed_charge"]))
        cancelled = doc.get("cancelled_at")
        return cls(
            sale_id=int(doc["sale_id"]),
            status=str(doc["status"]),
            meter_number=str(doc["meter_number"]),
            mode=str(doc["mode"]),
            channel=str(doc["channel"]),
            operator=str(doc["operator"]),
            vendor_id=int_of(doc.get("vendor_id")),
            time=datetime.fromisoformat(str(doc["time"])),
            tid=int_of(doc.get("tid")),
            amount_tendered=_decimal_or(doc, "amount_tendered", paid),
            amount_paid=paid,
            change=_decimal_or(doc, "change", Decimal(0).quantize(paid)),
            fixed_charge=fixed,
            fixed_charge_period=str(doc.get("fixed_charge_period", "sale")),
            fixed_charge_rate=_decimal_or(doc, "fixed_charge_rate", fixed),
            fixed_charge_months=int_of(doc.get("fixed_charge_months")),
            debt_recovered=Decimal(str(doc["debt_recovered"])),
            tax=Decimal(str(doc["tax"])),
            energy_amount=Decimal(str(doc["energy_amount"])),
            units_credited=decimal_of(doc.get("units_credited")),
            money_credited=decimal_of(doc.get("money_credited")),
            tariff_steps=tuple(ReceiptStep.from_json(s) for s in doc.get("tariff_steps") or ()),
            key_change=bool(doc.get("key_change", False)),
            tokens=tuple(ReceiptToken.from_json(t) for t in doc.get("tokens") or ()),
            token=None if doc.get("token") is None else str(doc["token"]),
            copy=bool(doc.get("copy", False)),
            notes=tuple(str(n) for n in doc.get("notes") or ()),
            reprint_count=int_of(doc.get("reprint_count")),
            cancelled_at=None if cancelled is None else datetime.fromisoformat(str(cancelled)),
            policy_lines=tuple(
                ReceiptPolicyLine.from_json(ln) for ln in doc.get("policy_lines") or ()
            ),
        )

    def read_as(self, *, status: str, reprint_count: int, cancelled_at: datetime | None) -> Receipt:
        """The receipt as a read of its sale shows it now: with the sale's status and
        reprint count; a cancelled sale's without its token(s)."""
        read = replace(self, status=status, reprint_count=reprint_count)
        if status != SaleStatus.CANCELLED.value:
            return read
        return replace(
            read,
            tokens=(),
            token=None,
            cancelled_at=cancelled_at,
            notes=(*self.notes, "CANCELLED - its token is void"),
        )

    def copy_of(self, count: int, *, status: str) -> Receipt:
        """The receipt reprinted: the same token, marked as copy number ``count``."""
        return replace(
            self,
            copy=True,
            reprint_count=count,
            status=status,
            notes=(*self.notes, f"COPY {count} - this token was issued before"),
        )


def _step(step: Mapping[str, Any]) -> ReceiptStep:
    return ReceiptStep.from_json(step)


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
    policy_lines: tuple[ReceiptPolicyLine, ...] = (),
) -> Receipt:
    """The receipt of a sale; the same body answers an idempotent replay.

    It also notes the sale for the request's answer (``kit.answer``): the
    metrics count a 201 from that note, never by parsing the receipt back."""
    credit = next(t for t in tokens if t.kind == TokenKind.CREDIT.value)
    note_sale(channel, (t.token_class for t in tokens))
    kcts = [t for t in tokens if t.kind == TokenKind.KCT.value]
    credited = Decimal(credit.amount or 0)
    volume = priced.credit_units is not None
    notes = (
        (
            f"KEY CHANGE: enter the {len(kcts)} key change tokens first, "
            f"then the credit token, in the order shown",
        )
        if kcts
        else ()
    )
    return Receipt(
        sale_id=sale_id,
        status=SaleStatus.COMPLETED.value,
        meter_number=meter_pan,
        mode=mode,
        channel=channel,
        operator=operator,
        vendor_id=vendor_id,
        time=created_at.replace(microsecond=0),
        tid=credit.tid,
        amount_tendered=major(priced.tendered),
        amount_paid=major(priced.paid),
        change=major(priced.change),
        fixed_charge=major(priced.fixed_charge),
        fixed_charge_period=fixed_period,
        fixed_charge_rate=major(fixed_per_period),
        fixed_charge_months=priced.fixed_months,
        debt_recovered=major(priced.debt_recovered),
        tax=major(priced.tax),
        energy_amount=major(priced.energy_amount),
        units_credited=(credited * GAS_UNIT).quantize(GAS_UNIT) if volume else None,
        # the token's currency field rounds up (never less than paid for), to 10^-5
        money_credited=None if volume else Decimal(money_shown(credited * CURRENCY_UNIT)),
        tariff_steps=tuple(_step(s) for s in tariff_steps),
        key_change=bool(kcts),
        tokens=tuple(token_view(t) for t in tokens),
        token=group_digits(credit.digits),
        copy=False,
        notes=notes,
        policy_lines=policy_lines,
    )
