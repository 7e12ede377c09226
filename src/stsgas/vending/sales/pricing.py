"""Split a payment into its receipt items: a pure function, no database.

Order of deductions (each on the receipt): the fixed charge, then debt
recovery (a share of what is left, capped at the debt), then tax (the
remainder is tax-inclusive), then the energy amount. By-volume meters turn
the energy amount into gas by the step tariff on the month's purchases so
far, floored to the token's 0.1 m³; the sale then charges exactly that gas
and its tax, and the rest of the money is change. By-amount meters are
credited the money and apply their own tariff.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from stsgas.vending.errors import BadAmount
from stsgas.vending.kit.volume import LITRES_PER_M3, LITRES_PER_UNIT


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    """A price block: up to ``up_to_litres`` of the month's volume (None = no limit)."""

    up_to_litres: int | None
    price_per_m3: int


@dataclass(frozen=True, slots=True, kw_only=True)
class StepUse:
    """How much of one step a sale used."""

    position: int
    litres: int
    price_per_m3: int
    amount: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Priced:
    """The itemised payment, all money in minor units.

    ``paid`` is what the sale takes (the sum of the items); ``change`` is what
    the customer handed over beyond it (``tendered``).
    """

    paid: int
    fixed_charge: int
    debt_recovered: int
    tax: int
    energy_amount: int
    #: credit in 0.1 m³ (volume meters) — None for amount meters
    credit_units: int | None
    #: credit in minor units (amount meters) — None for volume meters
    credit_money: int | None
    steps: list[StepUse] = field(default_factory=list)
    #: money handed over that buys nothing (less than the next 0.1 m³ with its tax)
    change: int = 0
    #: months the fixed charge covers (None: the tariff charges it per sale)
    fixed_months: int | None = None

    @property
    def tendered(self) -> int:
        """The money the customer handed over."""
        return self.paid + self.change


def price(
    *,
    paid: int,
    volume_mode: bool,
    fixed_charge: int,
    tax_rate_bp: int,
    debt_recovery_bp: int,
    debt: int,
    steps: list[Step],
    month_litres: int,
    fixed_months: int | None = None,
) -> Priced:
    """Itemise ``paid`` (minor units, as tendered); raise BadAmount when nothing is
    left to credit.

    A volume sale is refused exactly when the money left after the fixed charge
    and the debt cannot pay the next 0.1 m³ and its tax; otherwise it charges
    the credited gas and its tax, and the rest is change.
    """
    if paid <= 0:
        raise BadAmount("the amount must be positive")
    if paid <= fixed_charge:
        raise BadAmount(f"the amount does not cover the fixed charge of {fixed_charge} minor units")
    rest = paid - fixed_charge
    recovered = min(debt, rest * debt_recovery_bp // 10_000)
    rest -= recovered
    energy = rest * 10_000 // (10_000 + tax_rate_bp)
    if not volume_mode:
        if energy <= 0:
            raise BadAmount("the amount leaves nothing to credit after charges and tax")
        return Priced(
            paid=paid,
            fixed_charge=fixed_charge,
            debt_recovered=recovered,
            tax=rest - energy,
            energy_amount=energy,
            credit_units=None,
            credit_money=energy,
            fixed_months=fixed_months,
        )
    units = sum(u.litres for u in _walk_steps(energy, steps, month_litres)) // LITRES_PER_UNIT
    if units <= 0:
        raise BadAmount("the amount buys less than 0.1 m³ of gas")
    uses = cost_of_litres(units * LITRES_PER_UNIT, steps, month_litres)
    gas = sum(u.amount for u in uses)
    tax = tax_on(gas, tax_rate_bp)
    change = rest - gas - tax
    return Priced(
        paid=paid - change,
        fixed_charge=fixed_charge,
        debt_recovered=recovered,
        tax=tax,
        energy_amount=gas,
        credit_units=units,
        credit_money=None,
        steps=uses,
        change=change,
        fixed_months=fixed_months,
    )


def tax_on(energy: int, tax_rate_bp: int) -> int:
    """The tax on an energy amount, rounded up to the minor unit."""
    return -(-energy * tax_rate_bp // 10_000)


def cost_of_litres(litres: int, steps: list[Step], month_litres: int) -> list[StepUse]:
    """What ``litres`` cost step by step, starting where the month's purchases left off
    (each step's share rounded up to the minor unit)."""
    if not steps:
        raise BadAmount("the meter's tariff has no price steps")
    uses: list[StepUse] = []
    used = month_litres
    for pos, step in enumerate(steps, start=1):
        if litres <= 0:
            break
        upper = step.up_to_litres
        if upper is not None and used >= upper:
            continue
        take = litres if upper is None else min(litres, upper - used)
        uses.append(
            StepUse(
                position=pos,
                litres=take,
                price_per_m3=step.price_per_m3,
                amount=-(-take * step.price_per_m3 // LITRES_PER_M3),
            )
        )
        used += take
        litres -= take
    return uses


def _walk_steps(money: int, steps: list[Step], month_litres: int) -> list[StepUse]:
    """Buy litres step by step, starting where the month's purchases left off."""
    if not steps:
        raise BadAmount("the meter's tariff has no price steps")
    uses: list[StepUse] = []
    used = month_litres
    lower = 0
    for pos, step in enumerate(steps, start=1):
        upper = step.up_to_litres
        if upper is not None and used >= upper:
            lower = upper
            continue
        room = None if upper is None else upper - max(used, lower)
        affordable = money * LITRES_PER_M3 // step.price_per_m3
        litres = affordable if room is None else min(room, affordable)
        if litres > 0:
            cost = min(money, -(-litres * step.price_per_m3 // LITRES_PER_M3))
            uses.append(
                StepUse(position=pos, litres=litres, price_per_m3=step.price_per_m3, amount=cost)
            )
            money -= cost
            used += litres
        if money <= 0 or litres == affordable:
            break
        lower = upper if upper is not None else lower
    return uses
