"""``python -m stsgas.paysim``: run the mobile-money simulator (``stsgas payments simulate``)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys

from stsgas.paysim.api import Api
from stsgas.paysim.ledger import Simulator
from stsgas.paysim.wire import serve


def main(argv: list[str] | None = None) -> int:
    """Parse the options and serve until interrupted."""
    p = argparse.ArgumentParser(prog="python -m stsgas.paysim", description=__doc__)
    p.add_argument("--port", type=int, default=8600)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--callback", required=True, help="the merchant's confirmation URL")
    p.add_argument("--consumer-key", default="sim-key")
    p.add_argument("--consumer-secret", default="sim-secret")
    p.add_argument("--shortcode", default="600000")
    p.add_argument("--attempts", type=int, default=6, help="callback deliveries per payment")
    args = p.parse_args(argv)
    sim = Simulator(
        callback_url=args.callback,
        consumer_key=args.consumer_key,
        consumer_secret=args.consumer_secret,
        shortcode=args.shortcode,
        attempts=args.attempts,
    )
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency off Windows
        factory = None
    else:
        factory = uvloop.new_event_loop
    with contextlib.suppress(KeyboardInterrupt), asyncio.Runner(loop_factory=factory) as runner:
        runner.run(serve(Api(sim), args.host, args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
