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

import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Annotated, Any, TypeVar

import orjson
import typer

from stsgas.cli import _token_options as o
from stsgas.cli import token_lines
from stsgas.cli._errors import fail
from stsgas.sts import StsError, credit_token, group_digits, key_change_tokens, lines
from stsgas.sts.ciphers import StaTables
from stsgas.sts.codec import set_sta_tables

T = TypeVar("T")
_METER_FIELDS = frozenset(
    {"pan", "iin", "drn", "key_type", "sgc", "ti", "krn", "ken", "base_date", "ea", "dkga",
     "vending_key", "decoder_key"}
)  # fmt: skip


def _meter_doc(ns: Any) -> dict[str, Any]:
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


def _new_meter_doc(ns: Any, old: dict[str, Any]) -> dict[str, Any]:
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


app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Generate and decode STS tokens. Exit 0 done; 1 a JSON line failed (every line "
    "still answered); 2 the command could not run (bad option, unreadable file).",
)


@app.callback()
def tables(
    sta_tables: Annotated[
        Path | None,
        typer.Option(
            "--sta-tables",
            metavar="FILE",
            help="Load another EA07 STA table set (JSON) for the whole run.",
            show_default=False,
        ),
    ] = None,
) -> None:
    if sta_tables is not None:
        _guarded(lambda: set_sta_tables(_load_tables(str(sta_tables))))


def _guarded(work: Callable[[], T]) -> T:
    """Library errors as one line with their stable code, exit 2."""
    try:
        return work()
    except StsError as exc:
        fail(f"{exc} [{exc.code}]")
    except ValueError as exc:
        fail(str(exc))


InputFile = Annotated[
    Path | None,
    typer.Option(
        "--input", "-i", metavar="FILE", help="Read lines from FILE (default: stdin; - too)."
    ),
]


def _lines(command: str, path: Path | None) -> None:
    code = token_lines.lines(command, None if path is None else str(path))
    if code:
        raise typer.Exit(code)


@app.command(help="Encode JSON Lines requests: one JSON line out per line in, in order.")
def encode(input_file: InputFile = None) -> None:
    _lines("encode", input_file)


@app.command(help="Decode JSON Lines of tokens: one JSON line out per line in, in order.")
def decode(input_file: InputFile = None) -> None:
    _lines("decode", input_file)


@app.command(help="One credit token from options, printed grouped 4-4-4-4-4.")
def credit(
    sgc: o.Sgc,
    ti: o.Ti,
    krn: o.Krn,
    base_date: o.BaseDate,
    ea: o.Ea,
    amount: Annotated[
        str, typer.Option("--amount", help="m³ (subclass 0-3) or money (subclass 4-7).")
    ],
    pan: o.Pan = None,
    iin: o.Iin = None,
    drn: o.Drn = None,
    key_type: o.KeyType = 2,
    ken: o.Ken = 255,
    dkga: o.Dkga = None,
    vending_key: o.VendingKey = None,
    decoder_key: o.DecoderKey = None,
    subclass: Annotated[
        int, typer.Option("--subclass", min=0, max=7, help="2 gas (m³), 6 gas currency.")
    ] = 2,
    at: Annotated[
        str | None,
        typer.Option(
            "--at",
            help="Issue time, ISO 8601 with its zone (default: now, UTC).",
            show_default=False,
        ),
    ] = None,
    rnd: Annotated[int, typer.Option("--rnd", min=0, max=15, help="Random number 0..15.")] = 0,
) -> None:
    ns = SimpleNamespace(**{k: v for k, v in locals().items() if k in _METER_FIELDS})

    def issue() -> None:
        when = datetime.fromisoformat(at) if at else datetime.now(UTC)
        meter = lines.meter_of(_meter_doc(ns))
        issued = credit_token(meter, amount, at=when, rnd=rnd, subclass=subclass)
        unit = "m³" if subclass <= 3 else ""
        print(issued.grouped)
        print(f"TID {issued.tid}  credit {issued.amount} {unit}".rstrip(), file=sys.stderr)

    _guarded(issue)


@app.command(help="The key change set to new meter values, one grouped token per line.")
def keychange(
    sgc: o.Sgc,
    ti: o.Ti,
    krn: o.Krn,
    base_date: o.BaseDate,
    ea: o.Ea,
    pan: o.Pan = None,
    iin: o.Iin = None,
    drn: o.Drn = None,
    key_type: o.KeyType = 2,
    ken: o.Ken = 255,
    dkga: o.Dkga = None,
    vending_key: o.VendingKey = None,
    decoder_key: o.DecoderKey = None,
    new_pan: Annotated[str | None, o.new("pan")] = None,
    new_iin: Annotated[str | None, o.new("iin")] = None,
    new_drn: Annotated[str | None, o.new("drn")] = None,
    new_key_type: Annotated[str | None, o.new("key-type")] = None,
    new_sgc: Annotated[str | None, o.new("sgc")] = None,
    new_ti: Annotated[str | None, o.new("ti")] = None,
    new_krn: Annotated[str | None, o.new("krn")] = None,
    new_ken: Annotated[str | None, o.new("ken")] = None,
    new_base_date: Annotated[str | None, o.new("base-date")] = None,
    new_ea: Annotated[str | None, o.new("ea")] = None,
    new_dkga: Annotated[str | None, o.new("dkga")] = None,
    new_vending_key: Annotated[str | None, o.new("vending-key")] = None,
    new_decoder_key: Annotated[str | None, o.new("decoder-key")] = None,
    rollover: Annotated[
        bool | None,
        typer.Option(
            "--rollover/--no-rollover",
            help="Confirm the rollover bit (default: set when the base date moves on).",
            show_default=False,
        ),
    ] = None,
) -> None:
    ns = SimpleNamespace(**locals())

    def change() -> None:
        old_doc = _meter_doc(ns)
        old, new = lines.meter_of(old_doc), lines.meter_of(_new_meter_doc(ns, old_doc))
        kct = key_change_tokens(old, new, rollover=rollover)
        for tok in kct:
            print(tok.grouped)
        print(f"{len(kct)} tokens under the old key; enter them in this order", file=sys.stderr)

    _guarded(change)


@app.command(name="decode-one", help="Decode one token with its decoder key.")
def decode_one(
    token: Annotated[str, typer.Argument(help="The 20 digits (groups may be joined).")],
    decoder_key: Annotated[
        str, typer.Option("--decoder-key", help="Decoder key in hex, IEC byte order.")
    ],
    ea: Annotated[str, typer.Option("--ea", help="07 STA, 09 DEA, 11 MISTY1.")] = "07",
    base_date: Annotated[
        str | None,
        typer.Option(
            "--base-date",
            help="1993, 2014 or 2035 (to show the issue time).",
            show_default=False,
        ),
    ] = None,
) -> None:
    doc = {"token": token, "decoder_key": decoder_key, "ea": ea}
    if base_date:
        doc["base_date"] = base_date
    out = _guarded(lambda: lines.decode_line(doc))
    print(orjson.dumps(out).decode())
    if "token" in out:
        print(group_digits(out["token"]))
