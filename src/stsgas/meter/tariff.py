"""The 10-step monthly gas tariff, billed in exact fixed point.

Money is an integer count of 1e-5 of the base currency (the unit of an STS
currency token). Prices are money units per m3; volume is whole litres. The
cost of ``L`` litres at price ``p`` is ``L * p / 1000`` money units: the
meter keeps the numerator's remainder (``carry``, in 1/1000 money units) and
carries it to the next increment, so rounding never creates or loses money.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from stsgas.sts import LITRES_PER_M3

__all__ = [
    "MONEY_SCALE",
    "RATE_COUNTS_PER_MONEY",
    "Step",
    "Tariff",
    "money_to_units",
    "units_to_money",
]

#: money units per 1 of the base currency (STS currency tokens count 1e-5).
MONEY_SCALE = 100_000
#: tariff-rate token counts per 1 of the base currency: its rate is in 0.01 money per m³
RATE_COUNTS_PER_MONEY = 100
MAX_STEPS = 10


def money_to_units(value: Decimal | str | int) -> int:
    """A decimal amount of money as integer 1e-5 units (exact or ValueError)."""
    units = Decimal(value) * MONEY_SCALE
    if units != units.to_integral_value():
        raise ValueError(f"{value} has more than 5 decimals")
    return int(units)


def units_to_money(units: int) -> Decimal:
    """Integer 1e-5 units as a Decimal with 2+ decimals, trailing zeros trimmed past 2."""
    value = Decimal(units) / MONEY_SCALE
    return value.quantize(Decimal("0.01")) if value == value.quantize(Decimal("0.01")) else value


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    """One step: applies to the monthly volume below ``up_to_l`` (None = no top)."""

    up_to_l: int | None
    price: int  # money units per m3


@dataclass(frozen=True, slots=True, kw_only=True)
class Tariff:
    """Ascending steps on the month's accumulated volume; the last one is open-ended."""

    steps: tuple[Step, ...]

    def __post_init__(self) -> None:
        if not 1 <= len(self.steps) <= MAX_STEPS:
            raise ValueError(f"a tariff has 1 to {MAX_STEPS} steps")
        tops = [s.up_to_l for s in self.steps]
        if tops[-1] is not None or any(t is None for t in tops[:-1]):
            raise ValueError("only the last tariff step is open-ended (up_to_m3 null)")
        bounded = [t for t in tops if t is not None]
        if bounded != sorted(set(bounded)) or (bounded and bounded[0] <= 0):
            raise ValueError("tariff step tops must be positive and ascending")
        if any(s.price < 0 for s in self.steps):
            raise ValueError("tariff prices are not negative")

    @classmethod
    def flat(cls, price: int) -> Tariff:
        """One step at ``price`` money units per m3."""
        return cls(steps=(Step(up_to_l=None, price=price),))

    @classmethod
    def from_json(cls, doc: object) -> Tariff:
        """From the scenario form ``[{"up_to_m3": "10", "price": "2.50"}, ...]``."""
        if not isinstance(doc, list):
            raise ValueError("tariff must be a list of steps")
        steps = []
        for item in doc:
            if not isinstance(item, dict) or "price" not in item:
                raise ValueError("each tariff step needs up_to_m3 and price")
            top = item.get("up_to_m3")
            litres = None if top is None else Decimal(str(top)) * LITRES_PER_M3
            if litres is not None and litres != litres.to_integral_value():
                raise ValueError("tariff step tops are whole litres")
            steps.append(
                Step(
                    up_to_l=None if litres is None else int(litres),
                    price=money_to_units(str(item["price"])),
                )
            )
        return cls(steps=tuple(steps))

    def to_json(self) -> list[dict[str, str | None]]:
        """The scenario form (decimal strings)."""
        return [
            {
                "up_to_m3": None if s.up_to_l is None else str(Decimal(s.up_to_l) / LITRES_PER_M3),
                "price": str(units_to_money(s.price)),
            }
            for s in self.steps
        ]

    def step_at(self, month_l: int) -> int:
        """Index of the step that prices the next litre after ``month_l`` litres."""
        for i, s in enumerate(self.steps):
            if s.up_to_l is None or month_l < s.up_to_l:
                return i
        return len(self.steps) - 1

    def cost_milli(self, month_l: int, litres: int) -> int:
        """Exact cost of ``litres`` after ``month_l`` this month, in 1/1000 money units."""
        if len(self.steps) == 1:
            return litres * self.steps[0].price
        total = 0
        pos = month_l
        left = litres
        for s in self.steps:
            if left <= 0:
                break
            if s.up_to_l is not None and pos >= s.up_to_l:
                continue
            part = left if s.up_to_l is None else min(left, s.up_to_l - pos)
            total += part * s.price
            pos += part
            left -= part
        return total
