"""stsgas.sim — run meters over simulated time: household profiles, recharges, fleets.

The meter core is sans-IO; the simulator jumps from one moment that matters
to the next (the meter's own deadline, the household's next draw, the next
recharge) and never sleeps, so a decade of meter life runs in seconds.
"""

from stsgas.sim.profiles import Draw, HouseholdProfile, LitreCounter, draws

__all__ = ["Draw", "HouseholdProfile", "LitreCounter", "draws"]
