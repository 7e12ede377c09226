"""A virtual meter served on a real pty pair, on a virtual clock."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from stsgas.irlink import PtyPair, open_pty_pair
from stsgas.irlink.client import split_frame
from stsgas.irlink.server import MeterIrServer
from stsgas.meter import MemoryStateStore
from stsgas.meter.demo import demo_meter_json
from stsgas.meter.meter import Meter
from stsgas.sts import MeterConfig
from tests.meter.meter_support import StepClock

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


@dataclass
class Served:
    """The meter, its config and the pty path an IR pad opens."""

    meter: Meter
    config: MeterConfig
    path: str
    pty: PtyPair
    server: MeterIrServer


@contextmanager
def serve_demo_meter() -> Iterator[Served]:
    """The demo meter behind the master end of a pty, served on a thread."""
    doc = demo_meter_json()
    meter = Meter.from_json(doc, store=MemoryStateStore(), now=T0)
    pty = open_pty_pair()
    server = MeterIrServer(
        meter, pty.master_link(split=split_frame), clock=StepClock(T0), poll=0.05
    ).start()
    try:
        yield Served(
            meter=meter, config=MeterConfig.from_json(doc), path=pty.path, pty=pty, server=server
        )
    finally:
        server.stop()
        pty.close()
