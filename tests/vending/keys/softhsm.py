"""A real SoftHSM token in a temporary folder, for the HSM tests.

``SOFTHSM2_CONF`` names the token folder; the library reads it once per process
(at C_Initialize), so one process serves one configuration: the tests share a
session-wide config and give each test its own token.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

LIBRARY = Path("/usr/lib/softhsm/libsofthsm2.so")
SO_PIN = "so-pin-1234"


@dataclass(frozen=True, slots=True)
class SoftHsm:
    """Where a test token is and how to log in to it."""

    conf: Path
    library: Path
    label: str
    pin: str

    def env(self) -> dict[str, str]:
        """The settings a server process needs to use this token."""
        return {
            "SOFTHSM2_CONF": str(self.conf),
            "STSGAS_SECURITY_MODULE": "pkcs11",
            "STSGAS_PKCS11_LIBRARY": str(self.library),
            "STSGAS_PKCS11_TOKEN_LABEL": self.label,
            "STSGAS_PKCS11_PIN": self.pin,
        }


def require_softhsm() -> None:
    """Fail (never skip) when SoftHSM is missing: `make test` installs it."""
    if not LIBRARY.exists() or shutil.which("softhsm2-util") is None:
        pytest.fail("softhsm2 is not installed: run scripts/ensure-system-deps.sh as root")


def write_conf(folder: Path) -> Path:
    """A SoftHSM config keeping its tokens under ``folder``."""
    tokens = folder / "tokens"
    tokens.mkdir(parents=True, exist_ok=True)
    conf = folder / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n"
    )
    return conf


def init_token(conf: Path, label: str | None = None, pin: str | None = None) -> SoftHsm:
    """Initialise a fresh token (``softhsm2-util --init-token --free``) under ``conf``."""
    require_softhsm()
    label = label or f"t-{secrets.token_hex(4)}"
    pin = pin or secrets.token_hex(6)
    subprocess.run(
        [
            "softhsm2-util",
            "--init-token",
            "--free",
            "--label",
            label,
            "--so-pin",
            SO_PIN,
            "--pin",
            pin,
        ],
        env={**os.environ, "SOFTHSM2_CONF": str(conf)},
        check=True,
        capture_output=True,
        timeout=60,
    )
    return SoftHsm(conf=conf, library=LIBRARY, label=label, pin=pin)
