"""The ``stsgas`` dispatcher: help, unknown commands and exit codes."""

import importlib.metadata
import subprocess
import sys
from pathlib import Path

import pytest

from stsgas.cli import GROUPS, main


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


def _loaded_after(argv: list[str], names: list[str]) -> dict[str, bool]:
    """Run ``stsgas argv`` in a fresh interpreter; which of ``names`` it imported."""
    probe = (
        "import sys\n"
        "from stsgas.cli import main\n"
        f"code = main({argv!r})\n"
        f"print(code, *[n in sys.modules for n in {names!r}], file=sys.stderr)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    code, *flags = run.stderr.splitlines()[-1].split()
    assert code == "0", run.stderr
    return dict(zip(names, [f == "True" for f in flags], strict=True))


def test_token_commands_never_load_the_web_stack() -> None:
    """``stsgas token encode`` starts without FastAPI or SQLAlchemy (start-up time)."""
    line = str(Path(__file__).resolve().parents[1] / "data" / "cli" / "credit-line.jsonl")
    loaded = _loaded_after(["token", "encode", "--input", line], ["fastapi", "sqlalchemy"])
    assert loaded == {"fastapi": False, "sqlalchemy": False}


def test_help_imports_no_command_group() -> None:
    """``stsgas --help`` lists the groups from their table, importing none of them."""
    modules = [module for module, _ in GROUPS.values()]
    assert not any(_loaded_after(["--help"], modules).values())


def test_an_argparse_group_keeps_working_until_ported(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A group with only ``main(argv)`` gets its arguments as typed (options and
    ``--help`` included) and its exit code is the command's."""
    monkeypatch.setitem(GROUPS, "legacy", ("tests.cli.legacy_group", "an argparse group"))
    assert main(["legacy", "a", "b", "--code", "3"]) == 3
    assert capsys.readouterr().out == "a b\n"
    assert main(["legacy", "--help"]) == 0
    assert "usage: stsgas legacy" in capsys.readouterr().out
    assert main(["legacy", "--code", "x"]) == 2
    assert "invalid int value" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["--help"], ["-h"], ["--version"]])
def test_help_and_version_answer_without_typer_or_rich(argv: list[str]) -> None:
    """The top-level help and the version are answered before Typer (and the pydantic
    and Rich it brings) is imported: they are what a person runs first."""
    assert _loaded_after(argv, ["typer", "pydantic", "rich"]) == {
        "typer": False,
        "pydantic": False,
        "rich": False,
    }


def test_help_page_lists_usage_options_and_groups(capsys: pytest.CaptureFixture[str]) -> None:
    """The Typer-free page still has the usage line, both options and every group's line."""
    assert main(["-h"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Usage: stsgas [OPTIONS] COMMAND [ARGS]...\n")
    assert "-V, --version" in out
    assert "-h, --help" in out
    for name, (_, line) in GROUPS.items():
        assert f"  {name}" in out
        assert line in out


def test_token_credit_never_loads_the_batch_codecs_numpy() -> None:
    """``stsgas token credit`` makes one token: it starts without numpy, which only the
    batch codecs of ``encode`` and ``decode`` need (start-up time)."""
    argv = [
        "token", "credit", "--pan", "600727000000000009", "--sgc", "123456", "--ti", "01",
        "--krn", "1", "--base-date", "2014", "--ea", "07", "--dkga", "02",
        "--vending-key", "abababababababab", "--amount", "12.5", "--at", "2026-03-01T10:00Z",
    ]  # fmt: skip
    assert _loaded_after(argv, ["numpy", "stsgas.sts.batch"]) == {
        "numpy": False,
        "stsgas.sts.batch": False,
    }
