"""Write the office's readout fixtures (run from the repository root; output committed).

    python tests/data/readout/make_office.py

``office-120m.json``: a volume meter read after ten years, 120 months with a cold-season
bump, the last 14 days of hours (cooking peaks morning and evening) and its events.
``office-a.json`` / ``office-b.json``: two overlapping readouts of one meter, three weeks
apart. ``office-amount.json``: an amount meter whose months carry the money charged.
``office-a.csv``: readout A in the CSV spelling.
All numbers are decimal strings made from integers: no float is ever formatted.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
#: DRN 07770000102 under IIN 600727 (check digit valid); a second meter 07770000201
VOLUME_DRN = "07770000102"
AMOUNT_DRN = "07770000201"
SETTINGS: dict[str, Any] = {
    "overdraft": "5.000",
    "recharge_limit": "100.000",
    "low_credit_alarm": "2.000",
    "battery_low_1_v": "3.40",
    "battery_low_2_v": "3.20",
    "auto_clean_days": 30,
    "timezone": "Africa/Nairobi",
    "billing_day": 1,
}
#: litres a month by calendar month: more gas in the cool, wet months
SEASON = (
    11_200,
    11_600,
    12_100,
    13_400,
    14_800,
    16_300,
    17_100,
    16_900,
    14_700,
    12_900,
    11_800,
    11_300,
)
#: litres an hour by hour of day (UTC; Nairobi is UTC+3): breakfast and supper
DAY = (0, 0, 20, 160, 240, 90, 30, 10, 0, 60, 110, 40, 10, 0, 30, 210, 320, 180, 60, 10, 0, 0, 0, 0)


def m3(litres: int) -> str:
    """Litres as m³ text with three decimals."""
    return f"{litres // 1000}.{litres % 1000:03d}"


def months(first: tuple[int, int], count: int) -> list[str]:
    """``count`` months from (year, month) on, as YYYY-MM."""
    y, m = first
    out = []
    for _ in range(count):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def readout(
    drn: str,
    read_at: str,
    monthly: list[dict[str, str]],
    hourly: list[dict[str, str]],
    events: list[dict[str, str]],
    *,
    mode: str = "volume",
    registers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """One readout file's object."""
    return {
        "format": "stsgas-readout/1",
        "meter_number": drn,
        "read_at": read_at,
        "mode": mode,
        "registers": registers
        or {"credit": "12.345", "total_m3": "0.000", "battery_v": "3.55", "valve": "open"},
        "settings": SETTINGS,
        "monthly": monthly,
        "hourly": hourly,
        "events": events,
    }


def hours(end: datetime, count: int, growth: int = 0) -> list[dict[str, str]]:
    """The ``count`` hours before ``end``, oldest first, with the day's pattern."""
    start = end - timedelta(hours=count)
    out = []
    for i in range(count):
        at = start + timedelta(hours=i)
        litres = DAY[at.hour] + (growth if DAY[at.hour] else 0)
        out.append({"hour": at.isoformat(), "volume_m3": m3(litres)})
    return out


def ten_years() -> dict[str, Any]:
    """The 120-month readout."""
    names = months((2017, 1), 120)
    monthly = []
    for i, name in enumerate(names):
        litres = SEASON[int(name[5:]) - 1] + 37 * i  # the household grows a little
        if name == "2026-12":
            litres = 2_410  # four days and ten hours of December
        monthly.append({"month": name, "volume_m3": m3(litres)})
    total = sum(int(m["volume_m3"].replace(".", "")) for m in monthly) + 153_000
    events = [
        {"at": "2019-03-02T07:14:00+03:00", "code": "battery_replacement", "detail": ""},
        {"at": "2023-06-11T22:40:05+03:00", "code": "power_down", "detail": ""},
        {"at": "2023-06-11T22:41:30+03:00", "code": "power_up", "detail": ""},
        {"at": "2026-11-20T03:12:44+03:00", "code": "magnetic_interference", "detail": "450 mT"},
        {"at": "2026-11-20T09:30:00+03:00", "code": "tamper_cleared", "detail": ""},
        {"at": "2026-12-03T18:05:00+03:00", "code": "battery_low_1", "detail": "3.38 V"},
    ]
    registers = {"credit": "7.125", "total_m3": m3(total), "battery_v": "3.38", "valve": "open"}
    end = datetime(2026, 12, 5, 7, tzinfo=UTC)
    return readout(
        VOLUME_DRN,
        "2026-12-05T10:00:00+03:00",
        monthly,
        hours(end, 14 * 24),
        events,
        registers=registers,
    )


