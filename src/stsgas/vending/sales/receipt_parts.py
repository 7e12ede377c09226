"""The parts a receipt is made of: its tokens, its tariff steps, its credit-policy lines.

Each is a frozen value that writes its own JSON object and reads it back;
:class:`.receipts.Receipt` holds tuples of them, and a reader that shows only
tokens or steps (the management views, the printed layout, the console's
pages) needs nothing of the whole receipt. The small JSON value helpers
(:func:`decimal_of`, :func:`int_of`, :func:`text_of`) are shared with
:class:`.receipts.Receipt`, whose body is written and read by the same rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from stsgas.sts import GAS_UNIT, group_digits
from stsgas.vending.sales.receipt_money import major


def decimal_of(text: Any) -> Decimal | None:
    """A JSON number or string as a ``Decimal`` (None stays None)."""
    return None if text is None else Decimal(str(text))


def int_of(value: Any) -> int | None:
    """A JSON value as an ``int`` (None stays None)."""
    return None if value is None else int(value)


def text_of(amount: Decimal | None) -> str | None:
    """A ``Decimal`` as its JSON string (None stays None)."""
    return None if amount is None else str(amount)


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


@dataclass(frozen=True, slots=True, kw_only=True)
class ReceiptToken:
    """One token as a receipt shows it (``grouped`` is derived from ``digits``)."""

    sequence: int
    kind: str
    token_class: int
    subclass: int
    tid: int | None
    digits: str

    @property
    def grouped(self) -> str:
        """The 20 digits in groups of four, as the customer types them."""
        return group_digits(self.digits)

    def as_json(self) -> dict[str, Any]:
        """The token's JSON object."""
        return {
            "sequence": self.sequence,
            "kind": self.kind,
            "token_class": self.token_class,
            "subclass": self.subclass,
            "tid": self.tid,
            "digits": self.digits,
            "grouped": self.grouped,
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> ReceiptToken:
        """A token read back from its JSON object."""
        return cls(
            sequence=int(doc["sequence"]),
            kind=str(doc["kind"]),
            token_class=int(doc["token_class"]),
            subclass=int(doc["subclass"]),
            tid=int_of(doc.get("tid")),
            digits=str(doc["digits"]),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ReceiptStep:
    """How much of one tariff step a sale bought (``price_per_m3`` in minor units)."""

    position: int
    litres: int
    price_per_m3: int
    amount: Decimal | None

    def as_json(self) -> dict[str, Any]:
        """The step's JSON object."""
        return {
            "position": self.position,
            "litres": self.litres,
            "price_per_m3": self.price_per_m3,
            "amount": text_of(self.amount),
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> ReceiptStep:
        """A step read back from its JSON object."""
        return cls(
            position=int(doc["position"]),
            litres=int(doc["litres"]),
            price_per_m3=int(doc["price_per_m3"]),
            amount=decimal_of(doc.get("amount")),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ReceiptPolicyLine:
    """A credit-policy line (``policies``): free basic gas, emergency credit given or
    repaid, a debt instalment; ``amount`` its money, ``units`` the gas given (m³)."""

    kind: str
    label: str
    amount: Decimal
    units: Decimal | None = None

    @classmethod
    def of(cls, kind: str, label: str, minor: int, units: int | None) -> ReceiptPolicyLine:
        """A line from minor units and 0.1 m³ gas units."""
        gas = None if units is None else (Decimal(units) * GAS_UNIT).quantize(GAS_UNIT)
        return cls(kind=kind, label=label, amount=major(minor), units=gas)

    def as_json(self) -> dict[str, Any]:
        """The line's JSON object."""
        return {
            "kind": self.kind,
            "label": self.label,
            "amount": str(self.amount),
            "units": text_of(self.units),
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> ReceiptPolicyLine:
        """A line read back from its JSON object."""
        return cls(
            kind=str(doc["kind"]),
            label=str(doc["label"]),
            amount=Decimal(str(doc["amount"])),
            units=decimal_of(doc.get("units")),
        )


def token_view(tok: TokenLike) -> ReceiptToken:
    """One token as the receipt shows it."""
    return ReceiptToken(
        sequence=tok.sequence,
        kind=tok.kind,
        token_class=tok.token_class,
        subclass=tok.subclass,
        tid=tok.tid,
        digits=tok.digits,
    )
