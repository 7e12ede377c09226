"""The meter's state machines as tables. Every valve and entry rule lives here.

Rules (docs/meter.md states them with their sources):

* Valve. Closed by: credit at/below the close line (zero, or minus the
  overdraft limit when overdraft is enabled) -> ``credit``; battery level 1
  (once) and level 2 (locked until replacement) -> ``battery``; magnetic
  interference (locked until clear tamper) -> ``tamper``; gas safety (flow
  above the excess-flow rate too long -> ``excess_flow``, flow never stopping
  for the leak time -> ``leak``; locked until the IR clear_tamper command,
  ``GAS_SAFETY``); power off (and
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
the state-triggered rules (credit line, locks) to a fixed point. The keypad
reads ``KEYPAD`` and ``ENTRY_BY_LENGTH``, the lockout ``LOCKOUT_S``, the open
key ``OPEN_LOCKS``, and a refused token its LCD text from ``REJECT_TEXT`` (its
code and IEC status come from ``stsgas.sts.errors``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from enum import Enum
from typing import TYPE_CHECKING, Final

from stsgas.meter.events import Alarm, CloseReason, LogKind, Rejection
from stsgas.sts.decoder import TidVerdict

if TYPE_CHECKING:
    from stsgas.meter.state import Supply

__all__ = [
    "DIGIT_TIMEOUT", "ENTRY_BY_LENGTH", "FREE_TRIES", "GAS_SAFETY", "KCT_TIMEOUT", "KEYPAD",
    "KEY_CHANGE_TEXT", "LOCKOUT_S", "MONTHS", "OPEN_LOCKS", "REJECT_TEXT", "SETTING_RANGES",
    "STICKY_REASONS", "TID_REJECTION", "VALVE_TABLE", "Entry", "Key", "Unit", "ValveInput",
    "ValveState", "lockout_seconds", "valve_step",
]  # fmt: skip

FREE_TRIES = 3
LOCK_FIRST_S = 10
LOCK_CAP_S = 1280
DIGIT_TIMEOUT = timedelta(seconds=60)
KCT_TIMEOUT = timedelta(minutes=10)
#: right after the open key, flow above this rate closes the valve again (A15: 30 L/h)
UNCONTROLLED_LPH = 30
OPEN_CHECK = timedelta(seconds=60)
#: longest keypad entry (a token)
MAX_DIGITS = 20
#: monthly records kept (ten years)
MONTHS = 120

#: seconds of lockout after n consecutive bad entries (index n; the last entry repeats)
LOCKOUT_S: Final[tuple[int, ...]] = (0,) * FREE_TRIES + tuple(
    min(LOCK_FIRST_S << i, LOCK_CAP_S) for i in range((LOCK_CAP_S // LOCK_FIRST_S).bit_length())
)


def lockout_seconds(failures: int) -> int:
    """Seconds of lockout after ``failures`` consecutive bad entries (0 while free)."""
    return LOCKOUT_S[max(0, min(failures, len(LOCKOUT_S) - 1))]


#: the LCD text of each rejection (code and IEC status: ``stsgas.sts.errors``); anchor A2.
REJECT_TEXT: Final[dict[Rejection, str]] = {
    Rejection.CRC: "Error",
    Rejection.USED: "Used",
    Rejection.OLD: "Old",
    Rejection.EXPIRED: "Expired",
    Rejection.TYPE: "Type",
    Rejection.FORMAT: "Format",
    Rejection.RANGE: "Range",
    Rejection.LIMIT: "Limit",
    Rejection.LOCKOUT: "Lockout",
    Rejection.DDTK: "DDTK",
    Rejection.KEY_TYPE: "KeyType",
    Rejection.KEY_CHANGE: "Key Err",
    Rejection.MFR: "MFr Err",
}

#: LCD text of a refused key change set, by ``KeyChangeRefused.reason``.
KEY_CHANGE_TEXT: Final[dict[str, str]] = {
    "same_key": "Key SAME",
    "key_type": "KeyType",
    "base_date": "Key bd",
}

#: the TID check's verdict -> the rejection it gives (OK applies the token).
TID_REJECTION: Final[dict[TidVerdict, Rejection]] = {
    TidVerdict.OLD: Rejection.OLD,
    TidVerdict.USED: Rejection.USED,
    TidVerdict.EXPIRED: Rejection.EXPIRED,
}


class Key(Enum):
    """What a keypad key does."""

    DIGIT = "digit"
    BACK = "back"
    CANCEL = "cancel"
    ENTER = "enter"
    OPEN = "open"


#: keypad key -> action: digits, ``*`` backspace, ``C`` cancel, ``#`` enter, ``O`` open key.
KEYPAD: Final[dict[str, Key]] = {
    **{str(d): Key.DIGIT for d in range(10)},
    "*": Key.BACK,
    "C": Key.CANCEL,
    "#": Key.ENTER,
    "O": Key.OPEN,
}


class Entry(Enum):
    """What Enter does with the typed digits."""

    IDLE = "idle"
    QUERY = "query"
    TOKEN = "token"
    #: any other length: a bad entry (``format``), counted towards the lockout.
    FORMAT = "format"


#: digits typed -> what Enter does; any length not here is ``Entry.FORMAT``.
ENTRY_BY_LENGTH: Final[dict[int, Entry]] = {0: Entry.IDLE, 2: Entry.QUERY, MAX_DIGITS: Entry.TOKEN}


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
    #: gas safety: flow above the excess-flow rate for the allowed time.
    EXCESS_FLOW = "excess_flow"
    #: gas safety: flow that never stopped for the leak time.
    LEAK = "leak"


#: the reason each closing input records
_CLOSES: Final[dict[ValveInput, CloseReason]] = {
    ValveInput.CREDIT_EXHAUSTED: CloseReason.CREDIT,
    ValveInput.BATTERY_LOW: CloseReason.BATTERY,
    ValveInput.MAGNET: CloseReason.TAMPER,
    ValveInput.POWER_OFF: CloseReason.POWER,
    ValveInput.CLOSE_COMMAND: CloseReason.MANUAL,
    ValveInput.HIGH_FLOW: CloseReason.FLOW,
    ValveInput.EXCESS_FLOW: CloseReason.EXCESS_FLOW,
    ValveInput.LEAK: CloseReason.LEAK,
}

# (state, input) -> (next state, reason recorded for a closed valve)
#: only the open key opens; every other input closes (or keeps closed) with its reason.
VALVE_TABLE: Final[dict[tuple[ValveState, ValveInput], tuple[ValveState, CloseReason | None]]] = {
    pair: row
    for inp in ValveInput
    for pair, row in (
        (
            ((ValveState.CLOSED, inp), (ValveState.OPEN, None)),
            ((ValveState.OPEN, inp), (ValveState.OPEN, None)),
        )
        if inp is ValveInput.OPEN_KEY
        else (
            ((ValveState.OPEN, inp), (ValveState.CLOSED, _CLOSES[inp])),
            ((ValveState.CLOSED, inp), (ValveState.CLOSED, _CLOSES[inp])),
        )
    )
}

#: a closed valve's reason that a later closing input does not overwrite (cleared only
#: by opening): tamper and a gas-safety shut-off stay the reason until they are cleared
#: and the open key opens.
STICKY_REASONS: Final[frozenset[CloseReason]] = frozenset(
    {CloseReason.TAMPER, CloseReason.EXCESS_FLOW, CloseReason.LEAK}
)


def valve_step(state: ValveState, inp: ValveInput) -> tuple[ValveState, CloseReason | None]:
    """The table's answer; an unknown pair closes the valve (a defined, safe state)."""
    return VALVE_TABLE.get((state, inp), (ValveState.CLOSED, CloseReason.MANUAL))


