"""The ``stsgas`` dispatcher: help, unknown commands and exit codes."""

import importlib.metadata
import subprocess
import sys

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
    assert "No such command 'frobnicate'" in capsys.readouterr().err


def test_no_arguments_prints_usage_and_fails(capsys: pytest.CaptureFixture[str]) -> None:
    """Bare ``stsgas`` prints usage and exits non-zero."""
    assert main([]) == 2
    assert "Usage: stsgas" in capsys.readouterr().out


def test_version_prints_the_installed_version() -> None:
    """``stsgas --version`` (and -V) prints the installed package's version, exit 0."""
    installed = importlib.metadata.version("stsgas")
    for flag in ("--version", "-V"):
        run = subprocess.run(
            [sys.executable, "-m", "stsgas", flag],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert (run.returncode, run.stdout, run.stderr) == (0, f"stsgas {installed}\n", "")
