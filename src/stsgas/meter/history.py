"""What the meter accumulates as it runs: its TID memory, finished months and event log.

Each is a list the meter appends to and keeps only the newest of
(``remember_tids``, ``end_month``, ``log``), where the values of
:mod:`stsgas.meter.state` are replaced whole. Each is a record of its own
(``tid``, ``mon``, ``evt``) in the one list form ``[1, [...]]`` the state's
records do not use; that form and its reader live here with the lists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from stsgas.meter._envelope import ENCODER, pack, unpack
from stsgas.meter.errors import RecordError
from stsgas.meter.events import LogKind

__all__ = [
    "EventLog", "LogEntry", "MonthRecord", "months_from_record", "months_to_record",
    "tids_from_record", "tids_to_record",
]  # fmt: skip


# ---- TID memory, months, event log (records ``tid``, ``mon``, ``evt``) ---------------------
@dataclass(frozen=True, slots=True)
class MonthRecord:
    """One finished billing period: its label (YYYY-MM of its start) and litres."""

    label: str
    litres: int


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One event-log entry: its type, the RTC time (seconds) and what changed, if it says."""

    kind: LogKind
    at: int
    detail: str = ""

    def row(self) -> str:
        """The entry's record text: ``["kind",at]``, or ``["kind",at,"detail"]``."""
        if not self.detail:
            return f'["{self.kind.value}",{self.at}]'
        return f'["{self.kind.value}",{self.at},{ENCODER.encode(self.detail)}]'


_LIST_VERSION: Final = 1


def _list(name: str, data: bytes) -> list[Any]:
    _, value = unpack(name, data, _LIST_VERSION)
    if not isinstance(value, list):
        raise RecordError(f"record {name} is not a list")
    return value


def tids_to_record(tids: tuple[int, ...]) -> bytes:
    """The TID memory's bytes."""
    return pack(_LIST_VERSION, list(tids))


def tids_from_record(data: bytes) -> tuple[int, ...]:
    """The TID memory, oldest first."""
    try:
        return tuple(int(t) for t in _list("tid", data))
    except (TypeError, ValueError) as exc:
        raise RecordError(f"record tid is malformed: {exc}") from exc


def months_to_record(months: tuple[MonthRecord, ...]) -> bytes:
    """The finished months' bytes."""
    return pack(_LIST_VERSION, [[m.label, m.litres] for m in months])


def months_from_record(data: bytes) -> tuple[MonthRecord, ...]:
    """The finished months, oldest first."""
    try:
        return tuple(MonthRecord(str(lb), int(v)) for lb, v in _list("mon", data))
    except (TypeError, ValueError) as exc:
        raise RecordError(f"record mon is malformed: {exc}") from exc


@dataclass(frozen=True, slots=True)
class EventLog:
    """The event log, oldest first, with each entry's record text kept beside it.

    Every accepted token commits the log, so its record is built by joining the
    entries' ready-made texts rather than encoding 200 entries each time. The
    texts are exactly what ``json.dumps`` writes (log kinds are plain identifiers).
    """

    entries: tuple[LogEntry, ...] = ()
    rows: tuple[str, ...] = field(default=(), repr=False, compare=False)

    def add(self, entry: LogEntry, keep: int) -> EventLog:
        """The log with ``entry`` appended, keeping the newest ``keep``."""
        return EventLog((*self.entries, entry)[-keep:], (*self.rows, entry.row())[-keep:])

    def to_record(self) -> bytes:
        """The record's bytes."""
        return f"[{_LIST_VERSION},[{','.join(self.rows)}]]".encode()

    @classmethod
    def from_record(cls, data: bytes) -> EventLog:
        """The log from its bytes."""
        try:
            entries = tuple(
                LogEntry(LogKind(k), int(t), *(str(d) for d in more))
                for k, t, *more in _list("evt", data)
            )
        except (TypeError, ValueError) as exc:
            raise RecordError(f"record evt is malformed: {exc}") from exc
        return cls(entries, tuple(e.row() for e in entries))
