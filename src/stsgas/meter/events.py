"""Everything the meter says back: frozen events, one vocabulary for LCD, IR and reports.

Every field with a fixed set of values is an enum. They are ``StrEnum``s, so an
event's ``code``, ``reason`` or ``type`` still equals (and prints as, and JSON-encodes
as) its text: ``TokenRejected.code == "crc"``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from stsgas.sts.errors import Rejection, TokenStatus

__all__ = [
    "AcceptKind", "Alarm", "AlarmChanged", "Beep", "Buzzer", "CloseReason", "Events", "IrReply",
    "LcdChanged", "LogKind", "Logged", "MeterEvent", "QueryAnswered", "Rejection",
    "TokenAccepted", "TokenRejected", "TokenStatus", "ValveChanged",
]  # fmt: skip


class CloseReason(StrEnum):
    """Why the valve is closed (kept in the registers; shown by query 09)."""

    CREDIT = "credit"
    BATTERY = "battery"
    TAMPER = "tamper"
    POWER = "power"
    CLEAN = "clean"
    FLOW = "flow"
    MANUAL = "manual"
    #: gas safety: flow above the excess-flow rate for longer than allowed (a broken pipe)
    EXCESS_FLOW = "excess_flow"
    #: gas safety: flow that never stopped for the leak time (a leak)
    LEAK = "leak"


class Alarm(StrEnum):
    """The meter's alarms (LEDs and the ``alarms()`` list)."""

    LOW_CREDIT = "low_credit"
    BATTERY_LOW_1 = "battery_low_1"
    BATTERY_LOW_2 = "battery_low_2"
    TAMPER = "tamper"
    VALVE_FAILURE = "valve_failure"
    EXCESS_FLOW = "excess_flow"
    LEAK = "leak"


class Beep(StrEnum):
    """Buzzer patterns."""

    ACCEPT = "accept"
    REJECT = "reject"
    ALARM = "alarm"
    KEY = "key"
    #: the display test: every segment and the buzzer.
    TEST = "test"


class LogKind(StrEnum):
    """Event-log entry types (persisted by their text)."""

    TOKEN_ACCEPTED = "token_accepted"
    TOKEN_REJECTED = "token_rejected"
    RECHARGE_LIMIT = "recharge_limit"
    TEST_TOKEN = "test_token"
    KEY_CHANGED = "key_changed"
    KEY_CHANGE_REFUSED = "key_change_refused"
    BASE_DATE_EXPIRED = "base_date_expired"
    BATTERY_LOW_1 = "battery_low_1"
    BATTERY_LOW_2 = "battery_low_2"
    BATTERY_REPLACEMENT = "battery_replacement"
    MAGNETIC_INTERFERENCE = "magnetic_interference"
    TAMPER_CLEARED = "tamper_cleared"
    POWER_DOWN = "power_down"
    POWER_UP = "power_up"
    CLOCK_SET = "clock_set"
    IR_REPLAY = "ir_replay"
    #: a wrong password on the optical port's readout (IEC 62056-21 programming mode)
    READOUT_REFUSED = "readout_refused"
    TARIFF_LOADED = "tariff_loaded"
    TARIFF_CHANGED = "tariff_changed"
    VALVE_CLEANED = "valve_cleaned"
    VALVE_TESTED = "valve_tested"
    VALVE_OPEN_FAILURE = "valve_open_failure"
    VALVE_CLOSE_FAILURE = "valve_close_failure"
    #: a field setting changed by the signed IR command (detail: ``name old->new``)
    SETTING_CHANGED = "setting_changed"
    EXCESS_FLOW = "excess_flow"
    LEAK_SHUTOFF = "leak_shutoff"


class AcceptKind(StrEnum):
    """What an accepted token was (the token classes by their names, and the special cases)."""

    CREDIT = "CreditToken"
    CURRENCY_CREDIT = "CurrencyCreditToken"
    CLEAR_CREDIT = "ClearCredit"
    CLEAR_TAMPER = "ClearTamper"
    TARIFF_RATE = "TariffRate"
    TEST = "test"
    KEY_CHANGE_PART = "key_change_part"
    KEY_CHANGE = "key_change"


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenAccepted:
    """A token was applied (credit, management, test or a key change part)."""

    at: datetime
    kind: AcceptKind
    tid: int | None
    amount: int | None  # register units: litres (volume) or 1e-5 money (amount)


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenRejected:
    """A token was refused; ``code`` is ours, ``status`` the IEC 62055-41 number."""

    at: datetime
    code: Rejection
    status: TokenStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class ValveChanged:
    """The valve moved (or was commanded and failed: ``ok`` False)."""

    at: datetime
    open: bool
    reason: CloseReason | None
    ok: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class LcdChanged:
    """New LCD text."""

    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Buzzer:
    """A buzzer pattern: ``accept``, ``reject``, ``alarm``, ``key``, ``test`` (display test)."""

    pattern: Beep


@dataclass(frozen=True, slots=True, kw_only=True)
class AlarmChanged:
    """An alarm became active (``on``) or cleared."""

    name: Alarm
    on: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Logged:
    """An entry went into the event log (type + RTC time, and what changed if it says)."""

    type: LogKind
    at: datetime
    detail: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class QueryAnswered:
    """A query code was answered (by keypad or IR)."""

    code: str
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class IrReply:
    """The frame to send back on the IR port."""

    data: bytes


MeterEvent = (
    TokenAccepted
    | TokenRejected
    | ValveChanged
    | LcdChanged
    | Buzzer
    | AlarmChanged
    | Logged
    | QueryAnswered
    | IrReply
)


class Events(list[MeterEvent]):
    """What one input returned: a list of events, with the usual questions answered."""

    @property
    def accepted(self) -> bool | None:
        """True/False if a token or query was decided by this input, else None."""
        for e in self:
            if isinstance(e, TokenAccepted | QueryAnswered):
                return True
            if isinstance(e, TokenRejected):
                return False
        return None

    @property
    def code(self) -> str:
        """The rejection code, ``ok`` for an accepted token or query, else ``""``."""
        for e in self:
            if isinstance(e, TokenRejected):
                return e.code.value  # plain text: what reports count and print
            if isinstance(e, TokenAccepted | QueryAnswered):
                return "ok"
        return ""

    @property
    def reply(self) -> bytes | None:
        """The IR reply frame, if any (what an IR adapter writes back)."""
        for e in self:
            if isinstance(e, IrReply):
                return e.data
        return None
