"""The readout as CSV (the spelling the IR readout writes beside the JSON).

One header row ``section,name,time,value``, then one row per value:

* ``meter,meter_number,,NUMBER`` / ``meter,read_at,,ISO`` / ``meter,mode,,volume``
* ``register,NAME,,VALUE`` and ``setting,NAME,,VALUE``
* ``monthly,volume_m3,YYYY-MM,M3`` (``monthly,amount,YYYY-MM,MONEY`` too, when known),
  ``hourly,volume_m3,ISO,M3`` and ``event,CODE,ISO,DETAIL``

It is turned into the JSON readout's object and checked by the same rules
(:func:`stsgas.vending.readouts.parse.parse_readout`), so both spellings of one
reading merge into the same rows.
"""

from __future__ import annotations

import csv
import io
from typing import Any, Final

from stsgas.vending.readouts.errors import BadReadout

__all__ = ["HEADER", "csv_body", "is_csv"]

HEADER: Final = "section,name,time,value"
_METER: Final = ("meter_number", "read_at", "mode")


def is_csv(content: bytes) -> bool:
    """True when ``content`` starts with the CSV readout's header."""
    return content.lstrip(b"\xef\xbb\xbf").startswith(HEADER.encode())


def _month(body: dict[str, Any], months: dict[str, dict[str, str]], month: str) -> dict[str, str]:
    if month not in months:
        months[month] = {"month": month}
        body["monthly"].append(months[month])
    return months[month]


def csv_body(content: bytes) -> dict[str, Any]:
    """The readout object the CSV rows spell (its values checked later, as JSON's are)."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadReadout("the CSV file is not UTF-8") from None
    rows = csv.reader(io.StringIO(text, newline=""))
    next(rows)  # the header, checked by is_csv
    body: dict[str, Any] = {
        "format": "stsgas-readout/1",
        "registers": {},
        "settings": {},
        "monthly": [],
        "hourly": [],
        "events": [],
    }
    months: dict[str, dict[str, str]] = {}
    try:
        for number, row in enumerate(rows, start=2):
            if not row or not any(row):
                continue
            section, name, time, value = [*row, "", "", ""][:4]
            if section == "meter" and name in _METER:
                body[name] = value
            elif section in ("register", "setting"):
                body[section + "s"][name] = value
            elif section == "monthly" and name in ("volume_m3", "amount"):
                _month(body, months, time)[name] = value
            elif section == "hourly" and name == "volume_m3":
                body["hourly"].append({"hour": time, "volume_m3": value})
            elif section == "event":
                body["events"].append({"at": time, "code": name, "detail": value})
            else:
                raise BadReadout(f"line {number}: unknown row {section[:20]!r},{name[:40]!r}")
    except csv.Error as exc:
        raise BadReadout(f"the CSV file is malformed: {exc}") from None
    return body
