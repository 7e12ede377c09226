"""docs/settings.md lists every ``STSGAS_*`` setting (issue 13): each name the code uses
is in the table, and each name in the table is used, so the table cannot go stale."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic_settings import BaseSettings

from stsgas.vending.payments.settings import MpesaSettings
from stsgas.vending.printing.settings import PrintSettings
from stsgas.vending.settings import Settings
from stsgas.vending.sms.settings import SmsSettings
from stsgas.vending.ussd.settings import UssdSettings

ROOT = Path(__file__).resolve().parents[1]
NAME = re.compile(r"STSGAS_[A-Z0-9_]*[A-Z0-9]")
#: bare prefixes and patterns that stand for several names
#: the env prefixes (STSGAS_SMS_... in prose)
NOT_NAMES = {"STSGAS_SMS", "STSGAS_RECEIPT", "STSGAS_MPESA", "STSGAS_USSD"}


def _table(heading: str) -> set[str]:
    """The names in the first column of the table under ``heading``."""
    text = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    section = text.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return {m.group(1) for m in re.finditer(r"^\| `(STSGAS_[A-Z0-9_]+)` \|", section, re.M)}


def _fields(settings: type[BaseSettings]) -> set[str]:
    prefix = str(settings.model_config.get("env_prefix", ""))
    return {prefix + name.upper() for name in settings.model_fields}


def _named_in(paths: list[Path]) -> set[str]:
    found: set[str] = set()
    for path in paths:
        text = path.read_text(encoding="utf-8", errors="replace")
        for match in NAME.finditer(text):
            if "*" not in text[match.end() : match.end() + 2]:  # STSGAS_PKCS11_* is no name
                found.add(match.group())
    return found - NOT_NAMES


def test_every_setting_of_stsgas_is_in_the_table_and_back() -> None:
    """The settings classes' fields and the names written in src/ are the table."""
    in_code = (
        _fields(Settings)
        | _fields(SmsSettings)
        | _fields(PrintSettings)
        | _fields(UssdSettings)
        | _fields(MpesaSettings)
        | _named_in(sorted((ROOT / "src").rglob("*.py")))
    )
    assert in_code == _table("Settings of stsgas")


def test_every_setting_of_the_test_run_is_in_the_table_and_back() -> None:
    """The names the tests, the Makefile and the scripts read are the second table."""
    files = [
        *sorted((ROOT / "tests").rglob("*.py")),
        *sorted((ROOT / "scripts").iterdir()),
        ROOT / "Makefile",
    ]
    used = _named_in([f for f in files if f.is_file()]) - _named_in(
        sorted((ROOT / "src").rglob("*.py"))
    )
    for settings in (Settings, SmsSettings, PrintSettings, MpesaSettings, UssdSettings):
        used -= _fields(settings)
    assert used == _table("Settings of the test run")
