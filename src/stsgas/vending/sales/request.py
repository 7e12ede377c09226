"""A sale request: what it is (:class:`SaleRequest`, who sells it, its fingerprint) and
its one parser, for the route and the event-loop shim alike.

Both read the same four things (meter number, amount, channel, the
Idempotency-Key header) and must refuse them in the same order with the
same codes: a blank or over-long key (422 ``invalid_input``), then the meter
number (422 ``bad_meter_number``: typed spellings become the PAN,
:mod:`stsgas.vending.meters.resolve`), then the amount (422 ``bad_amount``:
the strict money spelling of :mod:`stsgas.vending.kit.money`, positive, at
most :data:`MAX_PAID`). Nothing here reads the database.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import orjson

from stsgas.vending.errors import BadAmount, InvalidInput
from stsgas.vending.kit.money import minor_per_major, parse_money
from stsgas.vending.meters import resolve
from stsgas.vending.models import Channel, PaidFrom

if TYPE_CHECKING:
    from stsgas.vending.settings import Settings

__all__ = [
    "MAX_KEY",
    "MAX_PAID",
    "SaleBody",
    "SaleRequest",
    "Seller",
    "fingerprint",
    "parse_amount",
    "parse_meter_number",
    "parse_sale",
    "sale_from_body",
]

#: the largest payment accepted, in major units (base currency)
MAX_PAID = 10_000_000
#: the longest Idempotency-Key accepted
MAX_KEY = 255
_CHANNELS = frozenset(c.value for c in Channel)


@dataclass(frozen=True, slots=True, kw_only=True)
class SaleRequest:
    """A validated sale request."""

    meter_number: str
    paid: int
    channel: str
    idempotency_key: str | None
    #: which account pays (``PaidFrom``): the seller's float, a wallet, mobile money
    paid_from: str = PaidFrom.FLOAT.value
    #: the customer whose wallet pays (None: the meter's customer)
    payer_customer_id: int | None = None


class Seller(Protocol):
    """Who sells: an ORM ``Operator`` or an authenticated ``Principal``."""

    @property
    def id(self) -> int: ...
    @property
    def username(self) -> str: ...
    @property
    def vendor_id(self) -> int | None: ...


def fingerprint(req: SaleRequest, operator: Seller) -> str:
    """What makes two requests 'the same' for an idempotency key."""
    doc: dict[str, object] = {"meter": req.meter_number, "paid": req.paid, "operator": operator.id}
    if req.paid_from != PaidFrom.FLOAT.value:  # float sales keep their old fingerprints
        doc["paid_from"] = req.paid_from
    return hashlib.sha256(orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)).hexdigest()


def parse_amount(value: object, decimals: int) -> int:
    """The money paid (``kit.money`` spelling, positive, at most MAX_PAID) in minor units."""
    minor = parse_money(value, decimals)
    if minor <= 0:
        raise BadAmount("the amount must be a positive number")
    if minor > MAX_PAID * minor_per_major(decimals):
        raise BadAmount(f"the amount is above the largest sale ({MAX_PAID})")
    return minor


def parse_meter_number(text: str) -> str:
    """The PAN a typed meter number names: a typo is 422 ``bad_meter_number`` before
    any money is taken, never an unknown meter."""
    return resolve.normalise(text)


def parse_sale(
    *,
    meter_number: str,
    amount: object,
    channel: str,
    idempotency_key: str | None,
    decimals: int,
) -> SaleRequest:
    """A checked sale request, or the first :class:`InvalidInput` it earns."""
    if idempotency_key is not None:
        if not idempotency_key.strip():
            raise InvalidInput("the Idempotency-Key header is empty")
        if len(idempotency_key) > MAX_KEY:
            raise InvalidInput(f"the Idempotency-Key header is longer than {MAX_KEY}")
    if channel not in _CHANNELS:
        raise InvalidInput(f"unknown channel {channel!r}")
    return SaleRequest(
        meter_number=parse_meter_number(meter_number),
        paid=parse_amount(amount, decimals),
        channel=channel,
        idempotency_key=idempotency_key,
    )


class SaleBody(Protocol):
    """What a sale's JSON body carries: ``POST /sales`` and the wallet's purchases alike."""

    @property
    def meter_number(self) -> str: ...
    @property
    def amount(self) -> str | int: ...
    @property
    def channel(self) -> Channel: ...


def sale_from_body(body: SaleBody, idempotency_key: str | None, settings: Settings) -> SaleRequest:
    """The checked sale request of a route's body and key, in the app's currency: one
    spelling for every route that sells, so they refuse the same input the same way."""
    return parse_sale(
        meter_number=body.meter_number,
        amount=body.amount,
        channel=body.channel.value,
        idempotency_key=idempotency_key,
        decimals=settings.currency_decimals,
    )
