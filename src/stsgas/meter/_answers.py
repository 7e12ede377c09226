"""How the meter answers a token: the accept or reject event, the beep, the LCD text.

One place for it, used by ``_tokens`` and ``_testtoken``; the code and its IEC
status come from ``stsgas.sts.errors`` and the LCD text from ``_state.REJECT_TEXT``.
"""

from __future__ import annotations

from datetime import datetime

from stsgas.meter import _state as S  # noqa: N812 -- the tables read as S.X
from stsgas.meter._core import MeterCore
from stsgas.meter.events import (
    AcceptKind,
    Beep,
    Buzzer,
    Events,
    LogKind,
    Rejection,
    TokenAccepted,
    TokenRejected,
)  # fmt: skip

__all__ = ["accepted", "refuse", "reject"]


def reject(
    m: MeterCore, code: Rejection, now: datetime, out: Events, text: str | None = None
) -> None:
    """Answer a refused entry: its code and IEC status, the reject beep, the LCD text."""
    if code is Rejection.LIMIT:  # a refused recharge is an event of its own (anti-storage)
        m.log(LogKind.RECHARGE_LIMIT, now, out)
        m.save()
    out.append(TokenRejected(at=now, code=code, status=code.status))
    out.append(Buzzer(pattern=Beep.REJECT))
    m.show(text or S.REJECT_TEXT[code], out)


def refuse(
    m: MeterCore, code: Rejection, now: datetime, out: Events, text: str | None = None
) -> None:
    """A well-formed token this meter will not apply: logged and shown, no lockout count."""
    m.log(LogKind.TOKEN_REJECTED, now, out)
    m.save()
    reject(m, code, now, out, text)


def accepted(
    m: MeterCore,
    kind: AcceptKind,
    tid: int | None,
    amount: int | None,
    now: datetime,
    out: Events,
    text: str,
) -> None:
    """Answer an applied token: the event, the accept beep, the LCD text."""
    out.append(TokenAccepted(at=now, kind=kind, tid=tid, amount=amount))
    out.append(Buzzer(pattern=Beep.ACCEPT))
    m.show(text, out)
