"""Errors raised by :mod:`stsgas.sts`.

Every error carries a stable ``code`` (shown by the meter on its LCD and
returned by the vending API as problem+json ``code``) and, where one exists,
the IEC 62055-41 token status number (``status``)::

    Exception
     +-- StsError                          "sts"
         +-- TokenFormatError (ValueError)  "format"   status 6  (Format)
         +-- CrcError                       "crc"      status 13 (CRC / wrong key)
         +-- UnsupportedTokenType           "type"     status 8  (Function)
         +-- RangeError (ValueError)        "range"    status 7  (Range)
         +-- TidError (RangeError)          "tid"      status 7
         +-- DecoderKeyError (ValueError)   "key"      status 5  (KeyType)
         +-- IdentityError (ValueError)     "meter"    (bad PAN, DRN or check digit)
         +-- AlgorithmError (ValueError)    "algorithm"
         +-- KeyChangeRefused               "key_change" status 5 (KeyType); .reason

Messages never contain key material or decrypted blocks.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum
from typing import ClassVar, Literal

__all__ = [
    "AlgorithmError",
    "CrcError",
    "DecoderKeyError",
    "IdentityError",
    "KeyChangeRefused",
    "RangeError",
    "Rejection",
    "StsError",
    "TidError",
    "TokenFormatError",
    "TokenStatus",
    "UnsupportedTokenType",
]


class StsError(Exception):
    """Root of every error this package raises on bad input."""

    code: ClassVar[str] = "sts"
    #: IEC 62055-41 token status number (A2 list), or None where none applies.
    status: ClassVar[int | None] = None


class TokenFormatError(StsError, ValueError):
    """The token text is not 20 digits, or its value is 2**66 or more."""

    code = "format"
    status = 6


class CrcError(StsError):
    """The CRC does not match: a mistyped token, or one made for another key."""

    code = "crc"
    status = 13


class UnsupportedTokenType(StsError):
    """A class or subclass that this operation (or meter) does not take."""

    code = "type"
    status = 8


class RangeError(StsError, ValueError):
    """A value (amount, register, field) does not fit its token field."""

    code = "range"
    status = 7


class TidError(RangeError):
    """An issue time outside the base date's 24-bit minute range."""

    code = "tid"


class DecoderKeyError(StsError, ValueError):
    """A key of the wrong length or form for its algorithm."""

    code = "key"
    status = 5


class IdentityError(StsError, ValueError):
    """A meter number (IIN, DRN, PAN) that is malformed or fails its check digit."""

    code = "meter"


class AlgorithmError(StsError, ValueError):
    """An encryption or key generation algorithm we do not know."""

    code = "algorithm"


#: Why a key change set is refused (see :mod:`stsgas.sts.keychange`).
KeyChangeReason = Literal["same_key", "key_type", "base_date"]


class KeyChangeRefused(StsError):
    """A key change set the meter must refuse (and the vending side must never issue)."""

    code = "key_change"
    status = 5

    def __init__(self, reason: KeyChangeReason, detail: str = "") -> None:
        self.reason: KeyChangeReason = reason
        super().__init__(f"key change refused ({reason}){': ' + detail if detail else ''}")


# ---- token rejection codes and their IEC 62055-41 status numbers (issue 12) ----------
# One vocabulary for every side that refuses a token: the meter shows the code and
# reports the status; the exception classes above carry the same pairs.


class TokenStatus(IntEnum):
    """IEC 62055-41 token status numbers a decoder reports when it refuses a token."""

    OVERFLOW = 4
    KEY_TYPE = 5
    FORMAT = 6
    RANGE = 7
    FUNCTION = 8
    OLD = 9
    USED = 10
    KEY_EXPIRED = 11
    DDTK = 12
    CRC = 13
    MFR_CODE = 14
    TOKEN_LOCKOUT = 15


class Rejection(StrEnum):
    """Why a decoder refuses a token: a stable code (equal to its text)."""

    CRC = "crc"
    USED = "used"
    OLD = "old"
    EXPIRED = "expired"
    TYPE = "type"
    FORMAT = "format"
    RANGE = "range"
    LIMIT = "limit"
    LOCKOUT = "lockout"
    DDTK = "ddtk"
    KEY_TYPE = "key_type"
    KEY_CHANGE = "key_change"
    MFR = "mfr"

    @property
    def status(self) -> TokenStatus:
        """The IEC status number reported with this code."""
        return _REJECTION_STATUS[self]


_REJECTION_STATUS: dict[Rejection, TokenStatus] = {
    Rejection.CRC: TokenStatus.CRC,
    Rejection.USED: TokenStatus.USED,
    Rejection.OLD: TokenStatus.OLD,
    Rejection.EXPIRED: TokenStatus.KEY_EXPIRED,
    Rejection.TYPE: TokenStatus.FUNCTION,
    Rejection.FORMAT: TokenStatus.FORMAT,
    Rejection.RANGE: TokenStatus.RANGE,
    Rejection.LIMIT: TokenStatus.OVERFLOW,
    Rejection.LOCKOUT: TokenStatus.TOKEN_LOCKOUT,
    Rejection.DDTK: TokenStatus.DDTK,
    Rejection.KEY_TYPE: TokenStatus.KEY_TYPE,
    Rejection.KEY_CHANGE: TokenStatus.KEY_TYPE,
    Rejection.MFR: TokenStatus.MFR_CODE,
}
