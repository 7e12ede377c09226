"""The front panel's view of a meter: panel keys in, what the panel shows out.

The Textual app (``adapters.tui``) draws; this module holds the meter, its NVM
file and the world around it (magnet, battery voltage), translates panel
keys into meter inputs and the meter's state and events into panel state.
It has no Textual import, so it is tested directly as well.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from stsgas.meter.adapters.file_nvm import FileNvm
from stsgas.meter.demo import nvm_key
from stsgas.meter.errors import MeterError, MeterUsageError
from stsgas.meter.events import (
    Buzzer,
    Events,
    Logged,
    QueryAnswered,
    TokenAccepted,
    TokenRejected,
    ValveChanged,
)
from stsgas.meter.meter import Meter
from stsgas.meter.nvm import NvmError
from stsgas.meter.nvm_store import EncryptedRecordStore
from stsgas.meter.settings import SettingsError
from stsgas.meter.storage import StateStore

__all__ = ["PanelState", "PanelView", "ViewError"]

#: panel key -> meter key (the meter's keypad: digits, ``*`` back, ``#`` enter, ``C`` cancel)
_KEYS = {"back": "*", "enter": "#", "cancel": "C", **{str(d): str(d) for d in range(10)}}


class ViewError(MeterError):
    """The meter cannot be opened: a bad meter object, or an NVM file that is not trusted."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PanelState:
    """What the front panel shows at one moment."""

    lcd: str
    valve_open: bool
    valve_reason: str | None
    alarm: bool
    alarms: tuple[str, ...]
    buzzer: str | None
    credit: Decimal
    battery_v: float
    power: bool
    magnet: bool


class PanelView:
    """A meter on the panel; build with :meth:`open` (NVM file) or directly with a meter."""

    def __init__(self, meter: Meter, *, nvm: FileNvm | None = None) -> None:
        self.meter = meter
        self.nvm = nvm
        self.magnet = False
        self.volts = meter.supply.bat_v
        self.buzzer: str | None = None

    @classmethod
    def open(cls, meter_json: dict[str, Any], *, nvm_path: Path, now: datetime) -> PanelView:
        """Open (or commission) the meter kept in ``nvm_path``.

        Raises:
            ViewError: a bad meter object, or a tampered/corrupt NVM file.
        """
        nvm_path.parent.mkdir(parents=True, exist_ok=True)
        nvm = None
        try:
            nvm = FileNvm(nvm_path)
            store: StateStore = EncryptedRecordStore(nvm, nvm_key(meter_json))
            meter = Meter.from_json(meter_json, store=store, now=now)
        except (SettingsError, NvmError, MeterUsageError, OSError, ValueError) as exc:
            if nvm is not None:
                nvm.close()
            raise ViewError(f"{nvm_path}: {exc}") from exc
        return cls(meter, nvm=nvm)

    def close(self) -> None:
        """Persist what is pending and release the NVM file."""
        self.meter.flush()
        if self.nvm is not None:
            self.nvm.close()

    # ---- inputs ---------------------------------------------------------------------
    def _took(self, out: Events) -> Events:
        pattern = next((e.pattern for e in out if isinstance(e, Buzzer)), None)
        self.buzzer = None if pattern == "key" else pattern
        return out

    def _at(self, now: datetime) -> datetime:
        """The wall clock, never behind the meter's: a clock stepped back (NTP, a
        manual change) holds still until it catches up instead of stopping the panel."""
        return max(now, self.meter.now)

    def fire_timers(self, now: datetime) -> bool:
        """Run the meter's timers due by ``now``; True if any fired."""
        now = self._at(now)
        deadline = self.meter.next_deadline()
        if deadline is None or deadline > now:
            return False
        self._took(self.meter.handle_timer(now))
        return True

    def press(self, key: str, now: datetime) -> Events:
        """A panel key: ``0``–``9``, ``back``, ``enter`` or ``cancel``."""
        return self._took(self.meter.press(_KEYS[key], self._at(now)))

    def flow(self, litres: int, now: datetime) -> Events:
        """Gas offered through the meter."""
        return self._took(self.meter.flow(litres, self._at(now)))

    def battery_step(self, delta: float, now: datetime) -> Events:
        """Move the battery voltage by ``delta`` volts (kept between 2.5 and 3.7 V)."""
        self.volts = round(min(3.7, max(2.5, self.volts + delta)), 2)
        return self._took(self.meter.set_battery(self.volts, self._at(now)))

    def swap_battery(self, now: datetime) -> Events:
        """Take the battery out and fit a new one (3.6 V)."""
        self.volts = 3.6
        return self._took(self.meter.replace_battery(self.volts, self._at(now)))

    def toggle_magnet(self, now: datetime) -> Events:
        """Put a magnet at the sensor, or take it away."""
        self.magnet = not self.magnet
        return self._took(self.meter.magnet(self.magnet, self._at(now)))

    def toggle_power(self, now: datetime) -> Events:
        """Cut the power, or restore it."""
        return self._took(self.meter.power(not self.power, self._at(now)))

    def open_key(self, now: datetime) -> Events:
        """The valve's open key."""
        return self._took(self.meter.open_key(self._at(now)))

    # ---- outputs --------------------------------------------------------------------
    @property
    def power(self) -> bool:
        """The meter has power."""
        return self.meter.supply.power

    def state(self) -> PanelState:
        """The panel as it looks now."""
        m = self.meter
        alarms = tuple(m.alarms())
        return PanelState(
            lcd=m.lcd, valve_open=m.valve_open, valve_reason=m.valve_reason,
            alarm=bool(alarms), alarms=alarms, buzzer=self.buzzer, credit=m.credit,
            battery_v=self.volts, power=self.power, magnet=self.magnet,
        )  # fmt: skip

    @staticmethod
    def describe(out: object) -> str:
        """One line for the panel's log: what an input did."""
        if not isinstance(out, Events):
            return ""
        notes = []
        for e in out:
            if isinstance(e, TokenAccepted):
                notes.append(f"token accepted ({e.kind})")
            elif isinstance(e, TokenRejected):
                notes.append(f"token rejected: {e.code} (status {e.status})")
            elif isinstance(e, QueryAnswered):
                notes.append(f"query {e.code}: {e.text}")
            elif isinstance(e, ValveChanged):
                state = "open" if e.open else "closed"
                notes.append(
                    f"valve {state}"
                    + (f" ({e.reason})" if e.reason else "")
                    + ("" if e.ok else " FAILED")
                )
            elif isinstance(e, Logged):
                notes.append(f"event {e.type}")
        return "; ".join(notes)
