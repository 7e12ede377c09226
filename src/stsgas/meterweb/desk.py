"""The desk: the virtual meters the page shows, each a front panel over its NVM file.

One :class:`MeterDesk` holds the meters of a state folder (``<DRN>.nvm`` each,
the encrypted file the terminal meter keeps), a lock per meter (requests run
in worker threads) and a clock per meter: the app's clock plus how far the
page has fast-forwarded that meter (kept in ``<DRN>.ahead.json`` beside its NVM
file, so a restart does not turn its clock back). The meter core only ever gets
``now``.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from stsgas.meter._clock import LATEST
from stsgas.meter.adapters.tui_view import PanelView, ViewError
from stsgas.meter.errors import MeterError
from stsgas.meter.events import Beep, Buzzer, Events
from stsgas.sts import StsError
from stsgas.sts.identity import split_pan
from stsgas.sts.keys import MeterConfig

__all__ = [
    "KEY_NAMES",
    "BadInput",
    "MeterDesk",
    "NoSuchMeter",
    "Snapshot",
    "wall_clock",
]

#: keypad characters and names -> the panel's key names (``*`` clears a digit, ``#`` enters)
KEY_NAMES: dict[str, str] = {
    **{str(d): str(d) for d in range(10)},
    "#": "enter", "enter": "enter",
    "*": "back", "back": "back", "clear": "back",
    "C": "cancel", "c": "cancel", "cancel": "cancel",
}  # fmt: skip
_WORD = re.compile(r"[a-z]+|.", re.S)
#: the most keys one request may press (a 20-digit token and then some)
MAX_KEYS = 64
#: the most gas one request may draw, litres, and the furthest one fast-forward goes, hours
MAX_LITRES = 100_000
MAX_HOURS = 24 * 400
LOG_LINES = 20


def wall_clock() -> datetime:
    """The wall clock in UTC: the app layer's clock (tests inject their own)."""
    return datetime.now(UTC)


class BadInput(MeterError, ValueError):
    """A request the meter cannot take; ``code`` is stable for clients."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


class NoSuchMeter(MeterError, LookupError):
    """No meter with that number on this desk."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Snapshot:
    """What the page draws for one meter (JSON-ready: money and volumes as strings)."""

    id: str
    pan: str
    mode: str
    lcd: str
    valve_open: bool
    valve_reason: str | None
    alarm: bool
    alarms: tuple[str, ...]
    buzzer: str | None
    beeps: int
    credit: str
    battery_v: str
    power: bool
    magnet: bool
    clock: str
    ahead_hours: float
    log: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """A dict for the JSON answer."""
        return {
            "id": self.id, "pan": self.pan, "mode": self.mode, "lcd": self.lcd,
            "valve": {"open": self.valve_open, "reason": self.valve_reason},
            "leds": {"alarm": self.alarm, "valve": self.valve_open},
            "alarms": list(self.alarms),
            "buzzer": {"pattern": self.buzzer, "count": self.beeps},
            "credit": self.credit, "battery_v": self.battery_v, "power": self.power,
            "magnet": self.magnet, "clock": self.clock, "ahead_hours": self.ahead_hours,
            "log": list(self.log),
        }  # fmt: skip


@dataclass(slots=True)
class _Slot:
    """One meter on the desk: its panel, lock, clock offset, beeps and log."""

    view: PanelView
    pan: str
    ahead: timedelta = timedelta()
    beeps: int = 0
    buzzer: str | None = None
    log: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def parse_keys(keys: object) -> list[str]:
    """``"0123#"``, ``["1", "enter"]`` or ``"12 back 3 #"`` -> panel key names.

    Raises:
        BadInput: ``bad_key`` (an unknown key) or ``too_many_keys``.
    """
    if isinstance(keys, str):
        parts = [p for p in _WORD.findall(keys) if not p.isspace()]
    elif isinstance(keys, list) and all(isinstance(k, str) for k in keys):
        parts = list(keys)
    else:
        raise BadInput("bad_key", "keys is a string such as '0123#' or a list of key names")
    if not parts:
        raise BadInput("bad_key", "no key given")
    if len(parts) > MAX_KEYS:
        raise BadInput("too_many_keys", f"at most {MAX_KEYS} keys per request")
    names = []
    for part in parts:
        name = KEY_NAMES.get(part)
        if name is None:
            shown = part if len(part) <= 12 else part[:12] + "…"
            raise BadInput(
                "bad_key", f"{shown!r} is no meter key: 0-9, # (enter), * (clear), C (cancel)"
            )
        names.append(name)
    return names


