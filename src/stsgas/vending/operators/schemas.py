"""Request and response bodies of the operator endpoints."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from stsgas.vending.kit.money import PositiveAmount
from stsgas.vending.models import Role


class LoginIn(BaseModel):
    """Username and password."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class TokenOut(BaseModel):
    """A bearer token, shown once."""

    access_token: str
    token_type: str = "bearer"
    expires_at: datetime | None
    operator: OperatorOut


class ApiTokenIn(BaseModel):
    """A named API token for a device or system (POS terminal, SMS gateway)."""

    name: str = Field(min_length=1, max_length=100)
    #: hours until it expires; omitted: the maximum (``api_token_max_hours``)
    ttl_hours: int | None = Field(default=None, ge=1, le=24 * 366)


class OperatorIn(BaseModel):
    """A new operator."""

    username: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")
    display_name: str = Field(default="", max_length=100)
    role: Role
    password: str = Field(min_length=8, max_length=256)
    vendor_id: int | None = None


class OperatorOut(BaseModel):
    """An operator as the API shows it (never the password hash)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    display_name: str
    role: Role
    vendor_id: int | None
    is_active: bool
    #: None until a second admin activates the account (it approves nothing before)
    activated_at: datetime | None
    enabled_by_id: int | None
    must_change_password: bool


class PasswordChangeIn(BaseModel):
    """The owner's new password, proven by the old one."""

    username: str = Field(min_length=1, max_length=64)
    old_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=8, max_length=256)


class PasswordResetIn(BaseModel):
    """A temporary password an admin sets (its owner must change it to sign in)."""

    password: str = Field(min_length=8, max_length=256)


class ApiTokenOut(BaseModel):
    """A token's record (never the secret or its hash)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class LockoutOut(BaseModel):
    """A source an account is locked out from, and until when."""

    model_config = ConfigDict(from_attributes=True)

    source: str
    locked_until: datetime | None


class VendorIn(BaseModel):
    """A new vendor."""

    name: str = Field(min_length=1, max_length=100)


class TopUpIn(BaseModel):
    """Money a vendor paid in to its float, in major units like a sale ("1000" is 1000.00)."""

    amount: PositiveAmount


class VendorOut(BaseModel):
    """A vendor and its float (minor units)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    float_balance: int
    is_active: bool


TokenOut.model_rebuild()
