"""SMS channel settings (env prefix ``STSGAS_SMS_``), apart from the core settings."""

from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class SmsSettings(BaseSettings):
    """How the SMS channel reaches the gateway and whom it sells as.

    ``inbound_token`` is the shared secret the gateway sends in
    ``X-Gateway-Token``; without it configured the webhook refuses every
    message (a forged SMS must never buy gas). ``operator`` is the username
    of the operator SMS sales are made as; ``BUY`` is paid from the
    customer's own wallet (``stsgas.vending.wallet``), not from its float.
    """

    model_config = SettingsConfigDict(env_prefix="STSGAS_SMS_", extra="ignore")

    inbound_token: SecretStr | None = None
    gateway_url: str | None = None
    gateway_token: SecretStr | None = None
    operator: str = "sms"
    #: inbound messages per phone number per window
    per_phone_limit: int = 10
    #: meter commands (BAL/BUY) per meter per window
    per_meter_limit: int = 5
    #: meter commands (BAL/BUY) per customer (all their meters) per window
    per_customer_limit: int = 8
    window_minutes: int = 60
