"""Password and API-token hashing.

Passwords: argon2id (argon2-cffi defaults). API tokens are 256-bit random
secrets, so a plain SHA-256 is enough to store them and lets a request
find its token with one indexed lookup.
"""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()
TOKEN_PREFIX = "sts_"
_DUMMY: list[str] = []


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    return _HASHER.hash(password)


def _dummy_hash() -> str:
    """A hash of nothing anyone knows, made once: what unknown users are checked against."""
    if not _DUMMY:
        _DUMMY.append(_HASHER.hash(new_api_token()))
    return _DUMMY[0]


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; a missing hash never matches.

    Without a hash (unknown or disabled user) the password is still checked,
    against a dummy hash, so the answer takes as long as for a real account.
    """
    try:
        ok = _HASHER.verify(password_hash or _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return False
    return ok and bool(password_hash)


def new_api_token() -> str:
    """A fresh bearer token secret (shown to its owner once)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What is stored for ``token``."""
    return hashlib.sha256(token.encode()).hexdigest()
