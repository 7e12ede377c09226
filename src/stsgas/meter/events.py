"""Everything the meter says back: frozen events, one vocabulary for LCD, IR and reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = [
    "AlarmChanged", "Buzzer", "Events", "IrReply", "LcdChanged", "Logged", "MeterEvent",
    "QueryAnswered", "TokenAccepted", "TokenRejected", "ValveChanged",
]  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenAccepted:
    """A token was applied (credit, management, test or a key change part)."""

    at: datetime
    kind: str
    tid: int | None
    amount: int | None  # register units: litres (volume) or 1e-5 money (amount)


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenRejected:
    """A token was refused; ``code`` is ours, ``status`` the IEC 62055-41 number."""

    at: datetime
    code: str
    status: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ValveChanged:
    """The valve moved (or was commanded and failed: ``ok`` False)."""

    at: datetime
    open: bool
    reason: str | None
    ok: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class LcdChanged:
    """New LCD text."""

    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Buzzer:
    """A buzzer pattern: ``accept``, ``reject``, ``alarm``, ``key``, ``test`` (display test)."""

    pattern: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AlarmChanged:
    """An alarm became active (``on``) or cleared."""

    name: str
    on: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Logged:
    """An entry went into the event log (type + RTC time)."""

    type: str
    at: datetime


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
                return e.code
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
