"""Where the master key comes from: the environment, or a file (never the database)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from stsgas.vending.keys.security import MASTER_KEY_BYTES, KeyCustodyError
from stsgas.vending.settings import Settings


def _parse(text: str, where: str) -> bytes:
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        raise KeyCustodyError(f"the master key in {where} is not hex") from None
    if len(key) != MASTER_KEY_BYTES:
        raise KeyCustodyError(f"the master key in {where} is not {MASTER_KEY_BYTES} bytes")
    return key


def load_master_key(settings: Settings) -> bytes | None:
    """The master key from ``STSGAS_MASTER_KEY`` or ``STSGAS_MASTER_KEY_FILE``, if set."""
    if settings.master_key is not None:
        return _parse(settings.master_key.get_secret_value(), "STSGAS_MASTER_KEY")
    if settings.master_key_file is not None:
        return _parse(settings.master_key_file.read_text(encoding="ascii"), "the master key file")
    return None


def create_master_key_file(path: Path) -> bytes:
    """Write a new random master key to ``path`` (mode 0600) unless one is there; return it."""
    if path.exists():
        return _parse(path.read_text(encoding="ascii"), str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(MASTER_KEY_BYTES)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(key.hex() + "\n")
    return key
