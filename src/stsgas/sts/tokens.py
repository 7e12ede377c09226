"""Token values (§6.2): one frozen value per token class and subclass.

Each token is a frozen value with ``token_class`` and ``subclass`` that checks
its fields' ranges when made, so a value that exists fits its data element.
Field widths are named after the standard's data elements. How a value is laid
out in the 44 data bits, and read back from them, is :mod:`stsgas.sts.layout`:
the values are what recipes, batches and meters handle; the bits are the codec's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Final

from stsgas.sts.amount import AMOUNT16_MAX, CURRENCY_MAX
from stsgas.sts.errors import RangeError
from stsgas.sts.tid import TID_MAX

__all__ = [
    "ALL_REGISTERS",
    "ClearCredit",
    "ClearTamper",
    "CreditToken",
    "CurrencyCreditToken",
    "ExtendedToken",
    "KeyChange1",
    "KeyChange2",
    "KeyChange3",
    "KeyChange3Sgc",
    "KeyChange4",
    "MaxPhasePowerUnbalance",
    "MaxPowerLimit",
    "ReservedToken",
    "TariffRate",
    "TestToken",
    "Token",
    "WaterMeterFactor",
    "clears_register",
    "credit_register",
]

_M32: Final = 0xFFFFFFFF
#: Register code that clears every credit register (ClearCredit).
ALL_REGISTERS: Final = 0xFFFF
#: the control field's width of each test token subclass (the manufacturer code
#: takes the rest of the 44 data bits)
_TEST_WIDTH: Final = {0: 36, 1: 28, 2: 44}


def credit_register(subclass: int) -> int:
    """The ClearCredit register code of the credit a class 0 subclass carries.

    The register codes follow the credit subclasses: 0 electricity, 1 water,
    2 gas units, 3 time, 4 electricity currency, 5 water currency, 6 gas
    currency, 7 time currency. A meter holds the register of the credit it takes.
    """
    _check(subclass, 0, 7, "credit subclass")
    return subclass


def clears_register(register: int, own: int) -> bool:
    """Whether a ClearCredit for ``register`` clears a meter's ``own`` register."""
    return register in (ALL_REGISTERS, own)


def _check(value: int, low: int, high: int, what: str) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{what} must be an int")
    if not low <= value <= high:
        raise RangeError(f"{what} {value} is outside {low}..{high}")


@dataclass(frozen=True, slots=True, kw_only=True)
class _Register:
    """Shared shape of TID-bearing tokens: ``RND(4) | TID(24) | value(16)``."""

    tid: int
    rnd: int = 0

    def __post_init__(self) -> None:
        _check(self.tid, 0, TID_MAX, "TID")
        _check(self.rnd, 0, 15, "RND")


@dataclass(frozen=True, slots=True, kw_only=True)
class CreditToken(_Register):
    """Class 0, subclasses 0–3: credit in 0.1 units (subclass 2 = gas, 0.1 m³)."""

    token_class: ClassVar[int] = 0
    subclass: int = 2
    units: int

    def __post_init__(self) -> None:
        super(CreditToken, self).__post_init__()
        _check(self.subclass, 0, 3, "credit subclass")
        _check(self.units, 0, AMOUNT16_MAX, "amount")


@dataclass(frozen=True, slots=True, kw_only=True)
class CurrencyCreditToken:
    """Class 0, subclasses 4–7: signed currency in 10^-5 units (subclass 6 = gas)."""

    token_class: ClassVar[int] = 0
    subclass: int = 6
    tid: int
    amount: int

    def __post_init__(self) -> None:
        _check(self.subclass, 4, 7, "currency subclass")
        _check(self.tid, 0, TID_MAX, "TID")
        _check(self.amount, -CURRENCY_MAX, CURRENCY_MAX, "currency amount")


@dataclass(frozen=True, slots=True, kw_only=True)
class TestToken:
    """Class 1: initiate meter test / display (not encrypted).

    Subclass 0: ``control(36) | mfr(8)``; subclass 1: ``control(28) | mfr(16)``;
    subclass 2 (extended read): ``control(44)``.
    """

    token_class: ClassVar[int] = 1
    subclass: int = 0
    control: int
    mfr_code: int = 0

    def __post_init__(self) -> None:
        _check(self.subclass, 0, 2, "test token subclass")
        width = _TEST_WIDTH[self.subclass]
        _check(self.control, 0, (1 << width) - 1, "control")
        _check(self.mfr_code, 0, (1 << (44 - width)) - 1 if width < 44 else 0, "manufacturer code")


@dataclass(frozen=True, slots=True, kw_only=True)
class MaxPowerLimit(_Register):
    """Class 2/0: maximum power limit in W (amount encoding, rounded up)."""

    token_class: ClassVar[int] = 2
    subclass: ClassVar[int] = 0
    watts: int

    def __post_init__(self) -> None:
        super(MaxPowerLimit, self).__post_init__()
        _check(self.watts, 0, AMOUNT16_MAX, "power limit")


@dataclass(frozen=True, slots=True, kw_only=True)
class ClearCredit(_Register):
    """Class 2/1: clear a credit register (``0xFFFF`` = all; gas units = 2, gas currency = 6)."""

    token_class: ClassVar[int] = 2
    subclass: ClassVar[int] = 1
    register: int = ALL_REGISTERS

    def __post_init__(self) -> None:
        super(ClearCredit, self).__post_init__()
        _check(self.register, 0, 0xFFFF, "register")