def overlapping() -> tuple[dict[str, Any], dict[str, Any]]:
    """Readout A (15 November) and B (5 December): October and November overlap."""
    a = readout(
        VOLUME_DRN,
        "2026-11-15T09:00:00+00:00",
        [
            {"month": "2026-09", "volume_m3": "14.700"},
            {"month": "2026-10", "volume_m3": "12.900"},
            {"month": "2026-11", "volume_m3": "5.000"},
        ],
        hours(datetime(2026, 11, 15, 9, tzinfo=UTC), 24),
        [
            {"at": "2026-10-02T06:00:00+00:00", "code": "power_down", "detail": ""},
            {"at": "2026-11-14T20:00:00+00:00", "code": "valve_close_failure", "detail": ""},
        ],
    )
    b = readout(
        VOLUME_DRN,
        "2026-12-05T09:00:00+00:00",
        [
            {"month": "2026-10", "volume_m3": "12.900"},
            {"month": "2026-11", "volume_m3": "11.800"},
            {"month": "2026-12", "volume_m3": "2.100"},
        ],
        hours(datetime(2026, 11, 15, 21, tzinfo=UTC), 24, growth=5),
        [
            {"at": "2026-11-14T20:00:00+00:00", "code": "valve_close_failure", "detail": ""},
            {"at": "2026-12-01T04:00:00+00:00", "code": "leak_shutoff", "detail": "600 s"},
        ],
    )
    return a, b


def amount_meter() -> dict[str, Any]:
    """An amount meter's readout: months with volume and the money charged."""
    monthly = [
        {"month": "2026-09", "volume_m3": "10.000", "amount": "30.00"},
        {"month": "2026-10", "volume_m3": "12.000", "amount": "36.00"},
        {"month": "2026-11", "volume_m3": "20.000", "amount": "60.00"},
    ]
    settings_amount = dict(SETTINGS, overdraft="5.00", timezone="UTC")
    data = readout(
        AMOUNT_DRN,
        "2026-12-01T08:00:00+00:00",
        monthly,
        [],
        [],
        mode="amount",
        registers={"credit": "4.00", "total_m3": "42.000", "battery_v": "3.51", "valve": "open"},
    )
    data["settings"] = settings_amount
    return data


def as_csv(data: dict[str, Any]) -> str:
    """The same readout in the CSV spelling (``section,name,time,value``)."""
    lines = ["section,name,time,value"]
    lines += [f"meter,{key},,{data[key]}" for key in ("meter_number", "read_at", "mode")]
    lines += [f"register,{k},,{v}" for k, v in data["registers"].items()]
    lines += [f"setting,{k},,{v}" for k, v in data["settings"].items()]
    lines += [f"monthly,volume_m3,{m['month']},{m['volume_m3']}" for m in data["monthly"]]
    lines += [f"hourly,volume_m3,{h['hour']},{h['volume_m3']}" for h in data["hourly"]]
    lines += [f"event,{e['code']},{e['at']},{e['detail']}" for e in data["events"]]
    return "\n".join(lines) + "\n"


def write(name: str, data: dict[str, Any]) -> None:
    """One fixture, pretty enough to read, ending in a newline."""
    (HERE / name).write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    write("office-120m.json", ten_years())
    first, second = overlapping()
    write("office-a.json", first)
    (HERE / "office-a.csv").write_text(as_csv(first), encoding="utf-8", newline="")
    write("office-b.json", second)
    write("office-amount.json", amount_meter())
