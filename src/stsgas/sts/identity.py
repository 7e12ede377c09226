"""Meter identity (§6.1): IIN, DRN and the meter PAN, with their Luhn check digits.

Two forms of the 18-digit PAN exist:

* IIN ``600727`` (6 digits) + DRN of 11 digits (manufacturer 2, serial 8, check 1)
* IIN ``0000`` (4 digits) + DRN of 13 digits (manufacturer 4, serial 8, check 1)

followed by the PAN check digit over IIN + DRN.
"""

from __future__ import annotations

import functools
from typing import Final

from stsgas.sts.errors import IdentityError

__all__ = [
    "control_block",
    "drn_with_check",
    "luhn_check_digit",
    "pan_block",
    "pan_from_iin_drn",
    "split_pan",
    "validate_pan",
]

IIN_LONG: Final = "600727"
IIN_SHORT: Final = "0000"


def luhn_check_digit(digits: str) -> int:
    """The Luhn digit to append to ``digits``."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return (10 - total % 10) % 10


def _digits(value: str, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str")
    if not value.isascii() or not value.isdigit():
        raise IdentityError(f"{what} must contain digits only")
    return value


def drn_with_check(body: str) -> str:
    """Append the DRN check digit to a manufacturer code + serial number."""
    return body + str(luhn_check_digit(_digits(body, "DRN")))


def _iin_length(text: str) -> int:
    if text.startswith(IIN_LONG):
        return 6
    if text.startswith(IIN_SHORT):
        return 4
    raise IdentityError("the IIN must be 600727 or 0000")


def split_pan(pan: str) -> tuple[str, str]:
    """Split a valid PAN into ``(iin, drn)``."""
    pan = validate_pan(pan)
    n = _iin_length(pan)
    return pan[:n], pan[n:17]


def validate_pan(pan: str) -> str:
    """Check an 18-digit meter PAN: IIN, DRN check digit and PAN check digit.

    A sale checks its meter's PAN several times (the request, each
    :class:`~stsgas.sts.MeterConfig` it makes, the key derivation); the answers
    for recent plain strings are remembered, since the check is pure."""
    if type(pan) is str:
        return _checked_pan(pan)
    return _check_pan(pan)


def _check_pan(pan: str) -> str:
    pan = _digits(pan, "meter PAN")
    if len(pan) != 18:
        raise IdentityError("a meter PAN has 18 digits (IIN + DRN + check digit)")
    n = _iin_length(pan)
    drn = pan[n:17]
    if luhn_check_digit(drn[:-1]) != int(drn[-1]):
        raise IdentityError(f"DRN {drn} fails its check digit")
    if luhn_check_digit(pan[:17]) != int(pan[17]):
        raise IdentityError("the meter PAN fails its check digit")
    return pan


#: the PANs checked lately (a refused one raises, so it is never remembered)
_checked_pan: Final = functools.lru_cache(maxsize=1024)(_check_pan)


def pan_from_iin_drn(iin: str, drn: str) -> str:
    """Build the 18-digit PAN from an IIN and a DRN that carries its check digit."""
    iin = _digits(iin, "IIN")
    drn = _digits(drn, "DRN")
    want = {IIN_LONG: 11, IIN_SHORT: 13}.get(iin)
    if want is None:
        raise IdentityError("the IIN must be 600727 or 0000")
    if len(drn) != want:
        raise IdentityError(f"with IIN {iin} the DRN has {want} digits")
    if luhn_check_digit(drn[:-1]) != int(drn[-1]):
        raise IdentityError(f"DRN {drn} fails its check digit")
    body = iin + drn
    return body + str(luhn_check_digit(body))


def pan_block(pan: str, key_type: int) -> int:
    """The 64-bit PAN block: PAN digits 2–17 as nibbles; DRN zeroed for key type 3."""
    digits = pan[1:17]
    if key_type == 3:
        n = _iin_length(pan) - 1
        digits = digits[:n] + "0" * (16 - n)
    return int(digits, 16)


def control_block(key_type: int, sgc: str, ti: str, krn: int) -> int:
    """The 64-bit control block: ``KT | SGC(6) | TI(2) | KRN | FFFFFF`` read as hex."""
    return int(f"{key_type:X}{sgc}{ti}{krn:X}FFFFFF", 16)
