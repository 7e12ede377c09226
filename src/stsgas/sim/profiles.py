"""Household gas consumption profiles: cooking, hot water and space heating.

A profile turns an hour of simulated time into a whole number of litres. The
shape is a household's day (breakfast, lunch and dinner peaks for cooking,
morning and evening peaks for heating) scaled by the season (heating follows
a cosine "degree-day" curve over the year) and by a seeded random day factor,
so two runs with one seed give the same litres to the litre.

Why integers: the meter registers integer litres. Floats are used only for
the smooth shape; :class:`LitreCounter` carries each hour's fractional
remainder into the next hour, so rounding never loses or creates gas over a
decade.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

__all__ = [
    "COOKING_SHAPE",
    "HEATING_SHAPE",
    "Draw",
    "HouseholdProfile",
    "LitreCounter",
    "draw_pairs",
    "draws",
]

#: Share of a day's cooking gas in each hour (0-23): breakfast, lunch, dinner.
COOKING_SHAPE: Final[tuple[float, ...]] = (
    0, 0, 0, 0, 0, 0, 0.04, 0.14, 0.06, 0.01, 0.02, 0.10,
    0.16, 0.04, 0.01, 0.01, 0.03, 0.12, 0.18, 0.06, 0.01, 0, 0, 0,
)  # fmt: skip
#: Share of a day's heating gas in each hour: warm mornings and evenings, low at night.
HEATING_SHAPE: Final[tuple[float, ...]] = (
    0.02, 0.02, 0.02, 0.02, 0.02, 0.04, 0.08, 0.08, 0.06, 0.04, 0.03, 0.03,
    0.03, 0.03, 0.03, 0.03, 0.04, 0.06, 0.07, 0.07, 0.06, 0.05, 0.04, 0.03,
)  # fmt: skip
#: Share of a day's hot water gas in each hour: showers in the morning, dishes at night.
WATER_SHAPE: Final[tuple[float, ...]] = (
    0, 0, 0, 0, 0, 0.03, 0.18, 0.20, 0.08, 0.03, 0.02, 0.02,
    0.03, 0.03, 0.02, 0.02, 0.02, 0.04, 0.06, 0.08, 0.07, 0.05, 0.01, 0,
)  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class Draw:
    """Gas drawn by the household: ``litres`` (whole litres) registered at ``at``."""

    at: datetime
    litres: int


@dataclass(frozen=True, slots=True, kw_only=True)
class HouseholdProfile:
    """A household's gas use; defaults are a family that cooks, showers and heats with gas.

    Litres per day are means; each day gets a random factor (seeded) and
    weekends cook a little more. Heating follows the outdoor temperature:
    ``heating_l_per_degree_day`` litres for each degree the day's mean is
    below ``heating_base_c``.
    """

    cooking_l_per_day: float = 450.0
    hot_water_l_per_day: float = 350.0
    heating_l_per_degree_day: float = 220.0
    heating_base_c: float = 15.5
    mean_temp_c: float = 11.0
    temp_swing_c: float = 9.0
    coldest_day_of_year: int = 20
    weekend_cooking_factor: float = 1.25
    day_spread: float = 0.25  #: sd of the lognormal day factor
    away_days_per_year: int = 14  #: days the family is away (cooking and water stop)

    def day_temperature(self, day: datetime, rng: random.Random) -> float:
        """The day's mean outdoor temperature (°C): season curve plus weather noise."""
        phase = 2 * math.pi * (day.timetuple().tm_yday - self.coldest_day_of_year) / 365.25
        return self.mean_temp_c - self.temp_swing_c * math.cos(phase) + rng.gauss(0.0, 2.5)

    def day_litres(self, day: datetime, rng: random.Random) -> tuple[float, float, float]:
        """Mean litres for (cooking, hot water, heating) on ``day``, before the hourly split."""
        away = rng.random() < self.away_days_per_year / 365.0
        factor = math.exp(rng.gauss(0.0, self.day_spread))
        weekend = self.weekend_cooking_factor if day.weekday() >= 5 else 1.0
        temp = self.day_temperature(day, rng)
        cooking = 0.0 if away else self.cooking_l_per_day * factor * weekend
        water = 0.0 if away else self.hot_water_l_per_day * factor
        heating = max(0.0, self.heating_base_c - temp) * self.heating_l_per_degree_day
        if away:
            heating *= 0.5  # the thermostat is turned down, not off
        return cooking, water, heating

    def hours(self, day: datetime, rng: random.Random) -> list[float]:
        """Litres (fractional) for each of the 24 hours of ``day``."""
        cooking, water, heating = self.day_litres(day, rng)
        out = []
        for h in range(24):
            mean = cooking * COOKING_SHAPE[h] + water * WATER_SHAPE[h] + heating * HEATING_SHAPE[h]
            out.append(mean * (0.7 + 0.6 * rng.random()) if mean else 0.0)
        return out


@dataclass(slots=True)
class LitreCounter:
    """Turns fractional litres into whole litres, carrying the remainder (nothing is lost)."""

    carry: float = field(default=0.0)

    def take(self, litres: float) -> int:
        """Whole litres of ``litres`` plus the carried fraction; keeps the new fraction."""
        total = litres + self.carry
        whole = math.floor(total)
        self.carry = total - whole
        return whole


#: an hourly draw's offset from midnight: each hour's gas is registered at half past
_HALF_PAST: Final[tuple[timedelta, ...]] = tuple(timedelta(hours=h, minutes=30) for h in range(24))
_DINNER: Final = timedelta(hours=19, minutes=30)


def draws(
    profile: HouseholdProfile,
    *,
    start: datetime,
    end: datetime,
    seed: int,
    hourly: bool = True,
) -> Iterator[Draw]:
    """The household's draws from ``start`` (a whole day) up to ``end``, deterministic per seed.

    Args:
        hourly: one draw per hour with gas use (at 30 minutes past), else one a
            day (the day's total at 19:30, the dinner peak).
    """
    for at, litres in draw_pairs(profile, start=start, end=end, seed=seed, hourly=hourly):
        yield Draw(at=at, litres=litres)


def draw_pairs(
    profile: HouseholdProfile,
    *,
    start: datetime,
    end: datetime,
    seed: int,
    hourly: bool = True,
) -> Iterator[tuple[datetime, int]]:
    """:func:`draws` as plain (at, litres) pairs: the simulator's hot loop (a decade of
    hours) skips building a frozen value per hour. The same numbers, in the same order."""
    rng = random.Random(seed)
    carry = 0.0  # LitreCounter.take, inlined: the same float steps
    floor = math.floor
    day = start.replace(hour=0, minute=0, second=0, microsecond=0)
    one_day = timedelta(days=1)
    while day < end:
        litres = profile.hours(day, rng)
        whole_day = start <= day and day + one_day <= end  # every draw of the day is in range
        if hourly:
            for offset, amount in zip(_HALF_PAST, litres, strict=True):
                total = amount + carry
                whole = floor(total)
                carry = total - whole
                if whole:
                    at = day + offset
                    if whole_day or start <= at < end:
                        yield at, whole
        else:
            total = sum(litres) + carry
            whole = floor(total)
            carry = total - whole
            at = day + _DINNER
            if whole and start <= at < end:
                yield at, whole
        day += one_day
