"""The readout as CSV, for tools that write spreadsheets: one record a line.

The header is ``record,key,value,detail``; each line is one of

* ``format,stsgas-readout/1`` / ``meter_number,NUMBER`` / ``read_at,ISO`` / ``mode,volume``
* ``register,NAME,VALUE`` and ``setting,NAME,VALUE``
* ``month,YYYY-MM,M3[,AMOUNT]``, ``hour,ISO,M3``, ``event,ISO,CODE[,DETAIL]``

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

HEADER: Final = "record,key,value,detail"
_TOP: Final = ("format", "meter_number", "read_at", "mode")


def is_csv(content: bytes) -> bool:
    """True when ``content`` starts with the CSV readout's header."""
    return content.lstrip(b"\xef\xbb\xbf").startswith(HEADER.encode())


def csv_body(content: bytes) -> dict[str, Any]:
    """The readout object the CSV lines spell (its values checked later, as JSON's are)."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadReadout("the CSV file is not UTF-8") from None
    rows = csv.reader(io.StringIO(text, newline=""))
    next(rows)  # the header, checked by is_csv
    body: dict[str, Any] = {
        "registers": {},
        "settings": {},
        "monthly": [],
        "hourly": [],
        "events": [],
    }
    try:
        for number, row in enumerate(rows, start=2):
            if not row or not any(row):
                continue
            kind, rest = row[0], [*row[1:], "", "", ""]
            if kind in _TOP:
                body[kind] = rest[0]
            elif kind in ("register", "setting"):
                body[kind + "s"][rest[0]] = rest[1]
            elif kind == "month":
                month = {"month": rest[0], "volume_m3": rest[1]}
                if rest[2]:
                    month["amount"] = rest[2]
                body["monthly"].append(month)
            elif kind == "hour":
                body["hourly"].append({"hour": rest[0], "volume_m3": rest[1]})
            elif kind == "event":
                body["events"].append({"at": rest[0], "code": rest[1], "detail": rest[2]})
            else:
                raise BadReadout(f"line {number}: unknown record {kind[:40]!r}")
    except csv.Error as exc:
        raise BadReadout(f"the CSV file is malformed: {exc}") from None
    return body
