"""Named volume scales: the vending side keeps gas in litres, tokens carry 0.1 m³.

A volume is never divided by a bare 1000 or 10: a litre count times
:data:`LITRE` is cubic metres (``stsgas.sts.GAS_UNIT`` is the token's unit). The
scales are defined once, in :mod:`stsgas.sts.amount` beside the token's unit, for the
meter and the vending side alike; this module names them for the vending package.
"""

from __future__ import annotations

from stsgas.sts import LITRE, LITRES_PER_M3, LITRES_PER_UNIT

__all__ = ["LITRE", "LITRES_PER_M3", "LITRES_PER_UNIT"]
