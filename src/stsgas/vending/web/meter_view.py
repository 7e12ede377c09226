"""A meter's facts in words: the API's JSON as a person reads it, never a raw value.

The API says ``null``, ``true``, ids and minute counts; the page says "no tariff
set", "not due", the supply group's code and the time a TID stands for.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stsgas.sts import BaseDate, StsError, datetime_for_tid
from stsgas.vending.kit.volume import LITRE
from stsgas.vending.web.views import money

__all__ = ["group_text", "meter_facts"]

_MODES = {"volume": "By volume (credit in m³)", "amount": "By amount (credit in money)"}


def group_text(group: Mapping[str, Any] | None, group_id: Any) -> str:
    """A supply group as its SGC and key revision (and name)."""
    if group is None:
        return f"supply group #{group_id}" if group_id is not None else "none"
    name = f" ({group['name']})" if group.get("name") else ""
    return f"SGC {group['sgc']}, key revision {group['krn']}{name}"


def _when(tid: int, base_date: int) -> str:
    try:
        at = datetime_for_tid(tid, BaseDate(base_date))
    except (StsError, ValueError):
        return f"TID {tid}"
    return f"{at:%Y-%m-%d %H:%M} UTC (TID {tid})"


def _limit(m: Mapping[str, Any]) -> str:
    limit = m.get("recharge_limit")
    if limit is None:
        return "No limit set (the meter's own)"
    if m.get("mode") == "volume":
        return f"{(int(limit) * LITRE).normalize():f} m³ a token"
    return f"{money(int(limit))} a token"


def _key_change(m: Mapping[str, Any], groups: Mapping[int, Mapping[str, Any]]) -> str:
    parts = []
    if m.get("pending_supply_group_id") is not None:
        gid = m["pending_supply_group_id"]
        parts.append(f"to {group_text(groups.get(gid), gid)}")
    if m.get("pending_ti") is not None:
        parts.append(f"tariff index {m['pending_ti']}")
    if m.get("pending_base_date") is not None:
        parts.append(f"base date {m['pending_base_date']}")
    if parts:
        return "Due: " + ", ".join(parts) + " (issued with the next sale)"
    return "Due (issued with the next sale)" if m.get("needs_key_change") else "Not due"


def _loaded(m: Mapping[str, Any]) -> str:
    since = m.get("loaded_tariff_from")
    when = f" from {str(since)[:16].replace('T', ' ')} UTC" if since else ""
    if m.get("loaded_tariff_version_id") is not None:
        return f"Tariff version #{m['loaded_tariff_version_id']}{when}"
    if m.get("loaded_tariff_rate") is not None:
        return f"Flat rate {money(int(m['loaded_tariff_rate']))} per m³{when}"
    return "Nothing issued over IR"


def meter_facts(
    m: Mapping[str, Any],
    *,
    groups: Mapping[int, Mapping[str, Any]],
    tariffs: Mapping[int, str],
) -> list[tuple[str, str]]:
    """(label, text) rows of one meter for its page."""
    tariff_id = m.get("tariff_id")
    tariff = (
        "No tariff set: it cannot be sold to"
        if tariff_id is None
        else tariffs.get(tariff_id, f"tariff #{tariff_id}")
    )
    ken = int(m.get("ken", 255))
    last_tid = int(m.get("last_tid") or 0)
    status = str(m.get("status", ""))
    return [
        ("Meter number", str(m.get("pan", ""))),
        ("DRN", str(m.get("drn", ""))),
        ("Mode", _MODES.get(str(m.get("mode")), str(m.get("mode", "")))),
        ("Status", status.capitalize()),
        (
            "Supply group",
            group_text(groups.get(m.get("supply_group_id", -1)), m.get("supply_group_id")),
        ),
        ("Tariff", tariff),
        ("Tariff index", str(m.get("ti", ""))),
        ("Base date", str(m.get("base_date", ""))),
        ("Key expiry number", "255 (never expires)" if ken == 255 else str(ken)),
        (
            "Last token",
            _when(last_tid, int(m.get("base_date", 2014))) if last_tid else "No token issued yet",
        ),
        ("Key change", _key_change(m, groups)),
        ("Recharge limit", _limit(m)),
        ("Tariff in the meter", _loaded(m)),
    ]
