"""USSD channel settings (env prefix ``STSGAS_USSD_``); limits and the selling operator
are the SMS channel's (:class:`~stsgas.vending.sms.settings.SmsSettings`)."""

from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class UssdSettings(BaseSettings):
    """``inbound_token`` is the shared secret the USSD gateway (or the proxy in front of
    it) sends in ``X-Gateway-Token``; without it configured the callback refuses every
    request, so a forged session can never buy gas."""

    model_config = SettingsConfigDict(env_prefix="STSGAS_USSD_", extra="ignore")

    inbound_token: SecretStr | None = None
