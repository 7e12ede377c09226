"""``stsgas irpad``: talk to a meter's IR port (a serial device or a pty path).

Thin: takes the command, builds the frame with :class:`stsgas.irlink.IrPad`,
prints the meter's reply. Exit 0 for an ``ok`` reply, 1 for an ``err`` reply,
2 for bad usage (a port that cannot be opened, a bad key or time), 3 when the
meter does not answer.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from stsgas.cli._errors import FOUND, REFUSED, fail, read_text

if TYPE_CHECKING:
    from stsgas.irlink.client import IrPad

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Talk to a meter's IR port. Exit 0 an ok reply, 1 an err reply, 2 bad usage or "
    "a port that cannot be opened, 3 the meter did not answer.",
)


@dataclass(frozen=True)
class Port:
    """Where and how to reach the meter, from the group's options."""

    device: str | None
    baud: int
    timeout: float
    key_hex: str | None
    config: Path | None


@app.callback()
def port(
    ctx: typer.Context,
    device: Annotated[
        str | None,
        typer.Option(
            "--port",
            metavar="DEV",
            help="Serial device or pty path (see stsgas meter start); required.",
            show_default=False,
        ),
    ] = None,
    baud: Annotated[int, typer.Option("--baud", min=1, help="Serial speed.")] = 9600,
    timeout: Annotated[
        float, typer.Option("--timeout", min=0.0, help="Seconds to wait for the reply.")
    ] = 2.0,
    key: Annotated[
        str | None,
        typer.Option(
            "--key",
            metavar="HEX",
            help="The meter's decoder key in hex (authenticated commands).",
            show_default=False,
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="JSON with the meter object, its key derived (instead of --key).",
            show_default=False,
        ),
    ] = None,
) -> None:
    if key is not None and config is not None:
        fail("give --key or --config, not both")
    ctx.obj = Port(device, baud, timeout, key, config)


def token_digits(words: list[str]) -> str:
    """A token as ``stsgas token credit`` prints it (groups split by spaces or dashes),
    one word or several, as the 20 digits the meter takes."""
    return "".join("".join(words).replace("-", "").split())


def _key(port: Port) -> bytes:
    from stsgas.sts import MeterConfig

    if port.key_hex:
        return bytes.fromhex(port.key_hex)
    if port.config:
        doc = json.loads(read_text(port.config))
        return MeterConfig.from_json(doc.get("meter", doc)).key().value
    raise ValueError("this command is authenticated: give --key HEX or --config meter.json")


def _time(text: str) -> datetime:
    at = datetime.now(UTC) if text == "now" else datetime.fromisoformat(text.replace("Z", "+00:00"))
    if at.tzinfo is None:
        raise ValueError("the time needs a zone (end it with Z for UTC)")
    return at


def _send(ctx: typer.Context, ask: Callable[[IrPad, Port], str]) -> None:
    """Open the port, ask, print the reply; the exit code says ok, err or silence."""
    import serial

    from stsgas.irlink import SerialIrLink
    from stsgas.irlink.client import IrPad, IrPadError, IrTimeout, split_frame
    from stsgas.sts import StsError

    where: Port = ctx.obj
    if where.device is None:
        fail("which meter? give its port: stsgas irpad --port DEV COMMAND")
    try:
        link = SerialIrLink(where.device, baudrate=where.baud, split=split_frame)
    except (serial.SerialException, OSError) as exc:
        fail(f"cannot open {where.device}: {exc}")
    try:
        reply = ask(IrPad(link, timeout=where.timeout), where)
    except IrTimeout as exc:
        fail(str(exc), REFUSED)
    except IrPadError as exc:
        fail(str(exc), FOUND)
    except (ValueError, OSError, StsError) as exc:
        fail(str(exc))
    finally:
        link.close()
    print(reply)
    if not reply.startswith("ok"):
        raise typer.Exit(FOUND)


@app.command(help="Enter a 20-digit token.")
def token(
    ctx: typer.Context,
    digits: Annotated[
        list[str],
        typer.Argument(help="As printed: 20 digits, in groups with spaces or dashes."),
    ],
) -> None:
    _send(ctx, lambda pad, _: pad.token(token_digits(digits)))


