"""Request and response shapes of the sales API."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from stsgas.vending.kit.money import AmountIn
from stsgas.vending.models import Channel


class SaleIn(BaseModel):
    """A sale: meter number and the money paid (a decimal string, e.g. "25.00")."""

    model_config = ConfigDict(extra="forbid")

    meter_number: str = Field(min_length=1, max_length=40)
    amount: AmountIn = Field(
        description="money paid in major units: ASCII digits with at "
        "most the currency's decimals, or a whole number; never a float"
    )
    channel: Channel = Channel.API
    #: "wallet": the meter's customer's wallet pays instead of the seller's float
    paid_from: Literal["float", "wallet"] = "float"


class CancelIn(BaseModel):
    """Cancel a sale. Without ``token_used`` it is void at once; with it, a request
    to take the credit back waits for a second person. ``meter_credit`` is the
    credit the meter shows now (query code 01): required by volume, optional by
    amount (it only makes the preview exact)."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=400)
    token_used: bool = False
    meter_credit: str | None = Field(default=None, max_length=20)


Receipt = dict[str, Any]
