"""``stsgas meter web``, and the meter page beside the console in ``stsgas serve --demo``.

The CLI is where the two halves meet: the vending system never imports the
meter and the meter page never imports the vending system, so the demo meters
(the vending demo data's meters, with the keys the vending side holds) are
turned into meter objects here, and the two apps are composed here: the
console at ``/``, the meter page at ``/meter/``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from stsgas.cli._errors import fail, read_meter_json

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.types import ASGIApp

    from stsgas.meterweb import MeterDesk

DEFAULT_STATE = Path("var") / "meters"
#: where the composed server mounts the meter page (the console's nav links to it)
MOUNT = "/meter"


def _m3(litres: int) -> str:
    """Litres as a decimal string of m³, as the meter's tariff takes its steps."""
    from stsgas.sts import LITRE

    return str(litres * LITRE)


def demo_meters() -> list[dict[str, Any]]:
    """The meters of ``stsgas serve --demo`` as meter objects: same numbers, keys and tariffs."""
    from stsgas.meter.demo import demo_meter_json
    from stsgas.sts.identity import drn_with_check
    from stsgas.vending.demo import demo_data
    from stsgas.vending.meters.numbers import parse_meter_number

    data = demo_data()
    group = data["supply_group"]
    tariffs = {t["name"]: t["version"]["steps"] for t in data["tariffs"]}
    found = []
    for customer in data["customers"]:
        for m in customer["meters"]:
            doc = demo_meter_json(m["mode"])
            steps = tariffs[m["tariff"]]
            doc.update(
                pan=parse_meter_number(drn_with_check(m["drn_body"])).pan,
                sgc=group["sgc"], krn=group["krn"], key_type=group["key_type"],
                base_date=group["base_date"], ea=f"{group['ea']:02d}",
                dkga=f"{group['dkga']:02d}", ken=group["ken"],
                vending_key=group["vending_key"], ti="01",
                tariff=[
                    {"up_to_m3": None if s["up_to_litres"] is None else _m3(s["up_to_litres"]),
                     "price": str(s["price_per_m3"])}  # money in major units, as the data
                    for s in steps
                ],
            )  # fmt: skip
            found.append(doc)
    return found


def open_desk(state: Path, configs: list[Path] | None = None) -> MeterDesk:
    """The meters of ``configs`` (default: the demo meters) in ``state``; exit 2 if unusable."""
    from stsgas.meter.adapters.tui_view import ViewError
    from stsgas.meterweb import MeterDesk

    meters = [read_meter_json(p) for p in configs] if configs else demo_meters()
    try:
        return MeterDesk.open(meters, state)
    except ViewError as exc:
        fail(str(exc))


def compose(console: ASGIApp, meter: ASGIApp) -> Starlette:
    """One app: the meter page under ``/meter/``, everything else to the console.

    Both apps' lifespans run (the console's jobs and pools, the meter's NVM files).
    """
    from starlette.applications import Starlette
    from starlette.responses import RedirectResponse
    from starlette.routing import Mount, Route

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with (
            _lifespan_of(console)(console),
            _lifespan_of(meter)(meter),
        ):
            yield

    async def to_meter(request: Any) -> RedirectResponse:
        return RedirectResponse(f"{MOUNT}/", status_code=307)

    return Starlette(
        routes=[Route(MOUNT, to_meter), Mount(MOUNT, app=meter), Mount("", app=console)],
        lifespan=lifespan,
    )


def _lifespan_of(app: Any) -> Any:
    return app.router.lifespan_context


def web(
    state: Annotated[
        Path, typer.Option("--state", help="Folder of the meters' NVM files (one per meter).")
    ] = DEFAULT_STATE,
    config: Annotated[
        list[Path] | None,
        typer.Option(
            "--config",
            help="A JSON file with a scenario 'meter' object; repeat for more meters "
            "(default: the meters of stsgas serve --demo).",
            show_default=False,
        ),
    ] = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", min=1, max=65535, help="TCP port to listen on.")
    ] = 8100,
) -> None:
    import uvicorn

    from stsgas.meterweb import create_app

    desk = open_desk(state, config)
    print(f"stsgas virtual meter at http://{host}:{port}/  (state {state})")
    print("meters: " + ", ".join(desk.ids), flush=True)
    uvicorn.run(create_app(desk), host=host, port=port, log_level="warning")
