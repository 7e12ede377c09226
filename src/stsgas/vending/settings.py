"""All configuration in one pydantic-settings class (env prefix ``STSGAS_``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./var/stsgas.db"


class Settings(BaseSettings):
    """Settings of the vending service.

    ``master_key`` (hex, 32 bytes) or ``master_key_file`` (a file holding the
    hex) protects the vending keys at rest; see ``keys``. With
    ``security_module="pkcs11"`` the keys live in a hardware security module
    instead (``pkcs11_*``, docs/hsm.md) and no master key is used.
    """

    model_config = SettingsConfigDict(env_prefix="STSGAS_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    master_key: SecretStr | None = None
    master_key_file: Path | None = None
    demo: bool = False
    #: where vending keys live: ``software`` (AES-GCM under the master key) or ``pkcs11``
    security_module: Literal["software", "pkcs11"] = "software"
    #: the PKCS#11 library of the HSM (e.g. /usr/lib/softhsm/libsofthsm2.so)
    pkcs11_library: Path | None = None
    #: the label of the token holding the vending keys
    pkcs11_token_label: str | None = None
    #: the token's user PIN, or ``pkcs11_pin_file``: a file whose first line is the PIN
    pkcs11_pin: SecretStr | None = None
    pkcs11_pin_file: Path | None = None
    #: login tokens expire after this many hours
    token_ttl_hours: int = 12
    #: failed logins before the account locks (PCI DSS 8.3.4: at most 10)
    max_failed_logins: int = 10
    #: minutes an account stays locked from one source (PCI DSS 8.3.4: at least 30)
    lockout_minutes: int = 30
    #: the longest an API token may live, in hours; every token expires (90 days)
    api_token_max_hours: int = Field(default=24 * 90, ge=1)
    #: warn this many days before a vending key or a base date runs out
    key_warning_days: int = 90
    #: connection pool size per worker (PostgreSQL)
    pool_size: int = 10
    #: sales a vendor may make per minute (a vendor's own ``sales_per_minute`` overrides)
    vendor_sales_per_minute: int = 600
    #: sales one customer may receive per hour, over all channels but SMS and USSD (V4;
    #: those two count against the SMS channel's own limits)
    customer_sales_per_hour: int = 20
    #: serve plain sales on the event loop (PostgreSQL; ``sales.fast``): off sends every
    #: sale through the FastAPI route and a worker thread, as on SQLite
    fast_sales: bool = True
    #: digits after the decimal point of the currency (2: cents); amounts in requests
    #: may carry at most this many, and money is kept in units of 10**-decimals
    currency_decimals: int = Field(default=2, ge=0, le=6)
    #: request bodies larger than this many bytes are refused with 413 before they are
    #: read whole (a sale is under 200 bytes; a tariff with ten steps under 2 KiB)
    max_body_bytes: int = Field(default=65_536, ge=1_024)
    #: the body limit of a meter readout upload (its months, hours and events), which
    #: is larger than any other request's
    max_readout_bytes: int = Field(default=4 * 1024 * 1024, ge=1_024)
    #: the folder of pg_dump and pg_restore for ``stsgas db`` (default: the server's major
    #: version under /usr/lib/postgresql, then PATH)
    pg_bin_dir: Path | None = None
    #: run Alembic migrations when the app starts
    migrate_on_start: bool = False
    #: log lines as JSON (production) or as aligned text for a terminal (``console``)
    log_format: Literal["json", "console"] = "json"
    #: the root log level (DEBUG, INFO, WARNING, ...); secrets are never logged at any
    log_level: str = "INFO"
    #: on SQLite, run the scheduled jobs in a thread of the server (PostgreSQL: ``stsgas
    #: worker`` runs them from the job queue)
    jobs_in_process: bool = True
    #: when the daily integrity check runs (cron syntax, UTC)
    integrity_check_cron: str = "15 3 * * *"
    #: when the key-expiry and base-date warnings are logged (cron syntax, UTC)
    key_warnings_cron: str = "30 3 * * *"
    #: when the token SMS sweep runs (cron syntax, UTC): it sends the token SMS of sales
    #: committed while a server stopped before handing them to the SMS outbox
    token_sms_sweep_cron: str = "*/5 * * * *"
    #: how many hours back the token SMS sweep looks for such sales
    token_sms_sweep_hours: int = Field(default=24, ge=1, le=24 * 31)
    #: runs of a failing job before it is given up and shown as failed
    job_max_attempts: int = Field(default=5, ge=1)
    #: seconds before a failed job's first retry; doubled by each further retry
    job_retry_wait_seconds: int = Field(default=60, ge=0)
    #: the virtual meter page, linked from the console's menu (``stsgas serve --demo`` mounts
    #: it at ``/meter/``); unset: no link. A URL only: the vending side never imports the meter
    meter_page_url: str | None = None
    #: the utility's local time zone (IANA name): days of the daily report, and the months
    #: of the fixed charge and the recharge limit, begin at local midnight
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from stsgas.vending.kit.localtime import zone

        zone(value)  # UnknownTimeZone is a ValueError: pydantic reports the setting
        return value

    @property
    def zone(self) -> ZoneInfo:
        """The ``timezone`` setting as a zone."""
        from stsgas.vending.kit.localtime import zone

        return zone(self.timezone)

    @property
    def is_sqlite(self) -> bool:
        """True when the database is a SQLite file."""
        return self.database_url.startswith("sqlite")
