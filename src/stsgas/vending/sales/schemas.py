"""Request and response shapes of the sales API."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from stsgas.vending.kit.money import AmountIn
from stsgas.vending.models import Channel


class SaleIn(BaseModel):
    """A sale: meter number and the money paid (a decimal string, e.g. "25.00")."""

    model_config = ConfigDict(extra="forbid")

    meter_number: str = Field(min_length=1, max_length=40)
    amount: AmountIn = Field(description="money paid in major units: ASCII digits with at "
                             "most the currency's decimals, or a whole number; never a float")
    channel: Channel = Channel.API


class CancelIn(BaseModel):
    """Cancel a sale; ``token_used`` asks for a clear-credit token instead of a void."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=400)
    token_used: bool = False


Receipt = dict[str, Any]
