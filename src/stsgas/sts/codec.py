"""Encoding a token value to 20 digits and decoding it back (§6.3, §7).

Encode: fields → 50-bit clear value → CRC → 64-bit block ``subclass|data44|crc``
→ encrypt (classes 0, 2, 3) → class transposition → 20 digits.
Decode runs the same steps backwards and checks the CRC.
"""

from __future__ import annotations

from typing import Final, Protocol

from stsgas.sts.ciphers import DeaCipher, Misty1Cipher, StaCipher, StaTables
from stsgas.sts.crc import crc_field, is_currency
from stsgas.sts.digits import format_digits, parse_digits, transpose, untranspose
from stsgas.sts.errors import CrcError
from stsgas.sts.keys import EA, DecoderKey
from stsgas.sts.layout import parse_fields, token_fields
from stsgas.sts.tokens import Token

__all__ = [
    "BlockCipher",
    "cipher_for",
    "decode",
    "decode_fields",
    "encode",
    "encode_fields",
    "set_sta_tables",
]

_M44: Final = (1 << 44) - 1


class BlockCipher(Protocol):
    """What the codec needs of a cipher: 64-bit int blocks under an int key."""

    def encrypt(self, key: int, block: int) -> int: ...
    def decrypt(self, key: int, block: int) -> int: ...


_CIPHERS: dict[EA, BlockCipher] = {
    EA.STA: StaCipher(StaTables.builtin("production")),
    EA.DEA: DeaCipher(),
    EA.MISTY1: Misty1Cipher(),
}


def set_sta_tables(tables: StaTables) -> None:
    """Use another STA table set (e.g. a deployment's own, loaded from a file)."""
    _CIPHERS[EA.STA] = StaCipher(tables)


def cipher_for(ea: EA) -> BlockCipher:
    """The cipher object in use for an algorithm."""
    return _CIPHERS[ea]


def encode_fields(token_class: int, subclass: int, data44: int, key: DecoderKey) -> int:
    """The 66-bit token for raw fields (class 1 is not encrypted)."""
    clear = (token_class << 48) | (subclass << 44) | data44
    crc = crc_field(clear, currency=is_currency(token_class, subclass))
    block = (subclass << 60) | (data44 << 16) | crc
    if token_class != 1:
        block = _CIPHERS[key.ea].encrypt(key.as_int, block)
    return transpose(block, token_class)


def encode(token: Token, key: DecoderKey) -> str:
    """The 20 digits of a token under a decoder key."""
    cls, sub, data = token_fields(token)
    return format_digits(encode_fields(cls, sub, data, key))


def decode_fields(t66: int, key: DecoderKey | None) -> tuple[int, int, int]:
    """``(class, subclass, data44)`` of a 66-bit token, with the CRC checked.

    ``key`` may be None only for class 1 tokens.

    Raises:
        CrcError: the CRC does not match (mistyped, or another key).
    """
    cls, block = untranspose(t66)
    if cls != 1:
        if key is None:
            raise CrcError("a decoder key is needed for this token class")
        block = _CIPHERS[key.ea].decrypt(key.as_int, block)
    sub = block >> 60
    data = (block >> 16) & _M44
    clear = (cls << 48) | (sub << 44) | data
    if crc_field(clear, currency=is_currency(cls, sub)) != block & 0xFFFF:
        raise CrcError("token CRC does not match: mistyped, or made for another meter or key")
    return cls, sub, data


def decode(digits: str, key: DecoderKey | None) -> Token:
    """Decode 20 digits (spaces and dashes allowed) into a token value.

    Raises:
        TokenFormatError: not 20 digits, or ≥ 2**66.
        CrcError: wrong key or mistyped token.
    """
    cls, sub, data = decode_fields(parse_digits(digits), key)
    return parse_fields(cls, sub, data, wide_key=key is not None and key.ea is EA.MISTY1)
