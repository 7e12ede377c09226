"""What a request is, once the meter is read: the pure decision of the sale pipeline.

After the read, :func:`decide` says what the request is: a replay of a
committed sale under its idempotency key, a number that names no meter, or
a sale that may go ahead (seller checked, meter checked, priced under the
tariff in force, and whether a key change comes first). :mod:`.pipeline`
acts on that answer. Refusals are raised here, in their one order. Nothing
here touches a database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from stsgas.vending.models import PaidFrom
from stsgas.vending.sales import payer, pricing
from stsgas.vending.sales.compose import check_meter, check_seller, price_sale
from stsgas.vending.sales.request import SaleRequest, Seller
from stsgas.vending.sales.rows import LockedMeter, VersionRow

__all__ = ["NO_METER", "Decision", "Go", "NoMeter", "Replay", "decide"]


@dataclass(frozen=True, slots=True)
class Replay:
    """A sale under the request's idempotency key is committed: answer it again."""

    sale_id: int


@dataclass(frozen=True, slots=True)
class NoMeter:
    """The number names no registered meter (a committed sale under the key may
    still answer a replay)."""


NO_METER: Final = NoMeter()


@dataclass(frozen=True, slots=True, kw_only=True)
class Go:
    """The sale may go ahead: the tariff version in force and the priced payment."""

    meter: LockedMeter
    version: VersionRow
    priced: pricing.Priced
    #: the meter's key data moves first (key change tokens precede the credit)
    key_change: bool


Decision = Replay | NoMeter | Go


def decide(meter: LockedMeter | None, req: SaleRequest, seller: Seller, now: datetime) -> Decision:
    """Replay → unknown meter → seller → meter state and tariff → price.

    Raises the refusal (``no_float``, ``meter_not_active``, ``no_tariff_in_force``,
    ``bad_amount``…) of the first rule the request breaks.
    """
    if meter is not None and meter.replay_id is not None:
        return Replay(meter.replay_id)
    if meter is None:
        return NO_METER
    if req.paid_from == PaidFrom.FLOAT.value:
        check_seller(seller)
    payer.check_wallet_meter(meter, req)
    version = check_meter(meter)
    priced = price_sale(meter, version, req.paid, now)
    return Go(meter=meter, version=version, priced=priced, key_change=meter.needs_key_change)
