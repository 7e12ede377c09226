"""Operators, roles, password login, API tokens and lockout (V4)."""
