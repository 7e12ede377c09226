"""Tariff bodies: money in major units in requests (minor units in answers), volume in litres."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from stsgas.vending.kit.money import Charge, Price
from stsgas.vending.models import FixedChargePeriod, MeterMode

MAX_STEPS = 10


class StepIn(BaseModel):
    """A price block up to ``up_to_litres`` of the month (None: no upper limit)."""

    up_to_litres: int | None = Field(default=None, gt=0)
    price_per_m3: Price


class VersionIn(BaseModel):
    """Prices from ``effective_from`` on; the fixed charge is due with every sale
    (``"sale"``, the default) or once a month (``"month"``)."""

    effective_from: AwareDatetime
    fixed_charge: Charge = 0
    fixed_charge_period: FixedChargePeriod = FixedChargePeriod.SALE
    tax_rate_bp: int = Field(default=0, ge=0, le=10_000)
    debt_recovery_bp: int = Field(default=0, ge=0, le=10_000)
    steps: list[StepIn] = Field(min_length=1, max_length=MAX_STEPS)

    @model_validator(mode="after")
    def _ascending(self) -> VersionIn:
        bounds = [s.up_to_litres for s in self.steps]
        if any(b is None for b in bounds[:-1]):
            raise ValueError("only the last step may have no upper limit")
        closed = [b for b in bounds if b is not None]
        if closed != sorted(set(closed)) or len(closed) != len(set(closed)):
            raise ValueError("step limits must strictly increase")
        return self


class TariffIn(BaseModel):
    """A new tariff with its first version."""

    name: str = Field(min_length=1, max_length=100)
    mode: MeterMode
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    version: VersionIn


class StepOut(BaseModel):
    """A price block."""

    model_config = ConfigDict(from_attributes=True)

    position: int
    up_to_litres: int | None
    price_per_m3: int


class VersionOut(BaseModel):
    """A tariff version."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    version: int
    effective_from: datetime
    fixed_charge: int
    fixed_charge_period: FixedChargePeriod
    tax_rate_bp: int
    debt_recovery_bp: int
    steps: list[StepOut]


class TariffOut(BaseModel):
    """A tariff with all its versions."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    mode: MeterMode
    currency: str
    versions: list[VersionOut]
