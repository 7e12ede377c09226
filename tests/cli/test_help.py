"""``--help`` on every command and subcommand (issue 13): exit 0, a description, help
text on every option and argument, and no reST markup (double backticks) in any of it."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

import pytest

from stsgas.cli import GROUPS, main
from stsgas.cli._app import load_group


def _walk(command: Any, path: list[str]) -> Iterator[tuple[list[str], Any]]:
    yield path, command
    if hasattr(command, "list_commands"):
        for name in command.list_commands(None):
            yield from _walk(command.get_command(None, name), [*path, name])


COMMANDS = [(path, command) for name in GROUPS for path, command in _walk(load_group(name), [name])]


def test_every_group_is_a_typer_app() -> None:
    """No group is left on the argparse pass-through: each has options with help."""
    for name, (module, _) in GROUPS.items():
        assert hasattr(importlib.import_module(module), "app"), f"stsgas {name} is not ported"


def test_every_group_is_walked() -> None:
    """The walk reaches each group and the subcommands people use most."""
    paths = {" ".join(path) for path, _ in COMMANDS}
    assert set(GROUPS) <= paths
    assert {"token encode", "meter simulate", "db backup", "import meters", "irpad query"} <= paths


@pytest.mark.parametrize(
    ("path", "command"), COMMANDS, ids=[" ".join(path) for path, _ in COMMANDS]
)
def test_help_exits_0_and_documents_every_option(
    path: list[str], command: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """``stsgas PATH --help`` prints a usage and exits 0; every parameter has help."""
    assert main([*path, "--help"]) == 0
    shown = capsys.readouterr().out
    assert f"stsgas {' '.join(path)}" in shown
    assert (command.help or "").strip(), f"{path}: no description"
    texts = [command.help or ""]
    for param in command.params:
        text = getattr(param, "help", None) or ""
        assert text.strip(), f"stsgas {' '.join(path)}: {param.name} has no help text"
        texts.append(text)
    for text in [*texts, shown]:
        assert "`" not in text, f"stsgas {' '.join(path)}: reST backticks in {text!r}"


def test_root_help_lists_every_group_without_importing_them(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``stsgas --help`` names each group with its line from GROUPS."""
    assert main(["--help"]) == 0
    shown = " ".join(capsys.readouterr().out.split())
    for name, (_, line) in GROUPS.items():
        assert name in shown
        assert " ".join(line.split()) in shown
