"""Operations: health probes (``/healthz``, ``/readyz``) and Prometheus ``/metrics``.

:func:`install` adds the probes and the metrics route, and registers the
metrics observer with the request guard (the app's one ASGI wrapper), which
sees every answer of both sale paths (see :mod:`.metrics`).
"""

from __future__ import annotations

from fastapi import FastAPI

from stsgas.vending.ops import health, metrics


def install(app: FastAPI) -> None:
    """Add the probes, ``/metrics`` and the metrics observer."""
    app.include_router(health.router)
    app.include_router(metrics.router)
    metrics.install(app)
