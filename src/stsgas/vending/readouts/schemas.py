"""Readout, history, reconciliation and visit bodies; volumes and money as decimal text."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class ReadoutOut(BaseModel):
    """A kept readout file (``created`` false: the same file was uploaded before)."""

    id: int
    meter_id: int
    meter_number: str
    sha256: str
    read_at: datetime
    uploaded_at: datetime
    uploaded_by: str | None
    months: int
    hours: int
    events: int
    created: bool = False


class MonthOut(BaseModel):
    """Gas the meter counted in one month (m³, three decimals), and money when known."""

    month: str
    volume_m3: str
    amount: str | None = None


class HourOut(BaseModel):
    """Gas the meter counted in one clock hour (m³)."""

    hour: datetime
    volume_m3: str


class EventOut(BaseModel):
    """An event from the meter's log; ``needs_visit``: still waiting for a visit."""

    at: datetime
    code: str
    detail: str
    needs_visit: bool


class VisitFlagOut(BaseModel):
    """A meter with visit-worthy events since its last visit."""

    meter_id: int
    meter_number: str
    events: int
    first_at: datetime
    last_at: datetime
    codes: list[str]
    last_visit: datetime | None


class HistoryOut(BaseModel):
    """What the meter's readouts told: the newest registers and settings, its months,
    its newest hours and events, and whether it needs a visit."""

    meter_id: int
    meter_number: str
    mode: str
    last_readout: ReadoutOut | None
    registers: dict[str, str]
    settings: dict[str, str]
    monthly: list[MonthOut]
    hourly: list[HourOut]
    events: list[EventOut]
    visit: VisitFlagOut | None


class MonthBalanceOut(BaseModel):
    """One month of the reconciliation, in m³ (volume) or money (amount)."""

    month: str
    sold: str
    used: str | None
    difference: str | None
    balance: str | None
    flagged: bool


class ReconciliationOut(BaseModel):
    """Sold against used per month; ``flagged_months``: used more than sold + overdraft."""

    meter_id: int
    meter_number: str
    mode: str
    unit: str
    overdraft: str
    opening: str
    months: list[MonthBalanceOut]
    flagged_months: list[str]


class VisitIn(BaseModel):
    """Someone went to the meter (what was found, what was done)."""

    note: str = Field(default="", max_length=400)


class VisitOut(BaseModel):
    """A recorded visit."""

    id: int
    meter_id: int
    visited_at: datetime
    note: str
