"""Shared helpers of the vending domains: problem+json, repository base, hashing."""
