"""Management tokens (clear credit, clear tamper, set tariff, key change), four-eyes."""
