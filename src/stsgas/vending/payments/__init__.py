"""Payments from providers (mobile money): verified, then turned into gas or wallet credit."""
