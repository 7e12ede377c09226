"""Supply group bodies. The vending key goes in; it never comes out."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field, SecretStr


class SupplyGroupIn(BaseModel):
    """A new supply group key revision."""

    name: str = Field(default="", max_length=100)
    sgc: str = Field(pattern=r"^[0-9]{6}$")
    krn: int = Field(ge=1, le=15)
    key_type: int = Field(default=2, ge=0, le=3)
    base_date: Literal[1993, 2014, 2035] = 2014
    ea: Literal[7, 9, 11] = 7
    dkga: Literal[2, 4] = 4
    ken: int = Field(default=255, ge=0, le=255)
    #: hex; accepted once, stored wrapped, never returned or logged
    vending_key: SecretStr
    key_expires_at: AwareDatetime | None = None


class KeyWarningOut(BaseModel):
    """A warning about key data running out."""

    code: str
    message: str
    at: datetime
    expired: bool


class SupplyGroupOut(BaseModel):
    """A supply group, without any key material."""

    id: int
    name: str
    sgc: str
    krn: int
    key_type: int
    base_date: int
    ea: int
    dkga: int
    ken: int
    key_expires_at: datetime | None
    is_active: bool
    warnings: list[KeyWarningOut]
