"""The terminal meter: a Textual front panel over the sans-IO meter core.

This is an adapter, like the IR server: it reads the wall clock (through an
injectable ``clock``), turns key presses and clicks into meter events with a
timestamp, fires the meter's timers, and draws what the meter shows: the
LCD text, the alarm and valve LEDs, the buzzer, the valve state and reason.
Keys on the right simulate the world around the meter: gas flow, battery
voltage, a magnet, power, and the open key.

State lives in the meter's store (an encrypted NVM file for ``stsgas meter
start``), so quitting and starting again resumes the same meter.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical
from textual.widgets import Button, Footer, Static

from stsgas.meter.adapters.tui_view import PanelState, PanelView

__all__ = ["KEYPAD", "MeterApp", "wall_clock"]

#: keypad buttons: (label, meter key)
KEYPAD: tuple[tuple[str, str], ...] = (
    ("1", "1"), ("2", "2"), ("3", "3"),
    ("4", "4"), ("5", "5"), ("6", "6"),
    ("7", "7"), ("8", "8"), ("9", "9"),
    ("⌫", "back"), ("0", "0"), ("#", "enter"),
    ("C", "cancel"),
)  # fmt: skip
_BUTTON_IDS = {"back": "key-back", "enter": "key-enter", "cancel": "key-cancel"}


def wall_clock() -> datetime:
    """The wall clock in UTC (tests inject a virtual one)."""
    return datetime.now(UTC)


class MeterApp(App[None]):
    """The meter's front panel. ``view`` adapts the meter; ``clock`` gives the time."""

    TITLE = "stsgas meter"
    CSS = """
    Screen { layout: horizontal; }
    #panel { width: 44; padding: 0 1; }
    #lcd { border: heavy $accent; height: 5; content-align: center middle;
           text-style: bold; background: #203020; color: #c0ffc0; }
    #leds { height: 1; margin: 1 0; }
    #status { height: 4; }
    #keypad { grid-size: 3; grid-gutter: 0 1; height: 20; }
    #keypad Button { width: 100%; min-width: 6; }
    #side { padding: 0 2; }
    #log { height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        *(Binding(str(d), f"key('{d}')", show=False) for d in range(10)),
        Binding("backspace", "key('back')", "⌫", show=False),
        Binding("enter", "key('enter')", "enter", show=False),
        Binding("number_sign", "key('enter')", "#", show=False),
        Binding("escape", "key('cancel')", "cancel", show=False),
        Binding("f", "flow(100)", "flow 0.1 m³"),
        Binding("F", "flow(1000)", "flow 1 m³", key_display="F"),
        Binding("b", "battery(-0.1)", "battery −0.1 V"),
        Binding("B", "battery(0.1)", "battery +0.1 V", key_display="B"),
        Binding("r", "swap_battery", "new battery"),
        Binding("m", "magnet", "magnet"),
        Binding("p", "power", "power"),
        Binding("o", "open_key", "open key"),
        Binding("q", "quit", "quit"),
    ]

    def __init__(
        self,
        view: PanelView,
        *,
        clock: Callable[[], datetime] = wall_clock,
        lock: threading.Lock | None = None,
        tick_s: float = 0.5,
        subtitle: str = "",
    ) -> None:
        super().__init__()
        self.view = view
        self.clock = clock
        self.lock = lock or threading.Lock()
        self.tick_s = tick_s
        self.sub_title = subtitle
        self.lines: list[str] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="panel"):
            yield Static("", id="lcd")
            yield Static("", id="leds")
            with Grid(id="keypad"):
                for label, key in KEYPAD:
                    button = Button(label, id=_BUTTON_IDS.get(key, f"key-{key}"))
                    button.can_focus = False  # typed keys go to the app's bindings
                    yield button
        with Vertical(id="side"):
            yield Static("", id="status")
            with Horizontal():
                yield Static("", id="log")
        yield Footer()

    def on_mount(self) -> None:
        self.set_interval(self.tick_s, self.tick)
        self.refresh_panel()

    # ---- input -> meter events ------------------------------------------------------
    def on_button_pressed(self, event: Button.Pressed) -> None:
        button_id = event.button.id or ""
        self.action_key(button_id.removeprefix("key-"))

    def _act(self, what: str, call: Callable[[datetime], object]) -> None:
        with self.lock:
            now = self.clock()
            self.view.fire_timers(now)
            result = call(now)
        note = self.view.describe(result)
        if note:
            self._note(f"{now:%H:%M:%S} {what}: {note}")
        self.refresh_panel()

    def action_key(self, key: str) -> None:
        """A keypad key: a digit, ``back``, ``enter`` or ``cancel``."""
        self._act(f"key {key}", lambda now: self.view.press(key, now))

    def action_flow(self, litres: int) -> None:
        """Gas flows through the meter (registered only while the valve is open)."""
        self._act(f"flow {litres} L", lambda now: self.view.flow(litres, now))

    def action_battery(self, delta: float) -> None:
        """Move the battery voltage by ``delta`` volts."""
        self._act("battery", lambda now: self.view.battery_step(delta, now))

    def action_swap_battery(self) -> None:
        """Take the battery out and fit a new one."""
        self._act("new battery", self.view.swap_battery)

    def action_magnet(self) -> None:
        """Put a magnet on the meter, or take it away."""
        self._act("magnet", self.view.toggle_magnet)

    def action_power(self) -> None:
        """Cut the power, or restore it."""
        self._act("power", self.view.toggle_power)

    def action_open_key(self) -> None:
        """Press the valve's open key."""
        self._act("open key", self.view.open_key)

    def tick(self) -> None:
        """Fire the meter's due timers (digit timeout, month rollover, auto-clean)."""
        with self.lock:
            fired = self.view.fire_timers(self.clock())
        if fired:
            self.refresh_panel()

    # ---- meter -> screen ------------------------------------------------------------
    def _note(self, line: str) -> None:
        self.lines = [*self.lines[-30:], line]

    def refresh_panel(self) -> None:
        """Redraw the LCD, LEDs and status from the meter's state."""
        with self.lock:
            state: PanelState = self.view.state()
        self.query_one("#lcd", Static).update(state.lcd)
        alarm = "[b red]● ALARM[/]" if state.alarm else "[dim]○ alarm[/]"
        valve = "[b green]● VALVE[/]" if state.valve_open else "[dim]○ valve[/]"
        buzzer = "[b yellow]♪ BEEP[/]" if state.buzzer else ""
        self.query_one("#leds", Static).update(f"{alarm}  {valve}  {buzzer}")
        reason = f" ({state.valve_reason})" if state.valve_reason else ""
        self.query_one("#status", Static).update(
            f"valve: {'open' if state.valve_open else 'closed'}{reason}\n"
            f"credit: {state.credit}\n"
            f"battery: {state.battery_v:.2f} V  power: {'on' if state.power else 'off'}"
            f"  magnet: {'on' if state.magnet else 'off'}\n"
            f"alarms: {', '.join(state.alarms) or 'none'}"
        )
        self.query_one("#log", Static).update("\n".join(self.lines[-15:]))
