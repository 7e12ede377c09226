"""Meter readouts: files read from meters in the field, merged per meter.

``parse`` reads and checks a ``stsgas-readout/1`` file (no database), ``store``
keeps it once and merges its history, ``reconcile`` sets what the meter used
against what was sold to it, ``visits`` flags meters whose events need someone
to go there. See docs/vending.md, "Meter readouts".
"""
