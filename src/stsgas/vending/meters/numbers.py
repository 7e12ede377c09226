"""Meter numbers as people type them: an 11- or 13-digit DRN or the 18-digit PAN.

Check digits are verified with ``stsgas.sts`` (Luhn over the DRN, and over
IIN + DRN for the PAN); a typo is caught before any money is taken.
"""

from __future__ import annotations

from dataclasses import dataclass

from stsgas.sts import IdentityError, pan_from_iin_drn, split_pan
from stsgas.vending.errors import BadMeterNumber

_IIN_BY_DRN_LENGTH = {11: "600727", 13: "0000"}


@dataclass(frozen=True, slots=True, kw_only=True)
class MeterNumber:
    """A checked meter identity."""

    iin: str
    drn: str
    pan: str


def parse_meter_number(text: str, *, iin: str | None = None) -> MeterNumber:
    """Parse a DRN (with ``iin`` or the IIN its length implies) or a full PAN.

    Raises:
        BadMeterNumber: not digits, wrong length, or a failed check digit.
    """
    digits = "".join(ch for ch in text if ch not in " -")
    if not digits.isascii() or not digits.isdigit():
        raise BadMeterNumber("a meter number has digits only", number=text)
    try:
        if len(digits) == 18 and iin is None:
            got_iin, drn = split_pan(digits)
            return MeterNumber(iin=got_iin, drn=drn, pan=digits)
        use_iin = iin if iin is not None else _IIN_BY_DRN_LENGTH.get(len(digits))
        if use_iin is None:
            raise BadMeterNumber(
                "a meter number is an 11- or 13-digit DRN or an 18-digit PAN", number=text
            )
        return MeterNumber(iin=use_iin, drn=digits, pan=pan_from_iin_drn(use_iin, digits))
    except IdentityError as exc:
        raise BadMeterNumber(str(exc), number=text) from None
