"""The app factory: ``create_app(settings)`` builds a FastAPI app on its own engine.

Nothing is created at import time, so tests and ``stsgas serve`` choose the
database (STYLE §3.8). The engine lives on ``app.state``; the lifespan
migrates (when asked) and disposes of it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from anyio import to_thread
from fastapi import FastAPI
from sqlalchemy import Engine

from stsgas.vending import apidocs, migrations, ops, web
from stsgas.vending.api import api_router
from stsgas.vending.db import make_engine, make_sessionmaker
from stsgas.vending.delivery import hook as delivery
from stsgas.vending.jobs import wiring as jobs
from stsgas.vending.keys import custody
from stsgas.vending.keys.security import SecurityModule
from stsgas.vending.kit import heap, problems
from stsgas.vending.kit.guard import RequestGuard
from stsgas.vending.payments import endpoints as payments
from stsgas.vending.sales.fast import SalePool
from stsgas.vending.sales.fast_http import FastSales
from stsgas.vending.settings import Settings
from stsgas.vending.sms import endpoints as sms
from stsgas.vending.ussd import endpoints as ussd


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    security_module: SecurityModule | None = None,
) -> FastAPI:
    """Build the vending API for ``settings``; pass ``engine`` to share one (tests).

    The security module defaults to the configured one: software under the master
    key (none configured: key operations answer 503 ``no_master_key``) or the
    PKCS#11 token of ``STSGAS_SECURITY_MODULE=pkcs11``.
    """
    settings = settings or Settings()
    if security_module is None:
        security_module = custody.security_module(settings)
    own_engine = engine is None
    engine = engine or make_engine(settings.database_url, pool_size=settings.pool_size)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.migrate_on_start:
            migrations.upgrade(settings.database_url, engine=engine)
        if settings.fast_sales and engine.dialect.name == "postgresql":
            dsn = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
            app.state.sale_pool = await SalePool.open(dsn, size=settings.pool_size)
        if app.state.jobs is not None:
            app.state.jobs.start()  # scheduled work: a thread on SQLite (vending.jobs)
        heap.settle()  # start-up's objects out of the collector's way (kit/heap.py)
        try:
            yield
        finally:
            if app.state.jobs is not None:
                await to_thread.run_sync(app.state.jobs.stop)
            deliverer = getattr(app.state, "delivery", None)
            if deliverer is not None:  # token SMS under way finish before the engine goes
                await to_thread.run_sync(deliverer.drain)
            await payments.close(app)  # sent marks; connections to the payment provider
            pool, app.state.sale_pool = app.state.sale_pool, None
            if pool is not None:
                await pool.close()
            if own_engine:
                engine.dispose()

    app = FastAPI(
        title="stsgas vending",
        version="0.1.0",
        summary="Sell gas to STS prepaid meters",
        openapi_url="/api/v1/openapi.json",
        docs_url=None,  # served by apidocs.install, with local assets
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.security_module = security_module
    #: the event-loop sale path's pool (PostgreSQL, opened by the lifespan)
    app.state.sale_pool = None
    problems.install(app)
    app.add_middleware(FastSales)
    app.add_middleware(payments.Callbacks)  # the mobile-money webhook, before the router
    app.add_middleware(RequestGuard)  # outermost: around both sale paths and every route
    app.include_router(api_router)
    apidocs.install(app)  # Swagger UI and ReDoc, offline
    web.install(app)  # console and POS page (docs/web.md)
    sms.install(app)  # the SMS webhook (docs/sms.md); a client of /api/v1 like the pages
    ussd.install(app)  # the USSD menu's callback (docs/sms.md); sells like SMS BUY
    payments.install(app)  # the mobile-money webhook and reconciliation (docs/payments.md)
    jobs.install(app)  # scheduled work and SMS reply retries; after sms (it wraps the gateway)
    delivery.install(app)  # tokens by SMS after each committed sale; after jobs (retries)
    ops.install(app)  # /healthz, /readyz, /metrics (an observer of the RequestGuard)
    return app
