"""``stsgas meter start``: the terminal meter (Textual), its state kept in an NVM file.

Thin: takes the options, opens the NVM file and the meter through
``stsgas.meter.tui_view``, optionally serves its IR window on a pty (today's STX
frames and the IEC 62056-21 readout side by side, ``stsgas.meter.readout_session``),
and runs the Textual app.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from stsgas.cli._errors import fail, read_meter_json

DEFAULT_NVM = Path("var") / "meter.nvm"


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _stop_on_sigterm() -> None:
    """Make SIGTERM (systemd, ``kill``) unwind like ^C, so the NVM file is closed cleanly.

    Set explicitly, so it also holds when the meter was started with SIGTERM ignored.
    """
    signal.signal(signal.SIGTERM, _interrupt)


def start(
    nvm: Annotated[
        Path, typer.Option("--nvm", help="The meter's encrypted NVM file.")
    ] = DEFAULT_NVM,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="JSON file with a scenario 'meter' object (default: the demo meter).",
            show_default=False,
        ),
    ] = None,
    ir_pty: Annotated[
        bool,
        typer.Option(
            "--ir-pty", help="Also serve the IR window on a pseudo-terminal and print its path."
        ),
    ] = False,
    headless: Annotated[
        bool,
        typer.Option(
            "--headless",
            help="No terminal panel: only serve the IR window (with --ir-pty) until ^C or SIGTERM.",
        ),
    ] = False,
) -> None:
    if headless and not ir_pty:
        fail("--headless needs --ir-pty")
    from stsgas.meter.adapters.tui import MeterApp, wall_clock
    from stsgas.meter.adapters.tui_view import PanelView, ViewError
    from stsgas.meter.demo import demo_meter_json

    meter_json = demo_meter_json()
    if config is not None:
        meter_json = read_meter_json(config)
    try:
        view = PanelView.open(meter_json, nvm_path=nvm, now=wall_clock())
    except ViewError as exc:
        fail(str(exc))
    lock = threading.Lock()
    subtitle = f"NVM {nvm}"
    server = pty = None
    if ir_pty:
        from stsgas.irlink import open_pty_pair
        from stsgas.irlink.readout import split_to_meter
        from stsgas.irlink.server import MeterIrServer
        from stsgas.meter.readout_session import OpticalPort

        pty = open_pty_pair()
        server = MeterIrServer(
            OpticalPort(view.meter), pty.master_link(split=split_to_meter), lock=lock, tick=headless
        )
        if headless:
            _stop_on_sigterm()  # before the port is printed: whoever reads it can stop us
        print(f"IR port: {pty.path}", flush=True)
        subtitle += f" · IR {pty.path}"
    try:
        if headless and server is not None:
            with contextlib.suppress(KeyboardInterrupt):
                server.serve_forever()
        else:
            if server is not None:
                server.start()
            MeterApp(view, lock=lock, subtitle=subtitle).run()
    finally:
        if server is not None:
            server.stop()
        if pty is not None:
            pty.close()
        view.close()
