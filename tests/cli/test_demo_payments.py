"""The demo's mobile-money wiring leaves an operator's own provider set-up alone."""

from __future__ import annotations

import os

import pytest

from stsgas.cli import demo_payments


def test_a_configured_provider_starts_no_simulator(monkeypatch: pytest.MonkeyPatch) -> None:
    """With STSGAS_MPESA_API_URL set, ``--demo`` starts nothing and changes no setting."""
    monkeypatch.setenv("STSGAS_MPESA_API_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("STSGAS_MPESA_CALLBACK_TOKEN", "the-operators-own")
    before = {k: v for k, v in os.environ.items() if k.startswith("STSGAS_MPESA_")}
    assert demo_payments.start("127.0.0.1", 8000) is None
    after = {k: v for k, v in os.environ.items() if k.startswith("STSGAS_MPESA_")}
    assert after == before
