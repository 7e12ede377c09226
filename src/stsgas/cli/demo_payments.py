"""Mobile money for ``stsgas serve --demo``: the simulator as a child process, wired in.

Only the demo does this. Without ``--demo`` nothing here runs and the server reads
its ``STSGAS_MPESA_*`` settings as configured. With it, and no provider configured
(no ``STSGAS_MPESA_API_URL``), the server starts ``python -m stsgas.paysim`` beside
itself and sets the webhook's settings to match it (a fresh callback secret each
start), so a payment on the simulator's form buys gas and the token SMS lands in
the console's SMS log (the demo's SMS gateway only records).
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass

import httpx

__all__ = ["DEFAULT_PORT", "SimChild", "exit_on_sigterm", "start"]

#: the port ``stsgas payments pay`` asks by default; used when it is free
DEFAULT_PORT = 8600
CONSUMER_KEY = "demo-key"
SHORTCODE = "600000"
#: the demo operator mobile-money sales are recorded as (a seller with a vendor)
OPERATOR = "supervisor"


@dataclass(frozen=True, slots=True)
class SimChild:
    """The running simulator: its pay-form URL and its process."""

    url: str
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        """End the child (asked first, then forced)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _free(host: str, port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def _port(host: str) -> int:
    """8600 (so ``stsgas payments pay`` needs no ``--sim``) when free, else any free port."""
    if _free(host, DEFAULT_PORT):
        return DEFAULT_PORT
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _local(host: str) -> str:
    """The address to reach a server listening on ``host`` from this machine."""
    return "127.0.0.1" if host in ("", "0.0.0.0", "::") else host


def start(server_host: str, server_port: int, *, wait_s: float = 20.0) -> SimChild | None:
    """Start the simulator and set the demo's ``STSGAS_MPESA_*``; None when a provider is
    configured already (the operator's own set-up is left alone)."""
    if os.environ.get("STSGAS_MPESA_API_URL"):
        return None
    port = _port("127.0.0.1")
    sim = f"http://127.0.0.1:{port}"
    token = secrets.token_urlsafe(16)
    secret = secrets.token_urlsafe(16)
    callback = (
        f"http://{_local(server_host)}:{server_port}"
        f"/api/v1/payments/mpesa/confirmation?token={token}"
    )
    os.environ.update(
        {
            "STSGAS_MPESA_CALLBACK_TOKEN": token,
            "STSGAS_MPESA_API_URL": sim,
            "STSGAS_MPESA_CONSUMER_KEY": CONSUMER_KEY,
            "STSGAS_MPESA_CONSUMER_SECRET": secret,
            "STSGAS_MPESA_SHORTCODE": SHORTCODE,
            "STSGAS_MPESA_OPERATOR": OPERATOR,
        }
    )
    # a demo's throw-away secrets: on the command line like `stsgas payments simulate`
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "stsgas.paysim",
            f"--port={port}",
            "--host=127.0.0.1",
            f"--callback={callback}",
            f"--consumer-key={CONSUMER_KEY}",
            f"--consumer-secret={secret}",
            f"--shortcode={SHORTCODE}",
        ],
    )
    running = SimChild(url=sim, process=child)
    deadline = time.monotonic() + wait_s
    while child.poll() is None and time.monotonic() < deadline:
        try:
            if httpx.get(sim + "/", timeout=1.0).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    return running


def _exit(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def exit_on_sigterm() -> None:
    """Make SIGTERM end this process through its ``finally`` blocks (exit 143).

    uvicorn shuts down on SIGTERM, puts back the handler it found and raises the
    signal again; with the default action the process would die right there and
    leave the simulator running without its server."""
    signal.signal(signal.SIGTERM, _exit)
