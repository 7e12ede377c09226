"""Decoder-side checks a meter applies after a token decodes (§7.3.7 TokenValidation).

The order, as the standard gives it: *Old* if the TID is below the smallest
remembered TID while the memory is full, *Used* if the TID is remembered,
*KeyExpired* if ``TID >> 16 > KEN``. Key change tokens carry no TID and skip
these checks. The memory itself is the meter's; these are pure functions over it.
"""

from __future__ import annotations

from collections.abc import Collection
from enum import Enum

from stsgas.sts.tid import key_expired

__all__ = ["TidVerdict", "check_tid", "remember_tid"]


class TidVerdict(Enum):
    """Outcome of the TID and key-expiry checks."""

    #: The token may be applied.
    OK = "ok"
    #: The TID is already in the memory (IEC status 10).
    USED = "used"
    #: The memory is full and the TID is older than all of it (IEC status 9).
    OLD = "old"
    #: ``TID >> 16 > KEN`` (IEC status 11).
    EXPIRED = "expired"


def check_tid(tid: int, remembered: Collection[int], capacity: int, ken: int = 255) -> TidVerdict:
    """Classify a decoded token's TID against the meter's TID memory and KEN."""
    if len(remembered) >= capacity and remembered and tid < min(remembered):
        return TidVerdict.OLD
    if tid in remembered:
        return TidVerdict.USED
    if key_expired(tid, ken):
        return TidVerdict.EXPIRED
    return TidVerdict.OK


def remember_tid(remembered: Collection[int], tid: int, capacity: int) -> tuple[int, ...]:
    """The memory after accepting ``tid``: evict the smallest when full; kept sorted."""
    values = sorted({*remembered, tid})
    while len(values) > capacity:
        values.pop(0)
    return tuple(values)
