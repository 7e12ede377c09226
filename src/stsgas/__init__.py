"""stsgas: STS (IEC 62055-41) prepaid gas metering.

Parts: :mod:`stsgas.sts` (the token library), :mod:`stsgas.meter` (the meter's
firmware model), :mod:`stsgas.sim` (time-driven simulation) and
:mod:`stsgas.vending` (the vending system).
"""

__version__ = "0.1.0"
