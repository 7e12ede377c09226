"""The credit policies' arithmetic: a pure step inside a sale's pricing, no database.

A customer with a policy is priced in this order, each part its own receipt line:

1. **Free basic gas** (the customer's class, once per customer and calendar month,
   whatever the channel): the month's first litres (volume) or money (amount) are
   added to the token free; the utility books their tariff value as given away.
2. **Emergency credit repaid**: an advance given with an earlier sale is taken back
   from this payment (after the fixed charge), at most half of what is left so
   the sale still buys gas; what is not repaid waits for the next sale.
3. **Debt instalment** (a plan): a fixed amount or a share of what is left,
   raised to the plan's minimum and cut to its maximum, and never more than the
   debt or what is left. Without a plan the tariff's recovery share applies.
4. The rest buys gas as any sale does (:func:`stsgas.vending.sales.pricing.price`),
   after the free gas in the month's step blocks.
5. **Emergency credit given**: an advance the customer asked for is sold on credit
   with this sale (gas and its tax, no fixed charge) and becomes debt.
"""

from __future__ import annotations

from dataclasses import dataclass

from stsgas.vending.errors import BadAmount
from stsgas.vending.kit.volume import LITRES_PER_UNIT
from stsgas.vending.sales import pricing

FREE_GAS = "free_gas"
EMERGENCY_GIVEN = "emergency_credit"
EMERGENCY_REPAID = "emergency_repaid"
INSTALMENT = "debt_instalment"

LABELS = {
    FREE_GAS: "Free basic gas",
    EMERGENCY_GIVEN: "Emergency credit given",
    EMERGENCY_REPAID: "Emergency credit repaid",
    INSTALMENT: "Debt instalment",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class DebtPlan:
    """How a customer's debt is recovered per sale (money in minor units)."""

    kind: str  #: "fixed" or "percent"
    amount: int | None = None
    bp: int | None = None
    min: int | None = None
    max: int | None = None

    def instalment(self, base: int, debt: int) -> int:
        """What a sale leaving ``base`` (after the fixed charge and any emergency
        repayment) recovers of ``debt``: within the plan's bounds, never more than
        the debt or ``base``."""
        raw = (self.amount or 0) if self.kind == "fixed" else base * (self.bp or 0) // 10_000
        if self.min is not None:
            raw = max(raw, self.min)
        if self.max is not None:
            raw = min(raw, self.max)
        return max(0, min(raw, debt, base))


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyState:
    """A customer's policy as a sale reads it (under the customer's row lock)."""

    customer_id: int
    #: the customer's debt balance (emergency credit owed is part of it)
    debt: int
    #: "YYYY-MM": the utility's calendar month of the sale
    month: str
    #: free gas due this month (None: no class allowance, or given already this month)
    free_litres: int | None = None
    free_money: int | None = None
    emergency_asked: int = 0
    emergency_owed: int = 0
    plan: DebtPlan | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyLine:
    """One policy line of a receipt: its value in minor units and, for gas given to a
    volume meter, the gas in 0.1 m³ units."""

    kind: str
    amount: int
    units: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyPriced(pricing.Priced):
    """A sale priced under a policy: the token's credit includes the free gas and the
    advance; ``lines`` are the receipt's policy lines, in order."""

    state: PolicyState
    lines: tuple[PolicyLine, ...] = ()
    #: the tariff value of the free gas given (0: none)
    free_value: int = 0
    #: the advance given, itemised as its own credit sale (None: none)
    advance: pricing.Priced | None = None
    emergency_repaid: int = 0

    def line(self, kind: str) -> PolicyLine | None:
        """The line of ``kind``, if the sale has one."""
        return next((ln for ln in self.lines if ln.kind == kind), None)


def price(
    *,
    cash: int,
    volume_mode: bool,
    fixed_charge: int,
    fixed_months: int | None,
    tax_rate_bp: int,
    debt_recovery_bp: int,
    steps: list[pricing.Step],
    month_litres: int,
    state: PolicyState,
) -> PolicyPriced:
    """Itemise ``cash`` (minor units) for a customer under ``state``; BadAmount as
    :func:`pricing.price` when nothing is left to credit."""
    if cash <= fixed_charge:
        raise BadAmount(f"the amount does not cover the fixed charge of {fixed_charge} minor units")
    rest = cash - fixed_charge
    repaid = min(state.emergency_owed, state.debt, rest // 2)
    base = rest - repaid
    plan_debt = max(0, state.debt - state.emergency_owed)
    if state.plan is not None:
        instalment = state.plan.instalment(base, plan_debt)
    else:
        instalment = min(plan_debt, base * debt_recovery_bp // 10_000)
    lines: list[PolicyLine] = []
    free_units, free_money, free_value = 0, 0, 0
    offset = month_litres
    if volume_mode and state.free_litres:
        free_units = state.free_litres // LITRES_PER_UNIT
        litres = free_units * LITRES_PER_UNIT
        free_value = sum(u.amount for u in pricing.cost_of_litres(litres, steps, offset))
        offset += litres
    elif not volume_mode and state.free_money:
        free_money = free_value = state.free_money
    if free_units or free_money:
        lines.append(PolicyLine(kind=FREE_GAS, amount=free_value, units=free_units or None))
    if repaid:
        lines.append(PolicyLine(kind=EMERGENCY_REPAID, amount=repaid))
    if instalment and state.plan is not None:
        lines.append(PolicyLine(kind=INSTALMENT, amount=instalment))
    paid = pricing.price(
        paid=cash,
        volume_mode=volume_mode,
        fixed_charge=fixed_charge,
        tax_rate_bp=tax_rate_bp,
        debt_recovery_bp=10_000,  # exactly what the policy recovers (≤ what is left)
        debt=repaid + instalment,
        steps=steps,
        month_litres=offset,
        fixed_months=fixed_months,
    )
    advance = None
    if state.emergency_asked:
        bought = (paid.credit_units or 0) * LITRES_PER_UNIT
        try:
            advance = pricing.price(
                paid=state.emergency_asked,
                volume_mode=volume_mode,
                fixed_charge=0,
                tax_rate_bp=tax_rate_bp,
                debt_recovery_bp=0,
                debt=0,
                steps=steps,
                month_litres=offset + bought,
            )
        except BadAmount:
            raise BadAmount("the emergency credit asked for buys no gas at this tariff") from None
        lines.append(
            PolicyLine(kind=EMERGENCY_GIVEN, amount=advance.paid, units=advance.credit_units)
        )
    extra_units = free_units + (0 if advance is None else advance.credit_units or 0)
    extra_money = free_money + (0 if advance is None else advance.credit_money or 0)
    return PolicyPriced(
        paid=paid.paid,
        fixed_charge=paid.fixed_charge,
        debt_recovered=paid.debt_recovered,
        tax=paid.tax,
        energy_amount=paid.energy_amount,
        credit_units=None if paid.credit_units is None else paid.credit_units + extra_units,
        credit_money=None if paid.credit_money is None else paid.credit_money + extra_money,
        steps=paid.steps,
        change=paid.change,
        fixed_months=paid.fixed_months,
        state=state,
        lines=tuple(lines),
        free_value=free_value,
        advance=advance,
        emergency_repaid=repaid,
    )
