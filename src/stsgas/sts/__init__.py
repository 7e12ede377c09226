"""stsgas.sts — the IEC 62055-41 Standard Transfer Specification token library.

Pure functions and frozen values, no I/O, no clock. The recipe layer
(:func:`credit_token`, :func:`key_change_tokens`, …) sits over explicit
primitives in the submodules (``crc``, ``digits``, ``amount``, ``tid``,
``identity``, ``kdf``, ``ciphers``, ``tokens``, ``layout``, ``codec``)::

    >>> from datetime import datetime, UTC
    >>> from stsgas.sts import MeterConfig, credit_token
    >>> meter = MeterConfig.from_json({"pan": "600727000000000009", "key_type": 2,
    ...     "sgc": "123456", "ti": "01", "krn": 1, "base_date": 1993, "ea": "07",
    ...     "dkga": "02", "vending_key": "abababababababab"})
    >>> credit_token(meter, "0.1", at=datetime(2004, 3, 1, 13, 55, tzinfo=UTC), rnd=5,
    ...              subclass=0).digits
    '23716100501183194197'
"""

from stsgas.sts.amount import (
    CURRENCY_UNIT,
    GAS_UNIT,
    LITRE,
    LITRES_PER_M3,
    LITRES_PER_UNIT,
    decode_amount16,
    decode_currency,
    encode_amount16,
    encode_currency,
)
from stsgas.sts.codec import decode, decode_fields, encode, encode_fields, set_sta_tables
from stsgas.sts.crc import crc_field
from stsgas.sts.decoder import TidVerdict, check_tid, remember_tid
from stsgas.sts.digits import format_digits, group_digits, parse_digits, token_class_of
from stsgas.sts.errors import (
    AlgorithmError,
    CrcError,
    DecoderKeyError,
    IdentityError,
    KeyChangeRefused,
    RangeError,
    StsError,
    TidError,
    TokenFormatError,
    UnsupportedTokenType,
)
from stsgas.sts.identity import (
    drn_with_check,
    luhn_check_digit,
    pan_from_iin_drn,
    split_pan,
    validate_pan,
)
from stsgas.sts.kdf import dkga02, dkga04
from stsgas.sts.keychange import check_key_change, next_base_date, rollover_for
from stsgas.sts.keys import DKGA, EA, DecoderKey, MeterConfig
from stsgas.sts.tid import TID_MAX, BaseDate, datetime_for_tid, key_expired, tid_for
from stsgas.sts.tokens import (
    ALL_REGISTERS,
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
    clears_register,
    credit_register,
)
from stsgas.sts.vend import (
    IssuedToken,
    clear_credit_token,
    clear_tamper_token,
    credit_token,
    credit_token_at_tid,
    key_change_tokens,
    management_token,
)

__all__ = [
    "ALL_REGISTERS",
    "CURRENCY_UNIT",
    "DKGA",
    "EA",
    "GAS_UNIT",
    "LITRE",
    "LITRES_PER_M3",
    "LITRES_PER_UNIT",
    "TID_MAX",
    "AlgorithmError",
    "BaseDate",
    "ClearCredit",
    "ClearTamper",
    "CrcError",
    "CreditToken",
    "CurrencyCreditToken",
    "DecoderKey",
    "DecoderKeyError",
    "ExtendedToken",
    "IdentityError",
    "IssuedToken",
    "KeyChange1",
    "KeyChange2",
    "KeyChange3",
    "KeyChange3Sgc",
    "KeyChange4",
    "KeyChangeRefused",
    "MaxPhasePowerUnbalance",
    "MaxPowerLimit",
    "MeterConfig",
    "RangeError",
    "ReservedToken",
    "StsError",
    "TariffRate",
    "TestToken",
    "TidError",
    "TidVerdict",
    "Token",
    "TokenFormatError",
    "UnsupportedTokenType",
    "WaterMeterFactor",
    "check_key_change",
    "check_tid",
    "clear_credit_token",
    "clear_tamper_token",
    "clears_register",
    "crc_field",
    "credit_register",
    "credit_token",
    "credit_token_at_tid",
    "datetime_for_tid",
    "decode",
    "decode_amount16",
    "decode_currency",
    "decode_fields",
    "dkga02",
    "dkga04",
    "drn_with_check",
    "encode",
    "encode_amount16",
    "encode_currency",
    "encode_fields",
    "format_digits",
    "group_digits",
    "key_change_tokens",
    "key_expired",
    "luhn_check_digit",
    "management_token",
    "next_base_date",
    "pan_from_iin_drn",
    "parse_digits",
    "remember_tid",
    "rollover_for",
    "set_sta_tables",
    "split_pan",
    "tid_for",
    "token_class_of",
    "validate_pan",
]
