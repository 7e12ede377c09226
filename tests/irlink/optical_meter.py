"""A meter's optical port (both protocols) served on a real pty, on a stepping clock."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from stsgas.irlink import PtyPair, open_pty_pair
from stsgas.irlink.readout import split_to_meter
from stsgas.irlink.server import MeterIrServer
from stsgas.meter import Meter
from stsgas.meter.readout_session import OpticalPort
from tests.meter.meter_support import StepClock


@dataclass
class ServedPort:
    """The meter, its optical port and the pty path a reader opens."""

    meter: Meter
    port: OpticalPort
    path: str
    pty: PtyPair
    clock: StepClock


@contextmanager
def serve_optical(meter: Meter, now: datetime) -> Iterator[ServedPort]:
    """``meter`` behind the master end of a pty; its clock steps a second a message."""
    port = OpticalPort(meter)
    pty = open_pty_pair()
    clock = StepClock(now)
    server = MeterIrServer(
        port, pty.master_link(split=split_to_meter), clock=clock, poll=0.05
    ).start()
    try:
        yield ServedPort(meter=meter, port=port, path=pty.path, pty=pty, clock=clock)
    finally:
        server.stop()
        pty.close()
