"""Choose the security module the settings ask for: software or PKCS#11 (issue 13).

The one place that turns ``STSGAS_SECURITY_MODULE`` and its companions into a
:class:`~stsgas.vending.keys.security.SecurityModule`, so the app, ``stsgas
serve``, ``stsgas init`` and ``stsgas keys`` agree on it.
"""

from __future__ import annotations

import hashlib
import threading

from stsgas.vending.keys.master import load_master_key
from stsgas.vending.keys.security import KeyCustodyError, SecurityModule, SoftwareSecurityModule
from stsgas.vending.settings import Settings

_OPEN: dict[tuple[str, str, bytes], SecurityModule] = {}
_OPEN_LOCK = threading.Lock()


def uses_hsm(settings: Settings) -> bool:
    """True when the vending keys live in a PKCS#11 token."""
    return settings.security_module == "pkcs11"


def pkcs11_pin(settings: Settings) -> str:
    """The token PIN from ``STSGAS_PKCS11_PIN`` or the first line of ``..._PIN_FILE``."""
    if settings.pkcs11_pin is not None:
        return settings.pkcs11_pin.get_secret_value()
    if settings.pkcs11_pin_file is not None:
        try:
            lines = settings.pkcs11_pin_file.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise KeyCustodyError(
                f"cannot read the PIN file {settings.pkcs11_pin_file}: {exc.strerror}"
            ) from None
        if lines and lines[0]:
            return lines[0]
        raise KeyCustodyError(f"the PIN file {settings.pkcs11_pin_file} is empty")
    raise KeyCustodyError("set STSGAS_PKCS11_PIN_FILE (or STSGAS_PKCS11_PIN) for the HSM token")


def open_hsm(settings: Settings) -> SecurityModule:
    """The PKCS#11 module of the configured token (one per token and process)."""
    from stsgas.vending.keys.hsm import Pkcs11SecurityModule

    if settings.pkcs11_library is None or not settings.pkcs11_token_label:
        raise KeyCustodyError(
            "STSGAS_SECURITY_MODULE=pkcs11 needs STSGAS_PKCS11_LIBRARY and "
            "STSGAS_PKCS11_TOKEN_LABEL"
        )
    pin = pkcs11_pin(settings)
    where = (
        str(settings.pkcs11_library),
        settings.pkcs11_token_label,
        hashlib.sha256(pin.encode()).digest(),
    )
    with _OPEN_LOCK:
        module = _OPEN.get(where)
        if module is None:
            module = Pkcs11SecurityModule(
                library=settings.pkcs11_library, token_label=settings.pkcs11_token_label, pin=pin
            )
            _OPEN[where] = module
        return module


def security_module(settings: Settings) -> SecurityModule | None:
    """The configured module; None when software custody has no master key configured."""
    if uses_hsm(settings):
        return open_hsm(settings)
    master = load_master_key(settings)
    return None if master is None else SoftwareSecurityModule(master)
