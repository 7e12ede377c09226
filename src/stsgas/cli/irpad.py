"""``stsgas irpad``: talk to a meter's IR port (a serial device or a pty path).

Thin: parses the command, builds the frame with :class:`stsgas.irlink.IrPad`,
prints the meter's reply. Exit status: 0 for an ``ok`` reply, 1 for an
``err`` reply, 3 when the meter does not answer, 2 for bad usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import serial

from stsgas.irlink import SerialIrLink
from stsgas.irlink.client import IrPad, IrPadError, IrTimeout, split_frame
from stsgas.sts import MeterConfig, StsError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="stsgas irpad", description="Talk to a meter's IR port.")
    p.add_argument("--port", required=True, help="serial device or pty path (see meter start)")
    p.add_argument("--baud", type=int, default=9600)
    p.add_argument("--timeout", type=float, default=2.0, help="seconds to wait for the reply")
    auth = p.add_mutually_exclusive_group()
    auth.add_argument("--key", help="the meter's decoder key in hex (authenticated commands)")
    auth.add_argument("--config", type=Path, help="JSON with the meter object (key derived)")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("token", help="enter a 20-digit token").add_argument(
        "digits", nargs="+", help="as printed: 20 digits, in groups with spaces or dashes"
    )
    sub.add_parser("query", help="ask a 2-digit query code").add_argument("code")
    clock = sub.add_parser("set-clock", help="set the meter's clock (authenticated)")
    clock.add_argument("time", nargs="?", default="now", help="ISO UTC time, or 'now'")
    sub.add_parser("clear-tamper", help="clear the tamper lock (authenticated)")
    tariff = sub.add_parser("load-tariff", help="load a step tariff (authenticated)")
    tariff.add_argument(
        "steps", help="up-to-m3:price pairs, last top '-': 10:2.50,-:3.10 (one step: -- -:3.10)"
    )
    tariff.add_argument("--at", default="now", help="ISO UTC activation time, or 'now'")
    sub.add_parser("raw", help="send a payload as given, framed").add_argument("payload")
    return p


def _key(args: argparse.Namespace) -> bytes:
    if args.key:
        return bytes.fromhex(args.key)
    if args.config:
        doc = json.loads(args.config.read_text(encoding="utf-8"))
        return MeterConfig.from_json(doc.get("meter", doc)).key().value
    raise ValueError("this command is authenticated: give --key HEX or --config meter.json")


def token_digits(words: list[str]) -> str:
    """A token as ``stsgas token credit`` prints it (groups split by spaces or dashes),
    one word or several, as the 20 digits the meter takes."""
    return "".join("".join(words).replace("-", "").split())


def _run(pad: IrPad, args: argparse.Namespace) -> str:
    cmd = args.command
    if cmd == "token":
        return pad.token(token_digits(args.digits))
    if cmd == "query":
        return pad.query(args.code)
    if cmd == "raw":
        return pad.request(args.payload)
    key = _key(args)
    if cmd == "clear-tamper":
        return pad.clear_tamper(key)
    if cmd == "load-tariff":
        return pad.load_tariff(args.steps, _time(args.at), key)
    return pad.set_clock(_time(args.time), key)


def _time(text: str) -> datetime:
    at = datetime.now(UTC) if text == "now" else datetime.fromisoformat(text.replace("Z", "+00:00"))
    if at.tzinfo is None:
        raise ValueError("the time needs a zone (end it with Z for UTC)")
    return at


def main(argv: list[str]) -> int:
    """Send one command, print the reply."""
    args = _parser().parse_args(argv)
    try:
        link = SerialIrLink(args.port, baudrate=args.baud, split=split_frame)
    except (serial.SerialException, OSError) as exc:
        print(f"stsgas irpad: cannot open {args.port}: {exc}", file=sys.stderr)
        return 2
    try:
        reply = _run(IrPad(link, timeout=args.timeout), args)
    except IrTimeout as exc:
        print(f"stsgas irpad: {exc}", file=sys.stderr)
        return 3
    except IrPadError as exc:
        print(f"stsgas irpad: {exc}", file=sys.stderr)
        return 1
    except (ValueError, OSError, StsError) as exc:
        print(f"stsgas irpad: {exc}", file=sys.stderr)
        return 2
    finally:
        link.close()
    print(reply)
    return 0 if reply.startswith("ok") else 1
