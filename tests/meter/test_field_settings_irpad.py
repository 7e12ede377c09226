"""``stsgas irpad settings`` against a virtual meter on a real pty: signed with the
meter's key, applied all or none, usage errors before the port is touched."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from stsgas.cli import main
from tests.irlink.served_meter import Served, serve_demo_meter


@pytest.fixture
def served() -> Iterator[Served]:
    """The demo meter served on a pty."""
    with serve_demo_meter() as s:
        yield s


def _pad(served: Served, *words: str) -> int:
    key = served.config.key().value.hex()
    return main(["irpad", "--port", served.path, "--key", key, "settings", *words])


def test_settings_are_signed_and_applied(
    served: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two settings in one command: ``ok settings 2``, exit 0, in force on the meter."""
    assert _pad(served, "billing_day=15", "leak_flow_m3h=0.005") == 0
    assert capsys.readouterr().out.strip() == "ok settings 2"
    assert served.meter.config.billing_day == 15
    assert served.meter.settings.leak_flow_lph == 5
    assert _pad(served, "billing_day=20") == 0  # the pad asks the counter each time
    assert served.meter.config.billing_day == 20


def test_out_of_range_is_the_meters_refusal(
    served: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    """A value outside the meter's range: ``err range``, exit 1, nothing applied."""
    assert _pad(served, "billing_day=15", "leak_s=5") == 1
    assert capsys.readouterr().out.strip() == "err range"
    assert served.meter.config.billing_day == 1


@pytest.mark.parametrize(
    ("words", "says"),
    [
        (["colour=red"], "unknown setting"),
        (["billing_day"], "not name=value"),
        (["billing_day=1", "billing_day=2"], "twice"),
        ([f"{n}=1.000" for n in ("overdraft", "recharge_limit", "low_credit_alarm")]
         + ["timezone=America/Argentina/Buenos_Aires", "battery_low_1_v=3.40",
            "battery_low_2_v=3.20", "auto_clean_days=30", "billing_day=28",
            "excess_flow_m3h=10.000", "excess_flow_s=60", "leak_flow_m3h=0.010"],
         "two commands"),
    ],
)  # fmt: skip
def test_usage_errors_exit_2(
    served: Served, capsys: pytest.CaptureFixture[str], words: list[str], says: str
) -> None:
    """Malformed pairs or a list too long for a frame: one line, exit 2, nothing sent."""
    seq = served.meter.lockout.ir_seq
    assert _pad(served, *words) == 2
    err = capsys.readouterr().err
    assert says in err
    assert len(err.strip().splitlines()) == 1
    assert served.meter.lockout.ir_seq == seq


def test_without_a_key_is_a_usage_error(served: Served, capsys: pytest.CaptureFixture[str]) -> None:
    """Authenticated: no --key or --config is exit 2."""
    assert main(["irpad", "--port", served.path, "settings", "billing_day=2"]) == 2
    assert "--key" in capsys.readouterr().err
