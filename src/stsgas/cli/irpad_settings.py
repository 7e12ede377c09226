"""``stsgas irpad settings``: load field settings into a meter by the signed IR command.

The pairs are checked against the names the meter knows before the port is
opened; the meter checks each value's range and applies all of them or none.
A list too long for one frame is refused here (send it as two commands, each
all or none), never cut short.
"""

from __future__ import annotations

from typing import Annotated

import typer

from stsgas.cli._errors import fail
from stsgas.cli.irpad import _key, _send, app
from stsgas.irproto import MAX_PAYLOAD, SETTING_NAMES, FrameError, settings_text

__all__ = ["settings"]

#: ``settings <n> `` with the widest counter, and `` <mac>``: what a frame adds to the list
_OVERHEAD = len("settings 2147483647  ") + 16


def _text(pairs: list[str]) -> str:
    """``name=value`` words as the command's list (a CliError, exit 2, when malformed)."""
    split = [word.partition("=") for word in pairs]
    bad = [word for word, (_, eq, _) in zip(pairs, split, strict=True) if not eq]
    if bad:
        fail(f"not name=value: {bad[0]!r} (names: {', '.join(SETTING_NAMES)})")
    try:
        text = settings_text([(name, value) for name, _, value in split])
    except FrameError as exc:
        fail(f"{exc} (names: {', '.join(SETTING_NAMES)})")
    if len(text) + _OVERHEAD > MAX_PAYLOAD:
        fail(f"{len(pairs)} settings do not fit one IR frame: send them in two commands")
    return text


@app.command(help="Load field settings (authenticated): name=value ..., all applied or none.")
def settings(
    ctx: typer.Context,
    pairs: Annotated[
        list[str],
        typer.Argument(
            help="name=value, e.g. overdraft=5 billing_day=15 timezone=Africa/Nairobi "
            "leak_flow_m3h=0.005 leak_s=3600 (docs/meter-field-settings.md lists them)."
        ),
    ],
) -> None:
    text = _text(pairs)
    _send(ctx, lambda pad, port: pad.signed(_key(port), "settings", text))
