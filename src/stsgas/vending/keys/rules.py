"""What the vending side must never issue: key changes, credit and clear-credit rules.

The key-change rule itself lives once, in :func:`stsgas.sts.check_key_change`
(the meter applies the same function to a complete set). This module asks it
before any set is made and turns its refusal into a problem with a stable
code, so a set the meter would refuse never leaves the vending system.
"""

from __future__ import annotations

from datetime import datetime

from stsgas.sts import (
    BaseDate,
    KeyChangeRefused,
    MeterConfig,
    check_key_change,
    next_base_date,
    rollover_for,
)
from stsgas.vending.errors import Conflict, InvalidInput
from stsgas.vending.models import MeterMode

#: key types that may carry credit: only a meter's unique key (DUTK, 2). A meter
#: refuses credit under its initialisation key (0), its default key (DDTK, 1) and a
#: key common to a group of meters (DCTK, 3: one token would credit them all)
CREDIT_KEY_TYPES = frozenset({2})

#: ClearCredit register codes (STS): gas units, gas currency, every register
REGISTER_GAS_UNITS = 2
REGISTER_GAS_CURRENCY = 6
ALL_REGISTERS = 0xFFFF


class KeyChangeNotAllowed(InvalidInput):
    """A key change set the meter must refuse; ``reason`` as ``stsgas.sts`` gives it."""

    code = "key_change_refused"
    title = "Key change refused"


class SameKeyRollover(KeyChangeNotAllowed):
    code = "key_change_same_key"


class KeyTypeRefused(KeyChangeNotAllowed):
    code = "key_change_key_type"


class BaseDateRefused(KeyChangeNotAllowed):
    code = "key_change_base_date"


class CreditKeyType(Conflict):
    """Credit under a key type that may not carry it (the meter would refuse it)."""

    code = "credit_key_type"
    title = "No credit under this key type"


class ManagementKeyType(Conflict):
    """A management token under the initialisation key, which carries key changes only."""

    code = "management_key_type"
    title = "No management token under this key type"


class NoSuchRegister(InvalidInput):
    """A clear-credit token for a register the meter does not have."""

    code = "no_such_register"
    title = "The meter has no such register"


_BY_REASON: dict[str, type[KeyChangeNotAllowed]] = {
    "same_key": SameKeyRollover,
    "key_type": KeyTypeRefused,
    "base_date": BaseDateRefused,
}


def _refused(exc: KeyChangeRefused) -> KeyChangeNotAllowed:
    return _BY_REASON.get(exc.reason, KeyChangeNotAllowed)(str(exc), reason=exc.reason)


def check_target(*, old_kt: int, new_kt: int, old_bd: int, new_bd: int, now: datetime) -> bool:
    """The checks that need no key (type, base-date move); returns the RO bit to send.

    Used when a key change is asked for, before any key is at hand.
    """
    try:
        rollover = rollover_for(BaseDate(old_bd), BaseDate(new_bd))
        if (new_kt == 0 and old_kt != 0) or not 0 <= new_kt <= 3:
            raise KeyChangeRefused("key_type", f"key type {old_kt} may not change to {new_kt}")
        if rollover:
            target = next_base_date(BaseDate(old_bd))
            if target is None or now < target.start:
                raise KeyChangeRefused("base_date", f"base date {new_bd} has not begun yet")
    except KeyChangeRefused as exc:
        raise _refused(exc) from None
    return rollover


def checked_rollover(old: MeterConfig, new: MeterConfig, now: datetime) -> bool:
    """The RO bit of the set moving ``old`` to ``new``, after the full rule of
    :func:`stsgas.sts.check_key_change` (decoder keys included) let it through."""
    try:
        rollover = rollover_for(old.base_date, new.base_date)
        after = check_key_change(
            old_key=old.key().value,
            new_key=new.key().value,
            old_kt=old.key_type,
            new_kt=new.key_type,
            rollover=rollover,
            base_date=old.base_date,
            now=now,
        )
    except KeyChangeRefused as exc:
        raise _refused(exc) from None
    assert after == new.base_date
    return rollover


def check_credit_key_type(key_type: int, pan: str) -> None:
    """Refuse credit for a meter whose key is of a type that may not carry it."""
    if key_type not in CREDIT_KEY_TYPES:
        raise CreditKeyType(
            f"meter {pan} is on key type {key_type}: credit only under key type 2 "
            "(a unique key); change its key first",
            key_type=key_type,
        )


def check_management_key_type(key_type: int, pan: str) -> None:
    """Refuse a clear-credit, clear-tamper or tariff token under key type 0."""
    if key_type == 0:
        raise ManagementKeyType(
            f"meter {pan} is on key type 0, which carries key changes only; change its key first",
            key_type=key_type,
        )


def registers_of(mode: str) -> frozenset[int]:
    """The ClearCredit register codes a gas meter of ``mode`` has (``ALL`` included)."""
    own = REGISTER_GAS_UNITS if mode == MeterMode.VOLUME.value else REGISTER_GAS_CURRENCY
    return frozenset({own, ALL_REGISTERS})


def check_register(mode: str, register: int) -> None:
    """Refuse a clear-credit token for a register a meter of ``mode`` does not have."""
    if register not in registers_of(mode):
        own = sorted(registers_of(mode) - {ALL_REGISTERS})[0]
        raise NoSuchRegister(
            f"a {mode} gas meter has register {own} (or {ALL_REGISTERS} for all), not {register}",
            register=register,
        )
