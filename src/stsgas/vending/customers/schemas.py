"""Customer bodies."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from stsgas.vending.kit.money import Balance


class CustomerIn(BaseModel):
    """A new customer."""

    name: str = Field(min_length=1, max_length=200)
    address: str = Field(default="", max_length=400)
    phone: str = Field(default="", max_length=32, pattern=r"^\+?[0-9 ()-]*$")
    #: money owed, in major units ("12.50"); kept in minor units
    debt_balance: Balance = 0
    #: send every sale's token(s) and receipt to ``phone`` by SMS
    sms_tokens: bool = False


class CustomerPatch(BaseModel):
    """Changes to a customer (only the fields given)."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    address: str | None = Field(default=None, max_length=400)
    phone: str | None = Field(default=None, max_length=32, pattern=r"^\+?[0-9 ()-]*$")
    debt_balance: Balance | None = None
    sms_tokens: bool | None = None


class CustomerOut(BaseModel):
    """A customer."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    address: str
    phone: str
    debt_balance: int
    sms_tokens: bool
    created_at: datetime


class CustomerMaskedOut(BaseModel):
    """A customer as a cashier sees it: enough to confirm who pays, not to identify.

    No address and no debt; the name keeps each word's initial, the phone its
    last three digits.
    """

    id: int
    name: str
    phone: str
    masked: bool = True
