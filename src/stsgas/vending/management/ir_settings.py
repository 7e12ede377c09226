"""Change a meter's field settings over IR, signed by the vending system.

The meter takes ``settings <n> <name>=<value>,... <mac>`` (``stsgas.irproto``):
the whole list applies or none does, the MAC is made under the meter's decoder
key and ``n`` shares its counter with ``tariff`` and ``clock``. The vending side
checks every value against the same safe range the meter does, so a request
the meter would refuse is never asked, and the approval (a second person, as for
a tariff load) signs the command inside the security module.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from stsgas.irproto import MAX_PAYLOAD, SETTING_NAMES, settings_text
from stsgas.vending.errors import InvalidInput
from stsgas.vending.keys.security import SecurityModule
from stsgas.vending.models import (
    ManagementKind,
    ManagementRequest,
    Meter,
    RequestStatus,
    SupplyGroup,
)
from stsgas.vending.sales import issue

#: setting names in the order the command carries them
NAMES = SETTING_NAMES
PARAMS = {"seq", *NAMES}
_MAX_SEQ = 2**31 - 1
_MAC_TEXT = 17  # " " + 16 hex digits
_ZONE = re.compile(r"[A-Za-z][A-Za-z0-9_+\-/]{0,63}")


class SettingOutOfRange(InvalidInput):
    """A setting the meter would refuse (``err range``): unknown, malformed or outside
    its safe range."""

    code = "field_setting_range"
    title = "Field setting refused"


class StaleIrSeq(InvalidInput):
    """A counter the meter has already taken (it would answer ``err replay``)."""

    code = "settings_seq"
    title = "IR counter already used"


class SettingsTooLong(InvalidInput):
    """More settings than one IR frame carries: send them as two requests."""

    code = "settings_too_long"
    title = "Settings do not fit one IR frame"


def _decimal(name: str, value: Any, lo: str, hi: str, dp: int = 3) -> Decimal:
    """A plain decimal (no sign, no exponent, up to ``dp`` places) within lo .. hi."""
    ok = isinstance(value, int | str) and not isinstance(value, bool)
    text = str(value).strip() if ok else ""
    if not re.fullmatch(rf"\d{{1,9}}(\.\d{{1,{dp}}})?", text):
        raise SettingOutOfRange(f"{name} is a plain decimal with up to {dp} places, not {value!r}")
    number = Decimal(text)
    if not Decimal(lo) <= number <= Decimal(hi):
        raise SettingOutOfRange(f"{name} must be {lo} .. {hi}")
    return number


def _plain(name: str, value: Any, lo: str, hi: str) -> str:
    return format(_decimal(name, value, lo, hi).normalize(), "f")


def _integer(name: str, value: Any, lo: int, hi: int) -> str:
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise SettingOutOfRange(f"{name} must be an integer {lo} .. {hi}")
    return str(value)


def _recharge_limit(value: Any) -> str:
    if value is None or (isinstance(value, str) and value.strip().lower() == "none"):
        return "none"
    return _plain("recharge_limit", value, "0.001", "100000")


def _volts(lo: str, hi: str) -> Callable[[str, Any], str]:
    def check(name: str, value: Any) -> str:
        return format(_decimal(name, value, lo, hi, dp=2).quantize(Decimal("0.01")), "f")

    return check


def _timezone(value: Any) -> str:
    name = value.strip() if isinstance(value, str) else ""
    if not _ZONE.fullmatch(name):
        raise SettingOutOfRange("timezone is an IANA zone name such as Africa/Nairobi")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingOutOfRange(f"timezone {name} is not a known zone") from None
    return name


_CHECKS: dict[str, Callable[[str, Any], str]] = {
    "overdraft": lambda n, v: _plain(n, v, "0", "50"),
    "recharge_limit": lambda _n, v: _recharge_limit(v),
    "low_credit_alarm": lambda n, v: _plain(n, v, "0", "1000"),
    "battery_low_1_v": _volts("3.00", "3.60"),
    "battery_low_2_v": _volts("2.80", "3.50"),
    "auto_clean_days": lambda n, v: _integer(n, v, 0, 365),
    "timezone": lambda _n, v: _timezone(v),
    "billing_day": lambda n, v: _integer(n, v, 1, 28),
    "excess_flow_m3h": lambda n, v: _plain(n, v, "0.5", "50"),
    "excess_flow_s": lambda n, v: _integer(n, v, 5, 3600),
    "leak_flow_m3h": lambda n, v: _plain(n, v, "0.001", "1"),
    "leak_s": lambda n, v: _integer(n, v, 600, 172800),
}


def last_seq(session: Session, meter: Meter) -> int:
    """The highest IR counter the vending side has signed for ``meter`` (tariff loads and
    settings share it); 0 when none."""
    seqs = session.execute(
        select(ManagementRequest.params).where(
            ManagementRequest.meter_id == meter.id,
            ManagementRequest.kind == ManagementKind.FIELD_SETTINGS.value,
            ManagementRequest.status == RequestStatus.ISSUED.value,
        )
    ).scalars()
    return max([meter.loaded_tariff_seq or 0, *(int(p["seq"]) for p in seqs)])


def check_seq(session: Session, meter: Meter, seq: int) -> None:
    """:class:`StaleIrSeq` when the meter has already been sent ``seq`` or a later one."""
    last = last_seq(session, meter)
    if seq <= last:
        raise StaleIrSeq(f"the meter was sent IR counter {last}; use {last + 1} or more")


def normalise(settings: Mapping[str, Any]) -> dict[str, str]:
    """The settings named in ``settings`` (others ignored), each checked against the
    meter's safe range and written as the command carries it; :class:`SettingOutOfRange`
    for the first one the meter would refuse."""
    out = {name: _CHECKS[name](name, settings[name]) for name in NAMES if name in settings}
    if not out:
        raise SettingOutOfRange(f"name at least one setting: {', '.join(NAMES)}")
    low1, low2 = out.get("battery_low_1_v"), out.get("battery_low_2_v")
    if low1 is not None and low2 is not None and Decimal(low2) >= Decimal(low1):
        raise SettingOutOfRange("battery_low_2_v must be below battery_low_1_v")
    return out


def validate(session: Session, meter: Meter, params: dict[str, Any]) -> dict[str, Any]:
    """Check a field-settings request: a fresh IR counter and settings the meter takes
    in one frame; returns the params normalised."""
    seq = params.get("seq")
    if isinstance(seq, bool) or not isinstance(seq, int) or not 0 < seq <= _MAX_SEQ:
        raise InvalidInput(f"seq must be an integer 1..{_MAX_SEQ} (the meter's seq + 1)")
    check_seq(session, meter, seq)
    out: dict[str, Any] = {"seq": seq, **normalise(params)}
    if len(payload(out)) + _MAC_TEXT > MAX_PAYLOAD:
        raise SettingsTooLong(
            f"the settings take more than one IR frame ({MAX_PAYLOAD} characters): "
            "ask for them in two requests"
        )
    return out


def payload(params: dict[str, Any]) -> str:
    """The command before its MAC: ``settings <n> <pairs>``."""
    pairs = [(name, str(params[name])) for name in NAMES if name in params]
    return f"settings {params['seq']} {settings_text(pairs)}"


def command(
    session: Session, meter: Meter, params: dict[str, Any], security: SecurityModule
) -> str:
    """The signed ``settings`` payload for ``meter`` under its current key data; the
    counter is checked again (another command may have used it since it was asked)."""
    check_seq(session, meter, params["seq"])
    return sign(session, meter, security, payload(params))


def sign(session: Session, meter: Meter, security: SecurityModule, text: str) -> str:
    """``text`` and its MAC under the meter's current key data, as every IR command
    (settings, tariff) ends."""
    group = session.get(SupplyGroup, meter.supply_group_id)
    assert group is not None
    mac = security.ir_mac(issue.own_key_data(meter, group), group.vending_key_enc, text)
    return f"{text} {mac}"
