"""Which meter a typed number names: the one rule for sales, SMS, management and lookup.

A number is a DRN (11 digits under IIN 600727, 13 under IIN 0000) or the
18-digit PAN; spaces and dashes are ignored and the check digits must hold
(:mod:`.numbers`). The DRN's length fixes its IIN, so every spelling gives
one PAN, and the meter is looked up by that PAN (unique) and nothing else:
no reader can pick another row whose ``drn`` column happens to repeat the
digits, and none has to decide between two.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from stsgas.vending.errors import MeterNotFound
from stsgas.vending.meters.numbers import parse_meter_number
from stsgas.vending.meters.repository import MeterRepository
from stsgas.vending.models import Meter

__all__ = ["find", "normalise", "resolve"]


def normalise(text: str) -> str:
    """The PAN a typed meter number names (check digits verified).

    Raises:
        BadMeterNumber: not a DRN or PAN, or a failed check digit (422
        ``bad_meter_number``, before any money is taken).
    """
    return parse_meter_number(text).pan


def find(session: Session, text: str, *, full: bool = False) -> Meter | None:
    """The meter the number names, or None when none is registered; ``full`` loads
    its supply group and tariff with it."""
    return MeterRepository(session).by_pan(normalise(text), full=full)


def resolve(session: Session, text: str, *, full: bool = False) -> Meter:
    """The meter the number names (as :func:`find`), or :class:`MeterNotFound` (404)."""
    pan = normalise(text)
    meter = MeterRepository(session).by_pan(pan, full=full)
    if meter is None:
        raise MeterNotFound(f"no meter {pan} is registered", pan=pan)
    return meter
