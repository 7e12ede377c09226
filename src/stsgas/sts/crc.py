"""The STS CRC (IEC 62055-41 §6.3.5): CRC-16/MODBUS over the 50-bit clear value.

The 50-bit ``class|subclass|data44`` value is taken right-aligned in 7
big-endian bytes; currency transfer tokens (class 0, subclasses 4–7) append
one ``0x01`` byte first (CRC_C). The 16-bit result is stored byte-swapped in
the token block.
"""

from __future__ import annotations

from typing import Final

__all__ = ["crc16_modbus", "crc_field", "is_currency"]

_POLY_REFLECTED: Final = 0xA001  # x^16 + x^15 + x^2 + 1, LSB first


def _make_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ _POLY_REFLECTED if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_TABLE: Final = _make_table()


def crc16_modbus(data: bytes, crc: int = 0xFFFF) -> int:
    """Plain CRC-16/MODBUS (init 0xFFFF, reflected, no final XOR)."""
    table = _TABLE
    for byte in data:
        crc = (crc >> 8) ^ table[(crc ^ byte) & 0xFF]
    return crc


def is_currency(token_class: int, subclass: int) -> bool:
    """True for the currency credit tokens that use CRC_C."""
    return token_class == 0 and 4 <= subclass <= 7


def crc_field(clear50: int, *, currency: bool = False) -> int:
    """The byte-swapped CRC field for a 50-bit clear value (CRC_C if ``currency``)."""
    table = _TABLE
    crc = 0xFFFF
    for shift in (48, 40, 32, 24, 16, 8, 0):
        crc = (crc >> 8) ^ table[(crc ^ (clear50 >> shift)) & 0xFF]
    if currency:
        crc = (crc >> 8) ^ table[(crc ^ 0x01) & 0xFF]
    return ((crc & 0xFF) << 8) | (crc >> 8)
