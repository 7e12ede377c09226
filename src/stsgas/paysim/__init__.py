"""A local stand-in for a mobile-money provider (M-Pesa Daraja C2B shaped), as its own process.

It takes "customer pays" requests (HTTP form, JSON, or the CLI), calls the
merchant's confirmation URL like the real provider (retrying while that
fails), and answers the OAuth client-credentials token endpoint and the
transaction-status query the merchant verifies payments with. It knows
nothing of the vending system: only the HTTP shapes.
"""
