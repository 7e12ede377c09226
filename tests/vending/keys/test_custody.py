"""Choosing the security module from the settings (issue 13): each missing or unreadable
HSM setting is a clear KeyCustodyError naming the setting; the PIN comes from a file."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from stsgas.vending.keys import custody
from stsgas.vending.keys.hsm import HsmUnavailable, Pkcs11SecurityModule
from stsgas.vending.keys.security import KeyCustodyError, SoftwareSecurityModule
from stsgas.vending.settings import Settings
from tests.vending.keys.softhsm import SoftHsm


def _hsm_settings(softhsm: SoftHsm, **over: object) -> Settings:
    values: dict[str, object] = {
        "security_module": "pkcs11",
        "pkcs11_library": softhsm.library,
        "pkcs11_token_label": softhsm.label,
    }
    values.update(over)
    return Settings.model_validate(values)


def test_software_custody_needs_a_master_key() -> None:
    assert custody.security_module(Settings()) is None
    module = custody.security_module(Settings(master_key=SecretStr("00" * 32)))
    assert isinstance(module, SoftwareSecurityModule)


def test_the_pin_is_read_from_the_first_line_of_its_file(
    softhsm: SoftHsm, hsm: Pkcs11SecurityModule, tmp_path: Path
) -> None:
    pin = tmp_path / "pin"
    pin.write_text(f"{softhsm.pin}\nignored\n")
    settings = _hsm_settings(softhsm, pkcs11_pin_file=pin)
    module = custody.security_module(settings)
    assert isinstance(module, Pkcs11SecurityModule)
    assert module.token_label == softhsm.label
    assert custody.security_module(settings) is module  # one session per token and process


@pytest.mark.parametrize(
    ("over", "words"),
    [
        ({}, "set STSGAS_PKCS11_PIN_FILE (or STSGAS_PKCS11_PIN)"),
        ({"pkcs11_pin_file": "/nonexistent/pin"}, "cannot read the PIN file /nonexistent/pin"),
        ({"pkcs11_library": None, "pkcs11_pin": "1"}, "needs STSGAS_PKCS11_LIBRARY"),
    ],
)
def test_a_missing_hsm_setting_is_named(
    softhsm: SoftHsm, over: dict[str, object], words: str
) -> None:
    with pytest.raises(KeyCustodyError, match=words.replace("(", r"\(").replace(")", r"\)")):
        custody.security_module(_hsm_settings(softhsm, **over))


def test_an_empty_pin_file_and_a_wrong_pin_are_refused(
    softhsm: SoftHsm, hsm: Pkcs11SecurityModule, tmp_path: Path
) -> None:
    empty = tmp_path / "pin"
    empty.write_text("\n")
    with pytest.raises(KeyCustodyError, match="is empty"):
        custody.security_module(_hsm_settings(softhsm, pkcs11_pin_file=empty))
    with pytest.raises(HsmUnavailable, match="PIN of token"):
        custody.security_module(_hsm_settings(softhsm, pkcs11_pin="not-the-pin"))
