"""Class 1 test tokens (InitiateMeterCoreTest/Display): manufacturer code and control bits.

A test token is not encrypted: anyone can make one. So a test token never
changes what the customer has paid for: it moves no credit, consumes no TID,
does not reset the entry lockout, and its valve test only ever closes an open
valve and opens it again (it never opens a closed valve).

Control bits (bit 0 is the least significant bit of the control field), as
the standard numbers them; the meaning on this gas meter is in docs/meter.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Final

from stsgas.meter import _answers
from stsgas.meter._core import MeterCore
from stsgas.meter.events import (
    AcceptKind,
    Alarm,
    AlarmChanged,
    Beep,
    Buzzer,
    CloseReason,
    Events,
    LogKind,
    Rejection,
    TokenAccepted,
    ValveChanged,
)  # fmt: skip
from stsgas.meter.query import FIRMWARE
from stsgas.sts import EA, LITRES_PER_M3, TestToken, split_pan

__all__ = ["CONTROL_BITS", "run_test_token"]

_NA: Final = "--"


def _valve_test(m: MeterCore, now: datetime, out: Events) -> str:
    """Close an open valve and open it again, checking the position switch each way."""
    if not m.valve.open:
        return "VALvE CLOSEd"  # never opened by an unauthenticated token
    if not m.supply.power or m.supply.bat >= 2:
        return "VALvE LOCKEd"  # no valve moves below the battery threshold (M6)
    for direction in ("close", "open"):
        m.put(replace(m.valve, moves=m.valve.moves + 1))
        if direction in m.valve_fault:
            m.put(replace(m.valve, faults=m.valve.faults + 1))
            m.log(LogKind(f"valve_{direction}_failure"), now, out)
            out.append(AlarmChanged(name=Alarm.VALVE_FAILURE, on=True))
            if direction == "open":  # stuck closed after the close half: say so
                m.put(replace(m.valve, open=False, reason=CloseReason.CLEAN))
                out.append(ValveChanged(at=now, open=False, reason=CloseReason.CLEAN, ok=False))
            return "VALvE FAIL"
        shut = direction == "close"
        reason = CloseReason.MANUAL if shut else None
        out.append(ValveChanged(at=now, open=not shut, reason=reason))
    m.log(LogKind.VALVE_TESTED, now, out)
    return "VALvE good"


def _display_test(m: MeterCore, now: datetime, out: Events) -> str:
    out.append(Buzzer(pattern=Beep.TEST))  # every segment and the buzzer
    return "8888 8888"


def _m3(litres: int) -> str:
    return f"{Decimal(litres) / LITRES_PER_M3} m3"


def _price(m: MeterCore) -> str:
    return f"{m.fmt(m.tariff.steps[m.tariff.step_at(m.balance.month)].price)}/m3"


def _kcts(m: MeterCore) -> str:
    return "4" if m.key.ea == int(EA.MISTY1) else "3"


#: bit -> (name, the LCD text it shows). Bits 7, 9, 11 and 12 ask for electricity
#: and water values a gas meter does not have: it shows "--" for them.
CONTROL_BITS: Final[dict[int, tuple[str, Callable[[MeterCore, datetime, Events], str]]]] = {
    1: ("load switch (valve) test", _valve_test),
    2: ("display and buzzer test", _display_test),
    3: ("total consumption", lambda m, now, out: f"tot {_m3(m.balance.total)}"),
    4: ("key revision number", lambda m, now, out: f"KRN {m.key.krn}"),
    5: ("tariff index", lambda m, now, out: f"TI {m.key.ti}"),
    6: ("token reader (keypad and IR) test", lambda m, now, out: "rEAdEr good"),
    7: ("maximum power limit", lambda m, now, out: f"PL {_NA}"),
    8: ("tamper status", lambda m, now, out: "tamper" if m.supply.tamper else "tamper no"),
    9: ("power consumption", lambda m, now, out: f"P {_NA}"),
    10: ("software version", lambda m, now, out: FIRMWARE),
    11: ("phase power unbalance limit", lambda m, now, out: f"PU {_NA}"),
    12: ("water meter factor", lambda m, now, out: f"FAC {_NA}"),
    13: ("tariff rate", lambda m, now, out: f"rAtE {_price(m)}"),
    14: ("encryption algorithm", lambda m, now, out: f"EA {m.key.ea:02d}"),
    15: ("key change tokens supported", lambda m, now, out: f"KCT {_kcts(m)}"),
    16: ("supply group code", lambda m, now, out: f"SGC {m.key.sgc}"),
    17: ("key expiry number", lambda m, now, out: f"KEN {m.key.ken}"),
    18: ("decoder reference number", lambda m, now, out: f"drn {split_pan(m.key.pan)[1]}"),
}
#: bit 0 asks for every test and display above.
TEST_ALL: Final = 0


def selected(control: int) -> list[int]:
    """The bits a control field selects, in the order they run (bit 0 = all)."""
    if control >> TEST_ALL & 1:
        return sorted(CONTROL_BITS)
    return [bit for bit in sorted(CONTROL_BITS) if control >> bit & 1]


def run_test_token(m: MeterCore, token: TestToken, now: datetime, out: Events) -> None:
    """Check the manufacturer code, then run each selected test, showing each result."""
    if token.subclass == 2:
        _answers.refuse(m, Rejection.TYPE, now, out)  # extended read: this meter has none
        return
    own = m.settings.mfr_code
    if token.mfr_code not in (0, own):
        _answers.refuse(m, Rejection.MFR, now, out)  # a test token for another maker's meters
        return
    bits = selected(token.control)
    if not bits:
        _answers.refuse(m, Rejection.RANGE, now, out)  # only reserved bits: nothing to run
        return
    out.append(TokenAccepted(at=now, kind=AcceptKind.TEST, tid=None, amount=None))
    out.append(Buzzer(pattern=Beep.ACCEPT))
    m.log(LogKind.TEST_TOKEN, now, out)
    for bit in bits:
        m.show(CONTROL_BITS[bit][1](m, now, out), out)
    m.save()
