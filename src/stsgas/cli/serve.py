"""``stsgas serve``: start the vending server (API, console, POS) on STSGAS_DATABASE_URL.

Creates and migrates an empty database on first start; ``--demo`` loads demo
data, prints the demo logins and starts the mobile-money simulator beside the
server (:mod:`stsgas.cli.demo_payments`). It refuses to start (one line on stderr,
exit 2) when the database is unusable, when the master key does not open the
database's vending keys or when the database has no admin account (without
``--demo``: run ``stsgas init``), and never prints the database password.
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

from stsgas.cli import demo_payments, meter_web
from stsgas.cli._common import DatabaseOption
from stsgas.cli._errors import fail, parse_database

app = typer.Typer(add_completion=False)


def _probe(host: str, port: int) -> None:
    """Raise OSError when ``host:port`` cannot be listened on (held by another server, a
    bad host), before anything starts: a clear one-line refusal instead of a worker's
    log line and a simulator left running."""
    family, _, _, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        sock.bind(address)


def _metrics_dir(workers: int) -> Path | None:
    """Several workers share their metrics through files in PROMETHEUS_MULTIPROC_DIR: a
    configured folder is emptied of a previous run's files, else a fresh one is made
    (returned, to be removed at the end)."""
    configured = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if configured:
        folder = Path(configured)
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.db"):
            stale.unlink()
        return None
    if workers <= 1:
        return None
    made = Path(tempfile.mkdtemp(prefix="stsgas-metrics-"))
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(made)
    return made


@app.command(
    name="serve",
    help="Start the vending server (REST API, console, POS) on the database; migrates "
    "an empty one. Exit 2 when it cannot start (bad or unreachable database, no admin "
    "without --demo, a master key that does not open the keys).",
)
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", min=1, max=65535, help="TCP port to listen on.")
    ] = 8000,
    database: DatabaseOption = None,
    demo: Annotated[
        bool, typer.Option("--demo", help="Load demo data into an empty database.")
    ] = False,
    workers: Annotated[
        int, typer.Option("--workers", min=1, help="Worker processes (they hold no state).")
    ] = 1,
    migrate_only: Annotated[
        bool, typer.Option("--migrate-only", help="Migrate the database, then exit.")
    ] = False,
    meter_state: Annotated[
        Path,
        typer.Option(
            "--meter-state",
            help="With --demo: the folder of the demo meters' NVM files (the meter page).",
        ),
    ] = meter_web.DEFAULT_STATE,
) -> None:
    import uvicorn
    from sqlalchemy.exc import OperationalError

    from stsgas.cli._errors import database_reason
    from stsgas.vending import demo as demo_data
    from stsgas.vending import logs
    from stsgas.vending.server import StartRefused, prepare
    from stsgas.vending.settings import Settings

    settings = Settings()
    update: dict[str, object] = {"demo": True} if demo else {}
    if database:
        update["database_url"] = database
    settings = settings.model_copy(update=update)
    db = parse_database(settings.database_url)
    try:
        done = prepare(settings)
    except StartRefused as exc:
        fail(str(exc))
    except OperationalError as exc:
        fail(f"cannot use the database {db.shown}: {database_reason(exc)}")
    s = done.settings
    if not s.demo and not migrate_only and not done.has_admin:
        fail(
            "this database has no admin account: set it up with "
            "`stsgas init --database URL --admin NAME` (or try `stsgas serve --demo`)"
        )
    if done.key_file_created is not None:
        print(f"created a master key in {done.key_file_created} (keep it safe and backed up)")
    # workers read their settings from the environment
    os.environ["STSGAS_DATABASE_URL"] = s.database_url
    if s.master_key_file is not None and s.master_key is None:
        os.environ["STSGAS_MASTER_KEY_FILE"] = str(s.master_key_file)
    print(f"database: {db.shown}")
    if migrate_only:
        return
    try:
        _probe(host, port)
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
    url = f"http://{host}:{port}"
    print(f"stsgas vending at {url}/  (API {url}/api/v1/docs)")
    if s.demo:
        if done.demo_loaded:
            print("demo data loaded")
        print("demo logins:")
        for login in demo_data.logins():
            print(f"  {login.username:<11} {login.password:<16} ({login.role})")
        print("demo meters: " + ", ".join(demo_data.meter_numbers()))
    desk = None
    if s.demo and workers == 1:
        desk = meter_web.open_desk(meter_state)
        print(f"virtual meters at {url}{meter_web.MOUNT}/  (state {meter_state})")
    elif s.demo:
        print("virtual meters: only with --workers 1 (or run `stsgas meter web`)")
    sim = demo_payments.start(host, port) if s.demo else None  # before the app reads env
    made: Path | None = None
    if sim is not None:
        demo_payments.exit_on_sigterm()  # so that the finally below stops the simulator
    try:
        if sim is not None:
            print(
                f"mobile-money simulator at {sim.url}/  (pay a demo meter's number; "
                f"the token SMS shows at {url}/console/sms)"
            )
        sys.stdout.flush()
        made = _metrics_dir(workers)
        # from here on every line, uvicorn's included, is a structured log line
        logs.configure(s.log_format, s.log_level)
        app: Any = "stsgas.vending.server:app_from_env"
        if desk is not None:
            # one process: the console and the meter page composed here (vending stays
            # meter-free)
            from stsgas.meterweb import create_app as meter_app
            from stsgas.vending.server import build_app

            page = {"meter_page_url": f"{meter_web.MOUNT}/"}
            app = meter_web.compose(build_app(Settings().model_copy(update=page)), meter_app(desk))
        uvicorn.run(
            app,
            factory=desk is None,
            host=host,
            port=port,
            workers=workers,
            log_config=logs.dict_config(s.log_format, s.log_level),  # uvicorn's lines too
        )
    finally:
        if sim is not None:
            sim.stop()
        if made is not None:
            shutil.rmtree(made, ignore_errors=True)
