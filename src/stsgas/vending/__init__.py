"""stsgas.vending — the back office that sells gas to STS meters.

FastAPI + SQLAlchemy 2 on SQLite (default) or PostgreSQL. Build the web app
with :func:`stsgas.vending.app.create_app`; the layout is described in
``docs/vending.md``.
"""
