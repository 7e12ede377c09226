"""Mobile-money settings (env prefix ``STSGAS_MPESA_``), apart from the core settings."""

from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class MpesaSettings(BaseSettings):
    """How the webhook authenticates the provider and how it asks the provider back.

    Without ``callback_token`` the webhook refuses every callback (a forged
    payment must never buy gas). ``api_url`` is the provider's API base (the
    OAuth token and the transaction-status query live under it; the local
    simulator's address in tests and demos). ``allowed_ips``: the addresses
    callbacks may come from, comma separated (empty: any). ``operator`` is the
    username sales paid by mobile money are recorded as.
    """

    model_config = SettingsConfigDict(env_prefix="STSGAS_MPESA_", extra="ignore")

    callback_token: SecretStr | None = None
    api_url: str | None = None
    consumer_key: str = ""
    consumer_secret: SecretStr | None = None
    shortcode: str = ""
    allowed_ips: str = ""
    operator: str = "mpesa"

    def allowed(self) -> frozenset[str]:
        """The allow-listed caller addresses (empty: any)."""
        return frozenset(ip.strip() for ip in self.allowed_ips.split(",") if ip.strip())
