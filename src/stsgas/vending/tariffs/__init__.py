"""Tariffs: versioned price steps with effective dates, fixed charge, tax, debt recovery.

The payment split itself (money → itemised receipt → m³) is the pure
function ``stsgas.vending.sales.pricing.price``; this package keeps the
tariffs and finds the version in force.
"""
