"""``stsgas meter start``: the terminal meter (Textual), its state kept in an NVM file.

Thin: parses arguments, opens the NVM file and the meter through
``stsgas.meter.tui_view``, optionally serves its IR window on a pty, and runs
the Textual app.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

DEFAULT_NVM = Path("var") / "meter.nvm"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="stsgas meter start",
        description="Open a virtual meter in the terminal: LCD, keypad, LEDs, valve.",
    )
    p.add_argument(
        "--nvm",
        type=Path,
        default=DEFAULT_NVM,
        help=f"the meter's encrypted NVM file (default {DEFAULT_NVM})",
    )
    p.add_argument(
        "--config",
        type=Path,
        help="JSON file with a scenario 'meter' object (default: the demo meter)",
    )
    p.add_argument(
        "--ir-pty",
        action="store_true",
        help="also serve the IR window on a pseudo-terminal and print its path",
    )
    p.add_argument(
        "--headless",
        action="store_true",
        help="no terminal panel: only serve the IR window (with --ir-pty) until ^C or SIGTERM",
    )
    return p


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _stop_on_sigterm() -> None:
    """Make SIGTERM (systemd, ``kill``) unwind like ^C, so the NVM file is closed cleanly.

    Set explicitly, so it also holds when the meter was started with SIGTERM ignored.
    """
    signal.signal(signal.SIGTERM, _interrupt)


def main(argv: list[str]) -> int:
    """Run the terminal meter; 2 on a bad config or an untrusted NVM file."""
    args = _parser().parse_args(argv)
    if args.headless and not args.ir_pty:
        print("stsgas meter start: --headless needs --ir-pty", file=sys.stderr)
        return 2
    try:
        from stsgas.meter.adapters.tui import MeterApp, wall_clock
        from stsgas.meter.adapters.tui_view import PanelView, ViewError
        from stsgas.meter.demo import demo_meter_json
    except ImportError as exc:  # pragma: no cover - textual is a base dependency
        print(f"stsgas meter start needs textual ({exc}); pip install textual", file=sys.stderr)
        return 2
    meter_json = demo_meter_json()
    if args.config is not None:
        try:
            doc = json.loads(args.config.read_text(encoding="utf-8"))
            found = doc.get("meter", doc) if isinstance(doc, dict) else None
            if not isinstance(found, dict):
                raise ValueError("expected a JSON object with a 'meter' object")
            meter_json = found
        except (OSError, ValueError) as exc:
            print(f"stsgas meter start: {args.config}: {exc}", file=sys.stderr)
            return 2
    try:
        view = PanelView.open(meter_json, nvm_path=args.nvm, now=wall_clock())
    except ViewError as exc:
        print(f"stsgas meter start: {exc}", file=sys.stderr)
        return 2
    lock = threading.Lock()
    subtitle = f"NVM {args.nvm}"
    server = pty = None
    if args.ir_pty:
        from stsgas.irlink import open_pty_pair
        from stsgas.irlink.client import split_frame
        from stsgas.irlink.server import MeterIrServer

        pty = open_pty_pair()
        server = MeterIrServer(
            view.meter, pty.master_link(split=split_frame), lock=lock, tick=args.headless
        )
        if args.headless:
            _stop_on_sigterm()  # before the port is printed: whoever reads it can stop us
        print(f"IR port: {pty.path}", flush=True)
        subtitle += f" · IR {pty.path}"
    try:
        if args.headless and server is not None:
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
    return 0
