"""Request bodies of the credit-policy API (money in major units, never floats)."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from stsgas.vending.kit.money import Balance, PositiveAmount


class ClassIn(BaseModel):
    """A customer class: free gas each month (m³ for volume meters, money for amount
    meters) and the largest emergency advance its customers may ask for."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=32, pattern=r"^[a-z0-9_-]+$")
    name: str = Field(default="", max_length=100)
    #: free gas per month for a by-volume meter, m³ with up to 3 decimals ("6")
    free_m3: Decimal | None = Field(default=None, gt=0, le=1000, decimal_places=3)
    free_money: PositiveAmount | None = None
    emergency_max: PositiveAmount | None = None


class DebtPlanIn(BaseModel):
    """How a customer's debt is recovered from each sale: ``fixed`` ``amount`` or
    ``percent`` (0.01 .. 100) of what is left after the fixed charge, within
    ``min`` .. ``max``; never more than the debt or the sale."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["fixed", "percent"]
    amount: PositiveAmount | None = None
    percent: Decimal | None = Field(default=None, gt=0, le=100, decimal_places=2)
    min: Balance | None = None
    max: PositiveAmount | None = None


class PolicyIn(BaseModel):
    """A customer's class (its code; null: none) and debt plan (null: the tariff's
    recovery share applies). Both are set as given."""

    model_config = ConfigDict(extra="forbid")

    class_code: str | None = Field(default=None, max_length=32)
    debt_plan: DebtPlanIn | None = None


class EmergencyIn(BaseModel):
    """An emergency advance the customer asks for: given with the next sale, repaid
    from the sales after it."""

    model_config = ConfigDict(extra="forbid")

    amount: PositiveAmount
