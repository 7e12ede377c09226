"""The ``stsgas`` dispatcher: help, unknown commands and exit codes."""

import pytest

from stsgas.cli import main


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    """``stsgas --help`` names each command group and exits 0."""
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in ("token", "meter", "serve", "irpad"):
        assert name in out


def test_unknown_command_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown command prints usage to stderr and exits 2."""
    assert main(["frobnicate"]) == 2
    assert "unknown command 'frobnicate'" in capsys.readouterr().err


def test_no_arguments_prints_usage_and_fails(capsys: pytest.CaptureFixture[str]) -> None:
    """Bare ``stsgas`` prints usage and exits non-zero."""
    assert main([]) == 2
    assert "usage: stsgas" in capsys.readouterr().out
