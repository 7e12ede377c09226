"""Receipt printing settings (``STSGAS_RECEIPT_*``), apart from the core settings."""

from __future__ import annotations

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from stsgas.vending.errors import VendingError


class BadPrintSetting(VendingError):
    """A ``STSGAS_RECEIPT_*`` setting of the wrong shape: nothing can be printed."""

    code = "bad_print_setting"
    status_code = 503
    title = "Receipt printing is misconfigured"


class PrintSettings(BaseSettings):
    """What a printed receipt says at its top and where the console prints it.

    ``printer`` is a network printer as ``host:port`` (raw TCP, usually port
    9100), checked when printing; unset, the console's "Print receipt" says no
    printer is set. The
    utility's name and the currency head every receipt.
    """

    model_config = SettingsConfigDict(env_prefix="STSGAS_RECEIPT_", extra="ignore")

    printer: str | None = None
    #: seconds to reach the printer and hand it the receipt before giving up
    timeout_seconds: float = Field(default=5.0, gt=0, le=120)
    utility_name: str = Field(default="Gas utility", max_length=64)
    #: the currency's code or sign printed beside every amount (e.g. ZAR, TZS)
    currency: str = Field(default="", max_length=8)
    #: characters per printed line: 32 for 58 mm paper, 48 for 80 mm
    columns: int = Field(default=32, ge=24, le=64)


def load() -> PrintSettings:
    """The settings as the environment has them now (read at each print, so a new
    printer needs no restart); :class:`BadPrintSetting` names a wrong one."""
    try:
        return PrintSettings()
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "STSGAS_RECEIPT_" + "_".join(str(p) for p in first.get("loc", ())).upper()
        raise BadPrintSetting(f"bad setting {name}: {first.get('msg', 'invalid')}") from exc


def address(value: str) -> tuple[str, int]:
    """``host:port`` as a pair; ValueError when it is not one."""
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"a printer is host:port (e.g. 192.168.1.50:9100), not {value!r}")
    return host.strip("[]"), int(port)
