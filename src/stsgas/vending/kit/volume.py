"""Named volume scales: the vending side keeps gas in litres, tokens carry 0.1 m³.

A volume is never divided by a bare 1000 or 10: a litre count times
:data:`LITRE` is cubic metres (``stsgas.sts.GAS_UNIT`` is the token's unit).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from stsgas.sts import GAS_UNIT

__all__ = ["LITRE", "LITRES_PER_M3", "LITRES_PER_UNIT"]

#: one litre in cubic metres
LITRE: Final = Decimal("0.001")
#: litres in one cubic metre (a price per m³ over a litre count)
LITRES_PER_M3: Final = 1000
#: litres in the 0.1 m³ unit of a gas credit token (``GAS_UNIT``)
LITRES_PER_UNIT: Final = int(GAS_UNIT / LITRE)
