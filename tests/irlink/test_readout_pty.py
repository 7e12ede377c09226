"""A ten-year meter read out over a real pty by an existing IEC 62056-21 client library.

The reading side is pwitab's ``iec62056_21`` (its serial transport, sign-on,
option select, password and read commands, and its message parser); the test
turns the library's data sets into records on its own, so nothing of our
decoder stands between the meter and the comparison.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from iec62056_21 import messages
from iec62056_21.client import Iec6205621Client

from stsgas.irlink import SerialIrLink
from stsgas.irlink.readout import OpticalReader, ReadoutRefused, split_from_meter
from stsgas.meter.readout import take_readout
from stsgas.meter.readout_session import password_for
from tests.irlink.optical_meter import ServedPort, serve_optical
from tests.meter.readout_support import TenYears, key_of, ten_years


@pytest.fixture
def ten() -> Iterator[tuple[TenYears, ServedPort]]:
    """The ten-year meter served on a pty."""
    t = ten_years()
    with serve_optical(t.meter, t.now) as served:
        yield t, served


def _client(path: str) -> Any:
    client = Iec6205621Client.with_serial_transport(port=path)
    client.transport.timeout = 10
    client.connect()
    return client


def _read(client: Any, address: str) -> Any:
    """The library's read command for a whole object (its single-value read refuses lists)."""
    client.transport.send(messages.CommandMessage.for_single_read(address, "").to_bytes())
    return client.read_response()


def _send_password(client: Any, password: str) -> None:
    """P1 with the library's own messages: its ``send_password`` (0.0.2) builds a DataSet
    without the address argument and raises TypeError before sending anything."""
    data_set = messages.DataSet(address=None, value=password)
    message = messages.CommandMessage(command="P", command_type=1, data_set=data_set)
    client.transport.send(message.to_bytes())


def _runs(answer: Any, name: str) -> list[tuple[str, list[list[str]]]]:
    """(header start, [value sets of each line]) from the library's parsed data lines."""
    runs: list[tuple[str, list[list[str]]]] = []
    for line in answer.data_block.data_lines:
        sets = line.data_sets
        if sets and sets[0].address == name:
            runs.append((sets[0].value, []))
        elif sets:
            runs[-1][1].append([s.value for s in sets])
    return runs


def test_library_reads_all_120_months_hours_and_events(ten: tuple[TenYears, ServedPort]) -> None:
    """Data readout without a password, then programming mode with the P0/P1 login: the
    library gets the meter number and registers, all 120 months exactly, every hourly
    record and every event with its second."""
    t, served = ten
    m = t.meter
    client = _client(served.path)
    try:
        public = {d.address: (d.value, d.unit) for d in client.standard_readout().data}
        assert public["0-0:96.1.0"] == (m.key.pan, None)
        assert public["7-0:3.0.0"] == (f"{Decimal(m.balance.total) / 1000:.3f}", "m3")
        assert client.manufacturer_id == "SGs"
        assert client.switchover_baudrate == 9600
    finally:
        client.disconnect()
    # a new client for the second session, as a reading tool reconnects: the library's
    # second sign-on on one client reopens a pty already at 9600 7E1, which pyserial's
    # reconfigure refuses there (EINVAL); a real IR head at 300 Bd first has no such issue
    client = _client(served.path)
    try:
        request = client.access_programming_mode()
        assert (request.command, request.command_type) == ("P", 0)
        _send_password(client, password_for(key_of(t.doc), m.key.pan, request.data_set.value))
        assert client.transport.recv(1) == b"\x06"

        months = []
        for start, lines in _runs(_read(client, "P.02"), "P.02"):
            pos = (2000 + int(start[:2])) * 12 + int(start[2:]) - 1
            for i, (value,) in enumerate(lines):
                p = pos + i
                months.append((f"{p // 12}-{p % 12 + 1:02d}", int(Decimal(value) * 1000)))
        assert len(months) == 120
        assert months == [(r.label, r.litres) for r in m.monthly]

        hours = []
        for start, lines in _runs(_read(client, "P.01"), "P.01"):
            first = datetime.strptime("20" + start, "%Y%m%d%H%M").replace(tzinfo=UTC)
            hour = int(first.timestamp()) // 3600
            hours += [(hour + i, int(Decimal(v) * 1000)) for i, (v,) in enumerate(lines)]
        assert hours == m.trend.pairs()

        events = []
        for _, lines in _runs(_read(client, "P.98"), "P.98"):
            for stamp, code, detail in lines:
                at = datetime.strptime("20" + stamp, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
                events.append((code, int(at.timestamp())))
                assert detail == ""
        assert events == [(e.kind.value, e.at) for e in m.event_log.entries]
        assert events[-1][0] == "magnetic_interference"

        assert client.read_single_value("7-0:128.1.7").value == "Africa%2FNairobi"
        assert client.read_single_value("7-0:128.1.8").value == "1"
        client.send_break()
    finally:
        client.disconnect()


def test_library_with_a_wrong_key_is_refused_and_logged(ten: tuple[TenYears, ServedPort]) -> None:
    """The library's password under another key gets NAK; the meter logs the refusal
    and its counter does not move."""
    t, served = ten
    client = _client(served.path)
    try:
        request = client.access_programming_mode()
        _send_password(client, password_for(bytes(8), t.meter.key.pan, request.data_set.value))
        assert client.transport.recv(1) == b"\x15"
    finally:
        client.disconnect()
    time.sleep(0.1)
    assert t.meter.event_log.entries[-1].kind == "readout_refused"
    assert t.meter.lockout.ir_seq == 0


def test_our_reader_gets_the_whole_readout_and_counts_the_wire(
    ten: tuple[TenYears, ServedPort],
) -> None:
    """The IR pad's reader over pyserial gets exactly what the meter holds; the bytes it
    counted match the messages' sizes, and a wrong key raises ReadoutRefused."""
    t, served = ten
    with SerialIrLink(served.path, split=split_from_meter) as link:
        reader = OpticalReader(link)
        started = time.monotonic()
        got = reader.read_all(key_of(t.doc))
        took = time.monotonic() - started
    want = take_readout(t.meter, served.clock.now)
    assert got.monthly == want.monthly
    assert got.hourly == want.hourly
    assert got.events == want.events
    assert got.registers == want.registers
    assert got.settings == want.settings
    assert (got.meter_number, got.mode) == (want.meter_number, want.mode)
    assert reader.wire.fast > 120 * len("(0.000)\r\n")
    assert took < 60  # the pty has no baud rate: this is the software's own time
    with SerialIrLink(served.path, split=split_from_meter) as link, pytest.raises(ReadoutRefused):
        OpticalReader(link).read_all(bytes(8))
