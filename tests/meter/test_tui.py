"""The terminal meter, driven by Textual's pilot: typed and clicked keys, LCD, LEDs, NVM."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from textual.pilot import Pilot

from stsgas.meter.adapters.tui import MeterApp
from stsgas.meter.adapters.tui_view import PanelView, ViewError
from stsgas.meter.demo import demo_meter_json
from stsgas.sts import MeterConfig, credit_token
from tests.meter.meter_support import StepClock

T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)


def _token(amount: str, minutes: int) -> str:
    cfg = MeterConfig.from_json(demo_meter_json())
    return credit_token(cfg, amount, at=T0 + timedelta(minutes=minutes), rnd=2).digits


@asynccontextmanager
async def _panel(tmp_path: Path) -> AsyncIterator[tuple[PanelView, MeterApp, Pilot[None]]]:
    """The demo meter's panel (NVM in ``tmp_path``) run by Textual's pilot; closed after."""
    view = PanelView.open(demo_meter_json(), nvm_path=tmp_path / "m.nvm", now=T0)
    app = MeterApp(view, clock=StepClock(T0), tick_s=60)
    try:
        async with app.run_test() as pilot:
            yield view, app, pilot
    finally:
        view.close()


def _lcd(app: MeterApp) -> str:
    return str(app.view.state().lcd)


def test_typed_token_changes_the_lcd_credit(tmp_path: Path) -> None:
    """Typing a real token and Enter puts its credit on the LCD; o opens the valve."""

    async def scenario() -> None:
        async with _panel(tmp_path) as (view, app, pilot):
            assert "CR 0" in _lcd(app)
            await pilot.press(*_token("15", 5))
            assert _lcd(app).replace(" ", "").isdigit()  # the typed digits, grouped
            await pilot.press("enter")
            assert "15" in _lcd(app)
            assert view.meter.credit == 15
            assert not view.state().valve_open
            await pilot.press("o")
            assert view.state().valve_open
            await pilot.press("f")  # 0.1 m³ of gas
            assert view.meter.credit == Decimal("14.9")

    asyncio.run(scenario())


def test_clicked_query_code_is_answered(tmp_path: Path) -> None:
    """Clicking 0, 1, # on the keypad asks query 01 and the LCD shows the answer."""

    async def scenario() -> None:
        async with _panel(tmp_path) as (_view, app, pilot):
            before = _lcd(app)
            for button in ("#key-0", "#key-1", "#key-enter"):
                await pilot.click(button)
            assert _lcd(app) != before
            assert any("query 01" in line for line in app.lines)

    asyncio.run(scenario())


def test_backspace_cancel_and_a_bad_token(tmp_path: Path) -> None:
    """Backspace removes a digit, Escape cancels; a wrong token is refused with its code."""

    async def scenario() -> None:
        async with _panel(tmp_path) as (view, app, pilot):
            await pilot.press("1", "2", "3", "backspace")
            assert _lcd(app).replace(" ", "") == "12"
            await pilot.press("escape")
            assert "CR" in _lcd(app)
            await pilot.press(*"12345678901234567890", "enter")
            assert any("token rejected" in line for line in app.lines)
            assert view.meter.credit == 0

    asyncio.run(scenario())


def test_world_keys_magnet_power_battery(tmp_path: Path) -> None:
    """m locks the valve for tamper, p cuts power, b lowers the battery; the panel shows it."""

    async def scenario() -> None:
        async with _panel(tmp_path) as (view, _app, pilot):
            await pilot.press(*_token("20", 6), "enter", "o")
            assert view.state().valve_open
            await pilot.press("m")
            state = view.state()
            assert not state.valve_open
            assert state.valve_reason == "tamper"
            assert state.alarm
            await pilot.press("p")
            assert not view.state().power
            await pilot.press("p", "b", "b", "b")
            assert view.state().battery_v == pytest.approx(3.3)
            assert "battery_low_1" in view.state().alarms

    asyncio.run(scenario())


def test_state_persists_in_the_nvm_file(tmp_path: Path) -> None:
    """Credit loaded in one session is there when the meter is started again."""

    async def scenario() -> None:
        path = tmp_path / "m.nvm"
        view = PanelView.open(demo_meter_json(), nvm_path=path, now=T0)
        clock = StepClock(T0)
        async with MeterApp(view, clock=clock, tick_s=60).run_test() as pilot:
            await pilot.press(*_token("9", 7), "enter")
        view.close()
        again = PanelView.open(demo_meter_json(), nvm_path=path, now=clock.now + timedelta(hours=1))
        assert again.meter.credit == 9
        again.close()

    asyncio.run(scenario())


def test_tampered_nvm_file_is_refused(tmp_path: Path) -> None:
    """A flipped byte in the NVM file stops the meter from opening, with a message."""
    path = tmp_path / "m.nvm"
    PanelView.open(demo_meter_json(), nvm_path=path, now=T0).close()
    data = bytearray(path.read_bytes())
    for i in range(len(data)):
        if data[i] != 0xFF:
            data[i] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ViewError):
        PanelView.open(demo_meter_json(), nvm_path=path, now=T0)


def test_lcd_follows_the_credit_as_gas_is_used(tmp_path: Path) -> None:
    """After f (0.1 m³) the LCD shows the credit that is left, not the credit the
    token brought; a new battery (r) is logged as a replacement."""

    async def scenario() -> None:
        async with _panel(tmp_path) as (view, app, pilot):
            await pilot.press(*_token("15", 8), "enter", "o", "f")
            assert _lcd(app) == "CR 14.9 m3"
            await pilot.press("r")
            assert view.meter.events()[-1][0] == "battery_replacement"
            assert not view.state().valve_open
            assert "new battery" in "\n".join(app.lines)

    asyncio.run(scenario())


def test_a_wall_clock_stepped_back_does_not_stop_the_panel(tmp_path: Path) -> None:
    """The panel's clock going back an hour (NTP, a manual change) is held at the
    meter's time: keys still work and nothing raises."""
    view = PanelView.open(demo_meter_json(), nvm_path=tmp_path / "m.nvm", now=T0)
    view.press("0", T0 + timedelta(hours=2))
    back = T0 + timedelta(hours=1)
    view.fire_timers(back)
    view.press("1", back)
    assert view.meter.lcd == "01"
    assert view.meter.now == T0 + timedelta(hours=2)
    view.close()
