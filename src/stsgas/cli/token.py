"""``stsgas token``: generate and decode STS tokens.

* ``encode`` / ``decode``: JSON Lines in (stdin or ``--input``), one JSON line
  out per input line, in order, answered by the library's batch API
  (:mod:`stsgas.sts.batch`); a bad line gives an ``{"error": …}`` line with
  its line number and a non-zero exit at the end, never a stop.
* ``credit``: one credit token from options, printed grouped 4-4-4-4-4.
* ``decode-one``: one token from options.
* ``keychange``: the key change set from the current meter's options to new
  values (``--new-krn`` …), printed one grouped token per line, in entry order.
"""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import orjson

from stsgas.sts import StsError, credit_token, group_digits, key_change_tokens, lines
from stsgas.sts.batch import encode_lines
from stsgas.sts.batch_decode import decode_lines
from stsgas.sts.ciphers import StaTables
from stsgas.sts.codec import set_sta_tables

BATCH = 8192
#: How many failed line numbers the closing message lists.
_SHOWN = 10


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stsgas token", description=__doc__.split("\n")[0])
    parser.add_argument("--sta-tables", metavar="FILE", help="load STA tables from a JSON file")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, help_ in (("encode", "encode JSON Lines requests"), ("decode", "decode JSON Lines")):
        p = sub.add_parser(name, help=help_)
        p.add_argument("--input", "-i", metavar="FILE", help="read lines from FILE (default stdin)")
    credit = sub.add_parser("credit", help="one credit token, grouped 4-4-4-4-4")
    _meter_options(credit)
    credit.add_argument("--amount", required=True, help="m³ (subclass 2) or money (subclass 6)")
    credit.add_argument("--subclass", type=int, default=2, help="2 gas (default), 6 gas currency")
    credit.add_argument("--at", help="issue time, ISO 8601 with zone (default: now, UTC)")
    credit.add_argument("--rnd", type=int, default=0, help="random number 0..15")
    change = sub.add_parser("keychange", help="key change set, one grouped token per line")
    _meter_options(change)
    for name in _NEW_FIELDS:
        flag = name.replace("_", "-")
        change.add_argument(f"--new-{flag}", help=f"new {flag} (default: unchanged)")
    change.add_argument(
        "--rollover",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="set the rollover bit (default: when the base date moves on)",
    )
    one = sub.add_parser("decode-one", help="decode one token")
    one.add_argument("token")
    one.add_argument("--decoder-key", required=True, help="hex, IEC order")
    one.add_argument("--ea", default="07", help="07 STA, 09 DEA, 11 MISTY1")
    one.add_argument("--base-date", help="1993, 2014 or 2035 (to show the issue time)")
    return parser


def _meter_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--pan", help="18-digit meter PAN (or --iin and --drn)")
    p.add_argument("--iin")
    p.add_argument("--drn")
    p.add_argument("--key-type", type=int, default=2)
    p.add_argument("--sgc", required=True)
    p.add_argument("--ti", required=True)
    p.add_argument("--krn", type=int, required=True)
    p.add_argument("--ken", type=int, default=255)
    p.add_argument("--base-date", required=True)
    p.add_argument("--ea", required=True, help="07 STA, 09 DEA, 11 MISTY1")
    p.add_argument("--dkga", help="02 or 04 (with --vending-key)")
    p.add_argument("--vending-key", help="hex")
    p.add_argument("--decoder-key", help="hex, instead of --dkga and --vending-key")


def _meter_doc(ns: argparse.Namespace) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "key_type": ns.key_type,
        "sgc": ns.sgc,
        "ti": ns.ti,
        "krn": ns.krn,
        "ken": ns.ken,
        "base_date": ns.base_date,
        "ea": ns.ea,
    }
    for name in ("pan", "iin", "drn", "dkga", "vending_key", "decoder_key"):
        if getattr(ns, name) is not None:
            doc[name] = getattr(ns, name)
    return doc


_NEW_FIELDS = (
    "pan",
    "iin",
    "drn",
    "key_type",
    "sgc",
    "ti",
    "krn",
    "ken",
    "base_date",
    "ea",
    "dkga",
    "vending_key",
    "decoder_key",
)
_INT_FIELDS = frozenset({"key_type", "krn", "ken"})


def _new_meter_doc(ns: argparse.Namespace, old: dict[str, Any]) -> dict[str, Any]:
    """The new meter: the old one's fields with every ``--new-*`` option applied."""
    new = dict(old)
    given = {n: getattr(ns, f"new_{n}") for n in _NEW_FIELDS if getattr(ns, f"new_{n}") is not None}
    if "decoder_key" in given:
        new.pop("dkga", None)
        new.pop("vending_key", None)
    if "vending_key" in given or "dkga" in given:
        new.pop("decoder_key", None)
    if "pan" in given:
        new.pop("iin", None)
        new.pop("drn", None)
    if "iin" in given or "drn" in given:
        new.pop("pan", None)
    for name, value in given.items():
        if name in _INT_FIELDS:
            if not value.isdigit():
                raise ValueError(f"--new-{name.replace('_', '-')} must be a whole number")
            value = int(value)
        new[name] = value
    return new


