"""The readout tests' fixtures live in ``office`` (the web tests import them too)."""

from tests.vending.readouts.office import office  # noqa: F401  (fixture)
