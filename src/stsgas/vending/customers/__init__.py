"""Customers: name, address, phone, debt."""