@app.command(help="Ask a 2-digit query code (stsgas meter codes lists them).")
def query(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="The 2-digit query code.")],
) -> None:
    _send(ctx, lambda pad, _: pad.query(code))


@app.command(name="set-clock", help="Set the meter's clock (authenticated).")
def set_clock(
    ctx: typer.Context,
    time: Annotated[str, typer.Argument(help="ISO time with its zone, or now.")] = "now",
) -> None:
    _send(ctx, lambda pad, port: pad.set_clock(_time(time), _key(port)))


@app.command(name="clear-tamper", help="Clear the tamper lock (authenticated).")
def clear_tamper(ctx: typer.Context) -> None:
    _send(ctx, lambda pad, port: pad.clear_tamper(_key(port)))


@app.command(name="load-tariff", help="Load a step tariff (authenticated).")
def load_tariff(
    ctx: typer.Context,
    steps: Annotated[
        str,
        typer.Argument(
            help="up-to-m3:price pairs, the last top '-': 10:2.50,-:3.10 (one step: -- -:3.10)."
        ),
    ],
    at: Annotated[
        str, typer.Option("--at", help="ISO activation time with its zone, or now.")
    ] = "now",
) -> None:
    _send(ctx, lambda pad, port: pad.load_tariff(steps, _time(at), _key(port)))


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def _readout_format(out: Path, given: str | None) -> str:
    """json or csv: as given, else by the file's suffix."""
    fmt = given or {".csv": "csv", ".json": "json"}.get(out.suffix.lower())
    if fmt not in ("json", "csv"):
        fail("which format? end the file in .json or .csv, or give --format json|csv")
    return fmt


def _write_atomically(out: Path, text: str) -> None:
    """The whole file or none: a reader never sees half a readout."""
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        fail(f"cannot write {out}: {exc.strerror or exc}")


@app.command(
    help="Read the meter's history, events, registers and settings over IEC 62056-21 "
    "(authenticated) and save them as JSON (stsgas-readout/1) or CSV."
)
def readout(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="The file to write (.json or .csv).")],
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format", help="json or csv (default: by the file's suffix).", show_default=False
        ),
    ] = None,
) -> None:
    import serial

    from stsgas.irlink import SerialIrLink
    from stsgas.irlink.client import IrPadError, IrTimeout
    from stsgas.irlink.readout import OpticalReader, ReadoutRefused, split_from_meter
    from stsgas.sts import StsError

    where: Port = ctx.obj
    kind = _readout_format(out, fmt)
    if where.device is None:
        fail("which meter? give its port: stsgas irpad --port DEV readout --out FILE")
    try:
        key = _key(where)
    except (ValueError, OSError, StsError) as exc:
        fail(str(exc))
    try:
        link = SerialIrLink(where.device, baudrate=where.baud, split=split_from_meter)
    except (serial.SerialException, OSError) as exc:
        fail(f"cannot open {where.device}: {exc}")
    reader = OpticalReader(link, timeout=where.timeout)
    try:
        result = reader.read_all(key)
    except IrTimeout as exc:
        fail(str(exc), REFUSED)
    except ReadoutRefused as exc:
        fail(str(exc), FOUND)
    except IrPadError as exc:
        fail(str(exc), FOUND)
    finally:
        link.close()
    text = result.to_csv() if kind == "csv" else json.dumps(result.to_json(), indent=1) + "\n"
    _write_atomically(out, text)
    wire = reader.wire
    print(
        f"ok readout {result.meter_number}: {_count(len(result.monthly), 'month')}, "
        f"{_count(len(result.hourly), 'hour')}, {_count(len(result.events), 'event')} -> {out} "
        f"({wire.slow + wire.fast} bytes, {wire.seconds():.1f} s at 9600 Bd)"
    )


@app.command(help="Send a payload as given, framed.")
def raw(
    ctx: typer.Context,
    payload: Annotated[str, typer.Argument(help="The payload, without the frame.")],
) -> None:
    _send(ctx, lambda pad, _: pad.request(payload))


from stsgas.cli import irpad_settings as _settings  # noqa: E402,F401 -- registers `irpad settings`