class MeterDesk:
    """The meters of one state folder; every method takes the meter's number (DRN)."""

    def __init__(self, state_dir: Path, *, clock: Callable[[], datetime] = wall_clock) -> None:
        self.state_dir = state_dir
        self.clock = clock
        self._slots: dict[str, _Slot] = {}

    @classmethod
    def open(
        cls,
        meters: Iterable[dict[str, Any]],
        state_dir: Path,
        *,
        clock: Callable[[], datetime] = wall_clock,
    ) -> MeterDesk:
        """Open (or commission) each meter object's meter in ``state_dir/<DRN>.nvm``.

        Raises:
            ViewError: a bad meter object, a duplicate meter, or an NVM file not trusted.
        """
        desk = cls(state_dir, clock=clock)
        try:
            for doc in meters:
                desk._add(doc)
        except BaseException:
            desk.close()
            raise
        return desk

    def _add(self, doc: dict[str, Any]) -> None:
        try:
            pan = MeterConfig.from_json(doc).pan
        except StsError as exc:
            raise ViewError(f"meter: {exc}") from None
        drn = split_pan(pan)[1]
        if drn in self._slots:
            raise ViewError(f"meter {drn} is given twice")
        ahead = self._load_ahead(drn)
        view = PanelView.open(doc, nvm_path=self.state_dir / f"{drn}.nvm", now=self.clock() + ahead)
        self._slots[drn] = _Slot(view=view, pan=pan, ahead=ahead)

    def _ahead_file(self, drn: str) -> Path:
        return self.state_dir / f"{drn}.ahead.json"

    def _load_ahead(self, drn: str) -> timedelta:
        """How far this meter was fast-forwarded before a restart (it stays that far ahead).

        A missing or unreadable file is no fast-forward: the meter's own clock never
        goes back (the panel holds it until the app's clock catches up)."""
        try:
            doc = json.loads(self._ahead_file(drn).read_text(encoding="utf-8"))
            seconds = int(doc["seconds"])
        except (OSError, ValueError, TypeError, KeyError):
            return timedelta()
        return timedelta(seconds=min(max(0, seconds), self._room()))

    def _room(self) -> int:
        """The most seconds a meter may run ahead: its calendar ends at LATEST."""
        return max(0, int((LATEST - self.clock()).total_seconds()) - 1)

    def _save_ahead(self, drn: str, ahead: timedelta) -> None:
        """Write the fast-forward beside the NVM file (a new file renamed over the old)."""
        path = self._ahead_file(drn)
        part = path.with_suffix(".part")
        part.write_text(json.dumps({"seconds": int(ahead.total_seconds())}), encoding="utf-8")
        os.replace(part, path)

    def close(self) -> None:
        """Persist every meter and release its NVM file."""
        slots, self._slots = self._slots, {}
        for slot in slots.values():
            with slot.lock:
                slot.view.close()

    @property
    def ids(self) -> list[str]:
        """The meters' numbers, in the order they were opened."""
        return list(self._slots)

    def _slot(self, drn: str) -> _Slot:
        slot = self._slots.get(drn)
        if slot is None:
            raise NoSuchMeter(f"no meter {drn} here: {', '.join(self._slots) or 'none'}")
        return slot

    # ---- actions ----------------------------------------------------------------------
    def _act(self, drn: str, what: str, call: Callable[[PanelView, datetime], object]) -> Snapshot:
        slot = self._slot(drn)
        with slot.lock:
            now = self.clock() + slot.ahead
            slot.view.fire_timers(now)
            out = call(slot.view, now)
            if isinstance(out, Events):
                beeps = [e.pattern for e in out if isinstance(e, Buzzer)]
                slot.beeps += len(beeps)
                if beeps:  # the last pattern that says something (a key's click does not)
                    slot.buzzer = next((str(p) for p in reversed(beeps) if p != Beep.KEY), None)
            if what:  # an action is logged with what it did (a read is not)
                note = PanelView.describe(out)
                line = f"{now:%Y-%m-%d %H:%M} {what}" + (f": {note}" if note else "")
                slot.log = [*slot.log[-(LOG_LINES - 1) :], line]
            return self._snapshot(drn, slot, now)

    def state(self, drn: str) -> Snapshot:
        """The meter now (its due timers fired: a half-typed token times out)."""
        return self._act(drn, "", lambda view, now: None)

    def press(self, drn: str, keys: object) -> Snapshot:
        """Press keypad keys in order (see :func:`parse_keys`)."""
        names = parse_keys(keys)

        def run(view: PanelView, now: datetime) -> Events:
            out = Events()
            for name in names:
                out.extend(view.press(name, now))
            return out

        return self._act(drn, "keys " + "".join(_shown(n) for n in names), run)

    def flow(self, drn: str, litres: object) -> Snapshot:
        """Draw ``litres`` of gas (registered only while the valve is open)."""
        n = _whole(litres, "litres", 1, MAX_LITRES)
        return self._act(drn, f"draw {n} L", lambda view, now: view.flow(n, now))

    def advance(self, drn: str, hours: object) -> Snapshot:
        """Fast-forward this meter's clock; its timers (month end, valve clean) run."""
        n = _whole(hours, "hours", 1, MAX_HOURS)
        slot = self._slot(drn)
        with slot.lock:
            if (slot.ahead + timedelta(hours=n)).total_seconds() > self._room():
                raise BadInput("bad_hours", f"the meter's calendar ends at {LATEST:%Y-%m-%d}")
            self._save_ahead(drn, slot.ahead + timedelta(hours=n))
            slot.ahead += timedelta(hours=n)
        return self._act(drn, f"+{n} h", lambda view, now: None)

    def set_battery(self, drn: str, volts: object) -> Snapshot:
        """Set the battery voltage (2.5 to 3.7 V, in steps of 0.01 V)."""
        v = _volts(volts)

        def run(view: PanelView, now: datetime) -> Events:
            return view.battery_step(v - view.volts, now)

        return self._act(drn, f"battery {v:.2f} V", run)

    def replace_battery(self, drn: str) -> Snapshot:
        """Fit a new battery (3.6 V)."""
        return self._act(drn, "new battery", lambda view, now: view.swap_battery(now))

    def magnet(self, drn: str, present: object) -> Snapshot:
        """Hold a magnet at the sensor (``True``) or take it away."""
        on = _flag(present, "present")

        def run(view: PanelView, now: datetime) -> Events | None:
            return None if view.magnet == on else view.toggle_magnet(now)

        return self._act(drn, "magnet " + ("on" if on else "off"), run)

    def power(self, drn: str, on: object) -> Snapshot:
        """Restore (``True``) or cut the meter's power."""
        want = _flag(on, "on")

        def run(view: PanelView, now: datetime) -> Events | None:
            return None if view.power == want else view.toggle_power(now)

        return self._act(drn, "power " + ("on" if want else "off"), run)

    def open_key(self, drn: str) -> Snapshot:
        """Press the valve's open key."""
        return self._act(drn, "open key", lambda view, now: view.open_key(now))

    # ---- output -----------------------------------------------------------------------
    def _snapshot(self, drn: str, slot: _Slot, now: datetime) -> Snapshot:
        s = slot.view.state()
        return Snapshot(
            id=drn, pan=slot.pan, mode=slot.view.meter.settings.mode, lcd=s.lcd,
            valve_open=s.valve_open, valve_reason=None if s.valve_reason is None
            else str(s.valve_reason), alarm=s.alarm, alarms=tuple(str(a) for a in s.alarms),
            buzzer=slot.buzzer, beeps=slot.beeps, credit=str(s.credit),
            battery_v=f"{s.battery_v:.2f}", power=s.power, magnet=s.magnet,
            clock=now.isoformat(timespec="seconds"),
            ahead_hours=round(slot.ahead.total_seconds() / 3600, 2), log=tuple(slot.log),
        )  # fmt: skip


def _shown(name: str) -> str:
    return {"enter": "#", "back": "*", "cancel": "C"}.get(name, name)


def _whole(value: object, what: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BadInput(f"bad_{what}", f"{what} is a whole number from {low} to {high}")
    return value


def _volts(value: object) -> float:
    try:
        v = Decimal(str(value))
    except ArithmeticError:
        v = Decimal("NaN")
    if isinstance(value, bool) or not v.is_finite() or not Decimal("2.5") <= v <= Decimal("3.7"):
        raise BadInput("bad_volts", "volts is a number from 2.5 to 3.7")
    return float(v.quantize(Decimal("0.01")))


def _flag(value: object, what: str) -> bool:
    if not isinstance(value, bool):
        raise BadInput(f"bad_{what}", f"{what} is true or false")
    return value
