"""Optical readout of a full meter: bytes on the wire and the time that takes at 9,600 Bd.

Run: ``.venv/bin/python -m benchmarks readout``. Figures go to docs/irpad.md by hand.

The full meter: ten years of gas (120 finished months), gas in every hour of the
last 90 days (2,160 hourly records) and a full event log (200 entries). The
readout is the IR pad's: the public data readout, then programming mode (login,
every setting, ``P.02``, ``P.01``, ``P.98``, break).

* computed: every message both ways, counted in the sans-IO session; the sign-on,
  identification and option select go at 300 Bd (62056-21 mode C), the rest at
  9,600 Bd; 10 bits a character (7E1: start bit, 7 data bits, even parity, stop
  bit). The meter's 1.2 s switch-over pause before each
  session's first answer is added separately.
* measured: the same readout by :class:`stsgas.irlink.readout.OpticalReader`
  over a real pty (which has no baud rate: this is the software's own time) and
  the bytes the reader counted, which must equal the computed ones.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from stsgas.irlink import SerialIrLink, open_pty_pair
from stsgas.irlink.readout import OpticalReader, split_from_meter, split_to_meter
from stsgas.irlink.server import MeterIrServer
from stsgas.meter import MemoryStateStore, Meter
from stsgas.meter.demo import demo_meter_json
from stsgas.meter.readout import OBJECTS
from stsgas.meter.readout_codec import ACK, SIGN_ON, command_message, parse_command
from stsgas.meter.readout_session import SWITCH_OVER_S, OpticalPort, SwitchOver, password_for
from stsgas.sts import MeterConfig

T0 = datetime(2016, 1, 1, tzinfo=UTC)
DOC = {
    **demo_meter_json(), "initial_credit": "90000", "recharge_limit": "100000",
    "hourly_record_days": 90, "timezone": "Africa/Nairobi",
}  # fmt: skip


def full_meter() -> tuple[Meter, datetime]:
    """120 months, 90 days of hourly records in every hour, a full event log."""
    m = Meter.from_json(DOC, store=MemoryStateStore(), now=T0)
    m.open_key(T0)
    end = datetime(2026, 1, 1, 12, tzinfo=UTC)
    hourly_from = end - timedelta(days=91)
    at = T0
    while at < end:
        m.flow(150 + at.day * 7, at + timedelta(minutes=5))
        at += timedelta(hours=1) if at >= hourly_from else timedelta(hours=6)
    for _ in range(100):  # battery low / replacement pairs fill the 200-entry log
        at += timedelta(minutes=10)
        m.set_battery(3.35, at)
        at += timedelta(minutes=10)
        m.set_battery(3.6, at)
    return m, at + timedelta(minutes=1)


def _reply(result: object) -> bytes:
    if isinstance(result, SwitchOver):
        return result.reply
    assert isinstance(result, bytes), result
    return result


def computed(m: Meter, now: datetime) -> dict[str, tuple[int, int]]:
    """Bytes (to meter, from meter) of each step of the IR pad's readout, sans-IO.

    The step ``sign-on (300 Bd)`` holds both sessions' sign-on, identification and
    option select; every other step goes at 9,600 Bd.
    """
    port = OpticalPort(m, switch_over=0)
    key = MeterConfig.from_json(DOC).key().value
    steps: dict[str, tuple[int, int]] = {}

    def ask(name: str, data: bytes) -> bytes:
        reply = port.receive_ir(data, now)
        got = b"" if reply is None else _reply(reply)
        sent, received = steps.get(name, (0, 0))
        steps[name] = (sent + len(data), received + len(got))
        return got

    def sign_on(mode: bytes) -> bytes:
        ask("sign-on (300 Bd)", SIGN_ON)
        sent, received = steps["sign-on (300 Bd)"]
        option = ACK + b"05" + mode + b"\r\n"
        steps["sign-on (300 Bd)"] = (sent + len(option), received)
        return _reply(port.receive_ir(option, now))

    public = sign_on(b"0")
    steps["public data readout"] = (0, len(public))
    request = sign_on(b"1")
    seed = (parse_command(request)[2] or "").strip("()")
    steps["login P0/P1"] = (0, len(request))
    ask("login P0/P1", command_message("P", "1", f"({password_for(key, m.key.pan, seed)})"))
    for obj in OBJECTS:
        if obj.kind == "setting":
            ask("settings (R1 each)", command_message("R", "1", f"{obj.obis}()"))
    for address, name in (
        ("P.02", "monthly P.02"),
        ("P.01", "hourly P.01"),
        ("P.98", "events P.98"),
    ):
        ask(name, command_message("R", "1", f"{address}()"))
    ask("break B0", command_message("B", "0"))
    return steps


def measured(m: Meter, now: datetime) -> tuple[float, int, int]:
    """(seconds, slow bytes, fast bytes) of OpticalReader.read_all over a real pty."""
    clock_now = [now]

    def clock() -> datetime:
        clock_now[0] += timedelta(milliseconds=10)
        return clock_now[0]

    pty = open_pty_pair()
    server = MeterIrServer(
        OpticalPort(m), pty.master_link(split=split_to_meter), clock=clock, poll=0.05
    ).start()
    try:
        with SerialIrLink(pty.path, split=split_from_meter) as link:
            reader = OpticalReader(link, timeout=10)
            started = time.perf_counter()
            reader.read_all(MeterConfig.from_json(DOC).key().value)
            took = time.perf_counter() - started
    finally:
        server.stop()
        pty.close()
    return took, reader.wire.slow, reader.wire.fast


def main(argv: list[str]) -> int:
    """Print the readout's bytes and seconds."""
    m, now = full_meter()
    print(
        f"full meter: {len(m.monthly)} months, {len(m.trend.pairs())} hourly records, "
        f"{len(m.event_log.entries)} events"
    )
    steps = computed(m, now)
    slow = sum(steps["sign-on (300 Bd)"])
    fast = sum(a + b for name, (a, b) in steps.items() if not name.startswith("sign-on"))
    for name, (sent, got) in steps.items():
        print(f"  {name:<22} {sent:>7} B to meter {got:>8} B from meter")
    wire = slow * 10 / 300 + fast * 10 / 9600
    print(f"computed: {slow} B at 300 Bd + {fast} B at 9600 Bd = {wire:.1f} s on the wire")
    print(
        f"          + 2 switch-over pauses of {SWITCH_OVER_S} s = {wire + 2 * SWITCH_OVER_S:.1f} s"
    )
    took, m_slow, m_fast = measured(m, now)
    print(
        f"measured over a pty: {took:.2f} s wall (2 x {SWITCH_OVER_S} s pauses included; "
        f"no baud limit on a pty), reader counted {m_slow} B slow + {m_fast} B fast"
    )
    return 0


if __name__ == "__main__":
    import sys

    raise SystemExit(main(sys.argv[1:]))
