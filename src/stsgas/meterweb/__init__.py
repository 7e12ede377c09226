"""The virtual meter in a browser: the sans-IO meter behind a small JSON API and one page.

``desk`` keeps the meters (each in its encrypted NVM file, like the terminal
meter) and turns requests into panel inputs with an injected clock; ``app``
serves the page and the API. It may import ``stsgas.meter`` and ``stsgas.sts``,
never the vending system: ``stsgas serve --demo`` composes the two in the CLI.
"""

from __future__ import annotations

from stsgas.meterweb.app import create_app
from stsgas.meterweb.desk import BadInput, MeterDesk, NoSuchMeter, Snapshot

__all__ = ["BadInput", "MeterDesk", "NoSuchMeter", "Snapshot", "create_app"]
