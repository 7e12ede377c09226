"""The sales API's name for the package's one transaction boundary.

The boundary and its retry policy live in :mod:`stsgas.vending.transaction`
(they serve every writer, not only sales); endpoints that import them from
here get the same objects.
"""

from __future__ import annotations

from stsgas.vending.transaction import (
    ATTEMPTS,
    LOCK_NOT_AVAILABLE,
    LOCK_TIMEOUT,
    LOST_AT_COMMIT,
    ReadChanged,
    backoff,
    busy,
    lock_wait_refusal,
    read_only,
    run,
)

__all__ = [
    "ATTEMPTS",
    "LOCK_NOT_AVAILABLE",
    "LOCK_TIMEOUT",
    "LOST_AT_COMMIT",
    "ReadChanged",
    "backoff",
    "busy",
    "lock_wait_refusal",
    "read_only",
    "run",
]
