"""Operations: health probes (``/healthz``, ``/readyz``) and Prometheus ``/metrics``.

:func:`install` adds the probes and the metrics route, and the metrics
middleware as the app's outermost layer, where every answer of both sale
paths passes (see :mod:`.metrics`).
"""

from __future__ import annotations

from fastapi import FastAPI

from stsgas.vending.ops import health, metrics


def install(app: FastAPI) -> None:
    """Add the probes, ``/metrics`` and the metrics middleware (call it last)."""
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.add_middleware(metrics.Metrics)
