"""The 44-bit data layouts of the token values (§6.3): values to bits and back.

:func:`token_fields` turns a token value into ``(class, subclass, data44)`` and
:func:`parse_fields` turns decoded fields back into a value. This is the one
place that knows where each data element sits in the 44 bits, kept apart from
the values themselves (:mod:`stsgas.sts.tokens`): the codec and the batch
decoder need the bits, while recipes, batches and meters need only the values.
"""

from __future__ import annotations

from typing import Final

from stsgas.sts.amount import decode_amount16, decode_currency, encode_amount16, encode_currency
from stsgas.sts.errors import UnsupportedTokenType
from stsgas.sts.tid import TID_MAX
from stsgas.sts.tokens import (
    _M32,
    _TEST_WIDTH,
    ClearCredit,
    ClearTamper,
    CreditToken,
    CurrencyCreditToken,
    ExtendedToken,
    KeyChange1,
    KeyChange2,
    KeyChange3,
    KeyChange3Sgc,
    KeyChange4,
    MaxPhasePowerUnbalance,
    MaxPowerLimit,
    ReservedToken,
    TariffRate,
    TestToken,
    Token,
    WaterMeterFactor,
)

__all__ = ["parse_fields", "token_fields"]

_M44: Final = (1 << 44) - 1


def _register_data(rnd: int, tid: int, value16: int) -> int:
    return (rnd << 40) | (tid << 16) | value16


def token_fields(token: Token) -> tuple[int, int, int]:
    """``(class, subclass, data44)`` of a token value."""
    if isinstance(token, CreditToken):
        data = _register_data(token.rnd, token.tid, encode_amount16(token.units))
    elif isinstance(token, CurrencyCreditToken):
        field16, se = encode_currency(token.amount)
        data = _register_data(se, token.tid, field16)
    elif isinstance(token, TestToken):
        width = _TEST_WIDTH[token.subclass]
        data = (token.control << (44 - width)) | token.mfr_code
    elif isinstance(token, MaxPowerLimit | MaxPhasePowerUnbalance):
        data = _register_data(token.rnd, token.tid, encode_amount16(token.watts))
    elif isinstance(token, ClearCredit):
        data = _register_data(token.rnd, token.tid, token.register)
    elif isinstance(token, TariffRate):
        data = _register_data(token.rnd, token.tid, token.rate)
    elif isinstance(token, ClearTamper):
        data = _register_data(token.rnd, token.tid, 0)
    elif isinstance(token, WaterMeterFactor):
        data = _register_data(token.rnd, token.tid, token.factor)
    elif isinstance(token, ExtendedToken):
        data = _register_data(token.rnd, token.tid, (token.index << 10) | token.value)
    elif isinstance(token, KeyChange1):
        flags = (int(token.rollover) << 3) | (int(token.three_token) << 2) | token.key_type
        data = (token.ken_high << 40) | (token.krn << 36) | (flags << 32) | token.nk_high
    elif isinstance(token, KeyChange2):
        data = (token.ken_low << 40) | (token.ti << 32) | token.nk_low
    elif isinstance(token, KeyChange3Sgc):
        data = token.sgc << 20
    elif isinstance(token, KeyChange3):
        data = (token.sgc_low << 32) | token.nk_part
    elif isinstance(token, KeyChange4):
        data = (token.sgc_high << 32) | token.nk_part
    elif isinstance(token, ReservedToken):
        return token.token_class, token.subclass, token.data & _M44
    else:
        raise TypeError(f"not a token: {type(token).__name__}")
    return token.token_class, token.subclass, data


def parse_fields(token_class: int, subclass: int, data: int, *, wide_key: bool = False) -> Token:
    """The token value for decoded fields.

    Args:
        wide_key: the token was decrypted with a 128-bit key (MISTY1), which
            decides the layout of key change section 3.
    """
    rnd = data >> 40
    tid = (data >> 16) & TID_MAX
    v16 = data & 0xFFFF
    if token_class == 0:
        if subclass <= 3:
            return CreditToken(subclass=subclass, tid=tid, units=decode_amount16(v16), rnd=rnd)
        if subclass <= 7:
            return CurrencyCreditToken(subclass=subclass, tid=tid, amount=decode_currency(v16, rnd))
    elif token_class == 1:
        width = _TEST_WIDTH.get(subclass)
        if width is not None:
            mfr_bits = 44 - width
            return TestToken(
                subclass=subclass, control=data >> mfr_bits, mfr_code=data & ((1 << mfr_bits) - 1)
            )
    elif token_class == 2:
        if subclass == 0:
            return MaxPowerLimit(tid=tid, rnd=rnd, watts=decode_amount16(v16))
        if subclass == 1:
            return ClearCredit(tid=tid, rnd=rnd, register=v16)
        if subclass == 2:
            return TariffRate(tid=tid, rnd=rnd, rate=v16)
        if subclass == 3:
            flags = (data >> 32) & 15
            return KeyChange1(
                ken_high=data >> 40,
                krn=(data >> 36) & 15,
                rollover=bool(flags & 8),
                three_token=bool(flags & 4),
                key_type=flags & 3,
                nk_high=data & _M32,
            )
        if subclass == 4:
            return KeyChange2(ken_low=data >> 40, ti=(data >> 32) & 0xFF, nk_low=data & _M32)
        if subclass == 5:
            return ClearTamper(tid=tid, rnd=rnd)
        if subclass == 6:
            return MaxPhasePowerUnbalance(tid=tid, rnd=rnd, watts=decode_amount16(v16))
        if subclass == 7:
            return WaterMeterFactor(tid=tid, rnd=rnd, factor=v16)
        if subclass == 8:
            if wide_key:
                return KeyChange3(sgc_low=data >> 32, nk_part=data & _M32)
            return KeyChange3Sgc(sgc=data >> 20)
        if subclass == 9:
            return KeyChange4(sgc_high=data >> 32, nk_part=data & _M32)
        if subclass == 10:
            return ExtendedToken(tid=tid, rnd=rnd, index=v16 >> 10, value=v16 & 0x3FF)
    if not 0 <= token_class <= 3 or not 0 <= subclass <= 15:
        raise UnsupportedTokenType(f"class {token_class} subclass {subclass} does not exist")
    return ReservedToken(token_class=token_class, subclass=subclass, data=data & _M44)
