"""The 66-bit token, class-bit transposition and the 20 decimal digits (§6.3.7).

The class is not encrypted: bits 27 and 28 of the encrypted 64-bit block move
to bits 64 and 65, and the two class bits take their place.
"""

from __future__ import annotations

from typing import Final

from stsgas.sts.errors import TokenFormatError

__all__ = [
    "MAX_TOKEN",
    "format_digits",
    "group_digits",
    "parse_digits",
    "token_class_of",
    "transpose",
    "untranspose",
]

MAX_TOKEN: Final = (1 << 66) - 1
_MASK64: Final = (1 << 64) - 1
_CLASS_MASK: Final = 3 << 27
_KEEP: Final = _MASK64 & ~_CLASS_MASK
_SEPARATORS: Final = str.maketrans("", "", " -\t")


def transpose(enc64: int, token_class: int) -> int:
    """Build the 66-bit token from the encrypted block and the class."""
    return (((enc64 >> 27) & 3) << 64) | (enc64 & _KEEP) | (token_class << 27)


def untranspose(t66: int) -> tuple[int, int]:
    """Split a 66-bit token into ``(class, encrypted 64-bit block)``."""
    return (t66 >> 27) & 3, (t66 & _KEEP) | (((t66 >> 64) & 3) << 27)


def format_digits(t66: int) -> str:
    """The token's 20 decimal digits, zero-padded."""
    return f"{t66:020d}"


def group_digits(digits: str) -> str:
    """20 digits grouped 4-4-4-4-4 for receipts and LCDs."""
    return " ".join(digits[i : i + 4] for i in range(0, 20, 4))


def parse_digits(text: str) -> int:
    """Parse a token as typed (spaces and dashes allowed) into its 66-bit value.

    Raises:
        TokenFormatError: not exactly 20 digits, or the value is 2**66 or more.
    """
    if not isinstance(text, str):
        raise TypeError("token must be a str")
    digits = text.translate(_SEPARATORS)
    if len(digits) != 20 or not digits.isascii() or not digits.isdigit():
        raise TokenFormatError("a token is exactly 20 digits")
    value = int(digits)
    if value > MAX_TOKEN:
        raise TokenFormatError("token value exceeds 66 bits")
    return value


def token_class_of(text: str) -> int:
    """The token class (0-3) of typed digits, read without any key.

    The class bits are never encrypted, so this tells nothing about the
    decoder key; a locked meter uses it to let class 1 test tokens through.

    Raises:
        TokenFormatError: as :func:`parse_digits`.
    """
    return untranspose(parse_digits(text))[0]
