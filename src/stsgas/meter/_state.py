"""The meter's state machines as tables. Every valve and entry rule lives here.

Rules (docs/meter.md states them with their sources):

* Valve. Closed by: credit at/below the close line (zero, or minus the
  overdraft limit when overdraft is enabled) -> ``credit``; battery level 1
  (once) and level 2 (locked until replacement) -> ``battery``; magnetic
  interference (locked until clear tamper) -> ``tamper``; power off (and
  every boot) -> ``power``; auto-clean failure -> ``clean``; more than
  ``UNCONTROLLED_LPH`` litres an hour within ``OPEN_CHECK`` of the open key
  (an appliance left open, a broken pipe) -> ``flow`` (M6, anchor A15). It opens only on
  the customer's open key, and only when no lock holds (power on, battery
  not at level 2, no tamper) and credit is positive. Overdraft lets an
  open valve run on past zero down to minus the limit; it never reopens a
  valve at or below zero. Nothing opens the valve by itself.
* Entry lockout (CLOU style): the first ``FREE_TRIES`` bad entries are free;
  each further one locks token entry for 10 s doubling to a 1,280 s cap. A
  good token resets the count. The lockout is persisted. While locked no
  entry is evaluated (no decode, no CRC): every one answers ``lockout`` and
  is not counted, except a valid class 1 test token (its CRC needs no key)
  and 2-digit query codes, which still work.
* Keypad: up to 20 digits; ``*`` backspace, ``C`` cancel, ``#`` enter. Enter
  with 2 digits is a query, with 20 a token, else ``format``. A digit
  timeout of ``DIGIT_TIMEOUT`` clears a half-typed entry.

Theory of operation: inputs go to ``Meter``; it updates registers, then runs
``valve_step`` through ``VALVE_TABLE`` for each valve input it derived, and
the state-triggered rules (credit line, locks) to a fixed point.
"""

from __future__ import annotations

from datetime import timedelta
from enum import Enum

__all__ = [
    "DIGIT_TIMEOUT", "FREE_TRIES", "KCT_TIMEOUT", "KEY_CHANGE_TEXT", "REJECTIONS", "VALVE_TABLE",
    "ValveInput", "ValveState", "lockout_seconds", "valve_step",
]  # fmt: skip

FREE_TRIES = 3
LOCK_FIRST_S = 10
LOCK_CAP_S = 1280
DIGIT_TIMEOUT = timedelta(seconds=60)
KCT_TIMEOUT = timedelta(minutes=10)
#: right after the open key, flow above this rate closes the valve again (A15: 30 L/h)
UNCONTROLLED_LPH = 30
OPEN_CHECK = timedelta(seconds=60)

#: our rejection code -> (IEC 62055-41 token status number, name, LCD text); anchor A2.
REJECTIONS: dict[str, tuple[int, str, str]] = {
    "crc": (13, "CRC", "Error"),
    "used": (10, "Used", "Used"),
    "old": (9, "Old", "Old"),
    "expired": (11, "KeyExpired", "Expired"),
    "type": (8, "Function", "Type"),
    "format": (6, "Format", "Format"),
    "range": (7, "Range", "Range"),
    "limit": (4, "Overflow", "Limit"),
    "lockout": (15, "TokenLockout", "Lockout"),
    "ddtk": (12, "DDTK", "DDTK"),
    "key_type": (5, "KeyType", "KeyType"),
    "key_change": (5, "KeyType", "Key Err"),
    "mfr": (14, "MfrCode", "MFr Err"),
}

#: LCD text of a refused key change set, by ``KeyChangeRefused.reason``.
KEY_CHANGE_TEXT: dict[str, str] = {
    "same_key": "Key SAME",
    "key_type": "KeyType",
    "base_date": "Key bd",
}


def lockout_seconds(failures: int) -> int:
    """Seconds of lockout after ``failures`` consecutive bad entries (0 while free)."""
    if failures <= FREE_TRIES - 1:
        return 0
    return min(LOCK_FIRST_S << (failures - FREE_TRIES), LOCK_CAP_S)


class ValveState(Enum):
    """Where the valve is."""

    #: gas flows.
    OPEN = "open"
    #: closed; the open key may open it when the rules pass.
    CLOSED = "closed"


class ValveInput(Enum):
    """What can move the valve."""

    #: credit reached the close line.
    CREDIT_EXHAUSTED = "credit"
    #: battery level 1 or 2.
    BATTERY_LOW = "battery"
    #: magnetic interference.
    MAGNET = "tamper"
    #: power off or boot.
    POWER_OFF = "power"
    #: the customer's open key, its rules passed.
    OPEN_KEY = "open_key"
    #: a close command (IR or test).
    CLOSE_COMMAND = "manual"
    #: gas flowing faster than an appliance would right after the open key (M6).
    HIGH_FLOW = "flow"


# (state, input) -> (next state, reason recorded for a closed valve)
VALVE_TABLE: dict[tuple[ValveState, ValveInput], tuple[ValveState, str | None]] = {}
for _inp in ValveInput:
    if _inp is ValveInput.OPEN_KEY:
        VALVE_TABLE[(ValveState.CLOSED, _inp)] = (ValveState.OPEN, None)
        VALVE_TABLE[(ValveState.OPEN, _inp)] = (ValveState.OPEN, None)
    else:
        VALVE_TABLE[(ValveState.OPEN, _inp)] = (ValveState.CLOSED, _inp.value)
        VALVE_TABLE[(ValveState.CLOSED, _inp)] = (ValveState.CLOSED, _inp.value)


def valve_step(state: ValveState, inp: ValveInput) -> tuple[ValveState, str | None]:
    """The table's answer; an unknown pair closes the valve (a defined, safe state)."""
    return VALVE_TABLE.get((state, inp), (ValveState.CLOSED, "manual"))