def _batches(stream: IO[bytes]) -> Iterable[tuple[int, list[bytes]]]:
    """``(number of the first line, lines)``, about BATCH lines at a time, read in large blocks."""
    tail = b""
    number = 1
    while True:
        block = stream.read(BATCH * 512)
        if not block:
            break
        parts = (tail + block).split(b"\n")
        tail = parts.pop()
        for start in range(0, len(parts), BATCH):
            yield number, parts[start : start + BATCH]
            number += len(parts[start : start + BATCH])
    if tail:
        yield number, [tail]


def run_lines(command: str, stream: IO[bytes], out: IO[bytes]) -> list[int]:
    """Answer the JSON Lines of ``stream`` on ``out``; return the failed lines' numbers.

    The automatic cyclic garbage collector is paused meanwhile (a batch makes
    many small acyclic objects, and its collections cost about a tenth of the
    run); one explicit collection every 16 batches keeps memory bounded.
    """
    answer = encode_lines if command == "encode" else decode_lines
    failed: list[int] = []
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for count, (first, batch) in enumerate(_batches(stream), start=1):
            if count % 16 == 0:
                gc.collect()
            answers = answer(batch, first=first)
            failed += answers.failed
            if answers.lines:
                answers.lines.append(b"")
                out.write(b"\n".join(answers.lines))
    finally:
        if was_enabled:
            gc.enable()
    out.flush()
    return failed


def _failed_message(failed: list[int]) -> str:
    shown = ", ".join(map(str, failed[:_SHOWN])) + (", …" if len(failed) > _SHOWN else "")
    return f"stsgas token: {len(failed)} line(s) failed (line {shown})"


def _load_tables(path: str) -> StaTables:
    """An STA table set from a file, or a ValueError that says what is wrong with it."""
    try:
        return StaTables.from_file(path)
    except OSError as exc:
        raise ValueError(f"cannot read STA tables {path}: {exc.strerror}") from None
    except StsError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"{path} is not an STA table file ({type(exc).__name__}: {exc})") from None


def _open_input(path: str | None) -> IO[bytes]:
    return sys.stdin.buffer if path in (None, "-") else Path(path).open("rb")


def main(argv: list[str]) -> int:
    """Entry point of ``stsgas token``."""
    parser = _parser()
    ns = parser.parse_args(argv)
    try:
        if ns.sta_tables:
            set_sta_tables(_load_tables(ns.sta_tables))
        if ns.command in ("encode", "decode"):
            try:
                stream = _open_input(ns.input)
            except OSError as exc:
                print(f"stsgas token: cannot read {ns.input}: {exc.strerror}", file=sys.stderr)
                return 2
            with stream:
                failed = run_lines(ns.command, stream, sys.stdout.buffer)
            if failed:
                print(_failed_message(failed), file=sys.stderr)
            return 1 if failed else 0
        if ns.command == "credit":
            at = datetime.fromisoformat(ns.at) if ns.at else datetime.now(UTC)
            meter = lines.meter_of(_meter_doc(ns))
            issued = credit_token(meter, ns.amount, at=at, rnd=ns.rnd, subclass=ns.subclass)
            unit = "m³" if ns.subclass <= 3 else ""
            print(issued.grouped)
            print(f"TID {issued.tid}  credit {issued.amount} {unit}".rstrip(), file=sys.stderr)
            return 0
        if ns.command == "keychange":
            old_doc = _meter_doc(ns)
            old, new = lines.meter_of(old_doc), lines.meter_of(_new_meter_doc(ns, old_doc))
            kct = key_change_tokens(old, new, rollover=ns.rollover)
            for tok in kct:
                print(tok.grouped)
            print(f"{len(kct)} tokens under the old key; enter them in this order", file=sys.stderr)
            return 0
        doc = {"token": ns.token, "decoder_key": ns.decoder_key, "ea": ns.ea}
        if ns.base_date:
            doc["base_date"] = ns.base_date
        out = lines.decode_line(doc)
        print(orjson.dumps(out).decode())
        if "token" in out:
            print(group_digits(out["token"]))
        return 0
    except StsError as exc:
        print(f"stsgas token: {exc} [{exc.code}]", file=sys.stderr)
        return 2
    except (ValueError, OSError) as exc:
        print(f"stsgas token: {exc}", file=sys.stderr)
        return 2
