"""Meters: identity (IIN + DRN), mode, key data, status, customer link, lookup."""