#: the locks that keep the open key from opening the valve, each with its test.
OPEN_LOCKS: Final[dict[str, Callable[[Supply], bool]]] = {
    "power off": lambda s: not s.power,
    "battery at level 2": lambda s: s.bat >= 2,
    "tamper": lambda s: s.tamper,
    "gas safety shut-off": lambda s: s.gas is not None,
}


class Unit(Enum):
    """How a field setting's value text reads (contracts: units fixed, no floats)."""

    #: decimal m3 (volume) or money (amount), up to 3 places, in register units
    CREDIT = "credit"
    #: as CREDIT, or ``none`` (no limit)
    CREDIT_OR_NONE = "credit_or_none"
    #: decimal volts, up to 2 places, kept in centivolts
    VOLTS = "volts"
    #: a whole number
    INTEGER = "integer"
    #: decimal m3/h, up to 3 places, kept in litres an hour
    FLOW = "flow"
    #: an IANA zone name
    ZONE = "zone"


#: field setting -> (how its value reads, lowest, highest allowed), in the text's units.
#: The meter refuses the whole ``settings`` command when one value is outside.
SETTING_RANGES: Final[dict[str, tuple[Unit, str, str]]] = {
    "overdraft": (Unit.CREDIT, "0", "50"),
    "recharge_limit": (Unit.CREDIT_OR_NONE, "0.001", "100000"),
    "low_credit_alarm": (Unit.CREDIT, "0", "1000"),
    "battery_low_1_v": (Unit.VOLTS, "3.00", "3.60"),
    "battery_low_2_v": (Unit.VOLTS, "2.80", "3.50"),
    "auto_clean_days": (Unit.INTEGER, "0", "365"),
    "timezone": (Unit.ZONE, "", ""),
    "billing_day": (Unit.INTEGER, "1", "28"),
    "excess_flow_m3h": (Unit.FLOW, "0.5", "50"),
    "excess_flow_s": (Unit.INTEGER, "5", "3600"),
    "leak_flow_m3h": (Unit.FLOW, "0.001", "1"),
    "leak_s": (Unit.INTEGER, "600", "172800"),
}

#: the gas-safety shut-offs: valve input, close reason, log entry, alarm, LCD word.
#: Both latch (``Supply.gas``) until the authenticated IR clear_tamper command.
GAS_SAFETY: Final[dict[CloseReason, tuple[ValveInput, LogKind, Alarm, str]]] = {
    CloseReason.EXCESS_FLOW: (ValveInput.EXCESS_FLOW, LogKind.EXCESS_FLOW, Alarm.EXCESS_FLOW,
                              "FLOW"),
    CloseReason.LEAK: (ValveInput.LEAK, LogKind.LEAK_SHUTOFF, Alarm.LEAK, "LEAK"),
}  # fmt: skip
