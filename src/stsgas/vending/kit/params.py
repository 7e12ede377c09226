"""Request parameter types shared by the endpoints.

Row ids are 64-bit: a larger number in a path is a 422 like any other bad
input, not a driver overflow (a 500) when it reaches the database.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

MAX_ROW_ID = 2**63 - 1

#: a row id in a path: 1 .. 2^63 - 1
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
#: how many rows a page skips: 0 .. 2^63 - 1
Offset = Annotated[int, Query(ge=0, le=MAX_ROW_ID)]
