"""Meter bodies, and the lookup answer a vendor sees before taking money."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from stsgas.vending.models import MeterMode, MeterStatus


class MeterIn(BaseModel):
    """A new meter: its number (DRN or PAN), mode and key data."""

    number: str = Field(min_length=1, max_length=32)
    iin: Literal["600727", "0000"] | None = None
    mode: MeterMode
    supply_group_id: int
    ti: str = Field(default="01", pattern=r"^[0-9]{2}$")
    ken: int | None = Field(default=None, ge=0, le=255)
    base_date: Literal[1993, 2014, 2035] | None = None
    tariff_id: int | None = None
    customer_id: int | None = None
    #: the meter's recharge limit: litres (by volume) or minor units (by amount)
    recharge_limit: int | None = Field(default=None, gt=0, le=10**12, strict=True)


class RechargeLimitIn(BaseModel):
    """The most one token may credit, as the meter is set: litres (by volume) or minor
    units (by amount); null: no limit (the meter model's default)."""

    recharge_limit: int | None = Field(gt=0, le=10**12, strict=True)


class MeterOut(BaseModel):
    """A meter (key data names only; no key material)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    pan: str
    iin: str
    drn: str
    mode: MeterMode
    status: MeterStatus
    supply_group_id: int
    ti: str
    ken: int
    base_date: int
    tariff_id: int | None
    last_tid: int
    pending_supply_group_id: int | None
    pending_ti: str | None
    pending_base_date: int | None
    needs_key_change: bool
    #: what the meter itself runs, as last issued (load_tariff / set_tariff)
    loaded_tariff_version_id: int | None = None
    loaded_tariff_rate: int | None = None
    loaded_tariff_from: datetime | None = None
    loaded_tariff_seq: int | None = None
    recharge_limit: int | None


class StatusIn(BaseModel):
    """A status change with its reason."""

    status: MeterStatus
    reason: str = Field(default="", max_length=400)


class TariffIn(BaseModel):
    """Assign a tariff."""

    tariff_id: int


class LinkIn(BaseModel):
    """Link the meter to a customer."""

    customer_id: int


class KeyChangeIn(BaseModel):
    """Ask for a key change: any of a new supply group (SGC/KRN), TI or base date
    (a new group on another base date brings its base date), and why."""

    model_config = ConfigDict(extra="forbid")

    supply_group_id: int | None = None
    ti: str | None = Field(default=None, pattern=r"^[0-9]{2}$")
    base_date: Literal[1993, 2014, 2035] | None = None
    reason: str = Field(default="key change with the next sale", min_length=1, max_length=400)


class LastSaleOut(BaseModel):
    """The meter's newest sale."""

    id: int
    created_at: datetime
    amount_paid: int
    credit_units: int | None
    credit_money: int | None
    status: str


class Refusal(BaseModel):
    """One reason a sale would be refused."""

    code: str
    detail: str


class SupplyGroupRef(BaseModel):
    """Which supply group key a meter uses."""

    id: int
    sgc: str
    krn: int


class LookupOut(BaseModel):
    """What a vendor confirms with the customer before taking money."""

    meter_id: int
    pan: str
    drn: str
    #: masked ("A** L*******"): enough to confirm, not to identify
    customer_name: str | None
    mode: MeterMode
    status: MeterStatus
    supply_group: SupplyGroupRef
    tariff: str | None
    last_sale: LastSaleOut | None
    key_change_needed: bool
    key_change_reasons: list[str]
    warnings: list[str]
    can_sell: bool
    #: why a sale would be refused (empty when ``can_sell``): the problem code the
    #: sale would answer and a sentence for the person at the counter
    cannot_sell: list[Refusal]
    recharge_limit: int | None