@dataclass(frozen=True, slots=True, kw_only=True)
class TariffRate(_Register):
    """Class 2/2: a 16-bit tariff rate; its meaning is meter-defined (docs/sts.md)."""

    token_class: ClassVar[int] = 2
    subclass: ClassVar[int] = 2
    rate: int

    def __post_init__(self) -> None:
        super(TariffRate, self).__post_init__()
        _check(self.rate, 0, 0xFFFF, "tariff rate")


@dataclass(frozen=True, slots=True, kw_only=True)
class ClearTamper(_Register):
    """Class 2/5: clear the tamper condition."""

    token_class: ClassVar[int] = 2
    subclass: ClassVar[int] = 5


@dataclass(frozen=True, slots=True, kw_only=True)
class MaxPhasePowerUnbalance(_Register):
    """Class 2/6: maximum phase power unbalance limit in W."""

    token_class: ClassVar[int] = 2
    subclass: ClassVar[int] = 6
    watts: int

    def __post_init__(self) -> None:
        super(MaxPhasePowerUnbalance, self).__post_init__()
        _check(self.watts, 0, AMOUNT16_MAX, "power unbalance limit")


@dataclass(frozen=True, slots=True, kw_only=True)
class WaterMeterFactor(_Register):
    """Class 2/7: water meter factor, a raw 16-bit value."""

    token_class: ClassVar[int] = 2
    subclass: ClassVar[int] = 7
    factor: int

    def __post_init__(self) -> None:
        super(WaterMeterFactor, self).__post_init__()
        _check(self.factor, 0, 0xFFFF, "meter factor")


@dataclass(frozen=True, slots=True, kw_only=True)
class ExtendedToken(_Register):
    """Class 2/10 (STS202-5 extended set): ``index(6) | value(10)``."""

    token_class: ClassVar[int] = 2
    subclass: ClassVar[int] = 10
    index: int
    value: int

    def __post_init__(self) -> None:
        super(ExtendedToken, self).__post_init__()
        _check(self.index, 0, 63, "extended index")
        _check(self.value, 0, 1023, "extended value")


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyChange1:
    """Class 2/3, 1st section: ``KENHO | KRN | RO | 3KCT | KT | NKHO(32)``."""

    token_class: ClassVar[int] = 2
    subclass: ClassVar[int] = 3
    ken_high: int
    krn: int
    rollover: bool
    three_token: bool = False
    key_type: int
    nk_high: int

    def __post_init__(self) -> None:
        _check(self.ken_high, 0, 15, "KEN high nibble")
        _check(self.krn, 0, 15, "KRN")
        _check(self.key_type, 0, 3, "key type")
        _check(self.nk_high, 0, _M32, "new key part")


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyChange2:
    """Class 2/4, 2nd section: ``KENLO | TI(8) | NKLO(32)``."""

    token_class: ClassVar[int] = 2
    subclass: ClassVar[int] = 4
    ken_low: int
    ti: int
    nk_low: int

    def __post_init__(self) -> None:
        _check(self.ken_low, 0, 15, "KEN low nibble")
        _check(self.ti, 0, 255, "tariff index")
        _check(self.nk_low, 0, _M32, "new key part")


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyChange3Sgc:
    """Class 2/8 of a 64-bit three-token set: ``SGC(24) | 0(20)``."""

    token_class: ClassVar[int] = 2
    subclass: ClassVar[int] = 8
    sgc: int

    def __post_init__(self) -> None:
        _check(self.sgc, 0, (1 << 24) - 1, "supply group code")


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyChange3:
    """Class 2/8 of a 128-bit four-token set: ``SGC low 12 bits | key bytes 4..7``."""

    token_class: ClassVar[int] = 2
    subclass: ClassVar[int] = 8
    sgc_low: int
    nk_part: int

    def __post_init__(self) -> None:
        _check(self.sgc_low, 0, 0xFFF, "SGC low bits")
        _check(self.nk_part, 0, _M32, "new key part")


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyChange4:
    """Class 2/9 of a 128-bit four-token set: ``SGC high 12 bits | key bytes 8..11``."""

    token_class: ClassVar[int] = 2
    subclass: ClassVar[int] = 9
    sgc_high: int
    nk_part: int

    def __post_init__(self) -> None:
        _check(self.sgc_high, 0, 0xFFF, "SGC high bits")
        _check(self.nk_part, 0, _M32, "new key part")


@dataclass(frozen=True, slots=True, kw_only=True)
class ReservedToken:
    """A class or subclass the standard reserves (class 3, unassigned subclasses)."""

    token_class: int
    subclass: int
    data: int


Token = (
    CreditToken
    | CurrencyCreditToken
    | TestToken
    | MaxPowerLimit
    | ClearCredit
    | TariffRate
    | ClearTamper
    | MaxPhasePowerUnbalance
    | WaterMeterFactor
    | ExtendedToken
    | KeyChange1
    | KeyChange2
    | KeyChange3Sgc
    | KeyChange3
    | KeyChange4
    | ReservedToken
)
