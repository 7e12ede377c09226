"""The versioned envelope every JSON record of the meter's state is kept in.

Each JSON record is compact ``[version, value]``. ``to_record`` writes today's
version; ``from_record`` also reads every older one, giving the fields a record
predates the meaning the older meter gave them, and says it was older so the
meter writes it back in today's version at its next commit. Both the state
values (:mod:`stsgas.meter.state`) and the accumulated lists
(:mod:`stsgas.meter.history`) are written and read through this one envelope.
"""

from __future__ import annotations

import json
from typing import Any, Final

from stsgas.meter.errors import RecordError

__all__ = ["ENCODER", "pack", "unpack"]

#: one compact encoder for every JSON record (json.dumps with separators builds one a call)
ENCODER: Final = json.JSONEncoder(separators=(",", ":"))


def pack(version: int, value: object) -> bytes:
    """The record's bytes: ``[version, value]``, compact."""
    return ENCODER.encode([version, value]).encode()


def unpack(name: str, data: bytes, newest: int) -> tuple[int, Any]:
    """``(version, value)`` of record ``name`` (RecordError unless a known version)."""
    try:
        version, value = json.loads(data)
    except (ValueError, TypeError) as exc:
        raise RecordError(f"record {name} is not [version, value]") from exc
    if not isinstance(version, int) or not 1 <= version <= newest:
        raise RecordError(f"record {name} has unknown version {version}")
    return version, value
