"""The readout carries the field settings a signed IR command changed, the gas-safety
settings, and the ``setting_changed`` and shut-off events with their details."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from stsgas.irproto import encode_frame, signed
from stsgas.meter.readout import take_readout
from stsgas.meter.readout_session import OpticalPort

from .readout_support import T0, key_of, login, make, read, readout_json

H = timedelta(hours=1)
SAFE: dict[str, Any] = {
    "excess_flow_m3h": "2.5",
    "excess_flow_s": 30,
    "leak_flow_m3h": "0.005",
    "leak_s": 3600,
}


def _block(answer: bytes) -> str:
    """The data set between STX and ETX of an answer message."""
    return answer[1 : answer.index(b"\x03")].decode().strip()


def test_gas_safety_settings_read_back_over_the_port() -> None:
    """A commissioned excess-flow rule reads as 7-0:128.1.9/10 after a login."""
    port = OpticalPort(make(**SAFE), switch_over=0)
    now = T0 + H
    assert login(port, key_of(readout_json(**SAFE)), now) == b"\x06"
    assert _block(read(port, "7-0:128.1.9", now)) == "7-0:128.1.9(2.500*m3h)"
    assert _block(read(port, "7-0:128.1.10", now)) == "7-0:128.1.10(30*s)"
    assert _block(read(port, "7-0:128.1.12", now)) == "7-0:128.1.12(3600*s)"


def test_an_ir_settings_change_shows_in_the_readout_and_its_log() -> None:
    """After ``settings`` by IR, the readout holds the new values and one
    setting_changed entry per change with old->new."""
    m = make(**SAFE)
    at = T0 + H
    frame = signed(m.key.value, "settings", 1, "billing_day=5,excess_flow_s=45")
    # the answer counts the settings taken
    assert m.receive_ir(encode_frame(frame), at).reply == encode_frame("ok settings 2")
    r = take_readout(m, at + H)
    settings = dict(r.settings)
    assert settings["billing_day"] == 5
    assert settings["excess_flow_s"] == 45
    changed = [detail for _, code, detail in r.events if code == "setting_changed"]
    assert changed == ["billing_day 1->5", "excess_flow_s 30->45"]
