"""The API shape of a liability account's history: one model for a vendor's float and a
customer's wallet, as both come from :func:`stsgas.vending.ledger.service.liability_history`."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

__all__ = ["MoveOut"]


class MoveOut(BaseModel):
    """One movement (minor units): ``amount`` positive in, negative out; ``balance`` after it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    amount: int
    balance: int
    sale_id: int | None
    memo: str
