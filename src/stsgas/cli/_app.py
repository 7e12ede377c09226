"""The Typer root of ``stsgas``: lazy groups, one-line errors, exit codes.

The root group lists the groups of ``stsgas.cli.GROUPS`` without importing
them (``stsgas --help`` stays fast) and imports only the one that runs. A
group module with an ``app`` (Typer) is mounted as is; one that still has only
``main(argv) -> int`` is passed its arguments untouched, so a group written
with argparse keeps working until it is ported.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Sequence
from typing import Annotated, Any, cast

import typer
from typer.core import TyperCommand, TyperGroup

from stsgas.cli import GROUPS, HELP_LINE, VERSION_HELP
from stsgas.cli._errors import CANNOT_RUN, said, stopped
from stsgas.cli._pipe import closed_pipe, say


def _passthrough(name: str, help_: str, entry: Callable[[list[str]], int]) -> TyperCommand:
    """A group that still has ``main(argv) -> int``: gets every argument, ``--help`` too."""
    app = typer.Typer(add_completion=False)

    @app.command(
        name=name,
        help=help_,
        add_help_option=False,
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    )
    def run(ctx: typer.Context) -> None:
        raise typer.Exit(entry(list(ctx.args)))

    return cast(TyperCommand, typer.main.get_command(app))


def load_group(name: str) -> Any:
    """The click command of group ``name``, importing its module."""
    module_name, help_ = GROUPS[name]
    module = importlib.import_module(module_name)
    if hasattr(module, "app"):
        command = typer.main.get_command(module.app)
        command.name = name
        return command
    return _passthrough(name, help_, module.main)


class _Root(TyperGroup):
    """The ``stsgas`` group: lazy subcommands, and the errors turned into one line."""

    listing = False
    argv: Sequence[str] = ()

    def list_commands(self, ctx: Any) -> list[str]:
        return list(GROUPS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in GROUPS:
            return None
        if self.listing:  # help only needs the name and the line: import nothing
            help_ = GROUPS[cmd_name][1]
            return TyperCommand(cmd_name, help=help_, short_help=help_)
        return load_group(cmd_name)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self.listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self.listing = False

    def path(self) -> str:
        """``stsgas`` and the command words of the argument list (``stsgas db backup``)."""
        words = ["stsgas"]
        command: Any = self
        for arg in self.argv:
            sub = command.get_command(None, arg) if hasattr(command, "list_commands") else None
            if sub is None:
                break
            words.append(arg)
            command = sub
        return " ".join(words)

    def _guard(self, call: Callable[[], Any]) -> Any:
        try:
            result = call()
            sys.stdout.flush()
            return result
        except Exception as exc:
            code = said(exc, self.path())
            if code is None:  # not a command's error (Typer's own exits and usage errors too)
                raise
            raise typer.Exit(code) from None

    def make_context(self, info_name: Any, args: Any, parent: Any = None, **extra: Any) -> Any:
        make = super().make_context
        return self._guard(lambda: make(info_name, args, parent, **extra))

    def invoke(self, ctx: Any) -> Any:
        invoke = super().invoke
        return self._guard(lambda: invoke(ctx))


def _version(value: bool) -> None:
    if value:
        from stsgas import __version__

        print(f"stsgas {__version__}")
        raise typer.Exit(0)


def build() -> _Root:
    """The root command (a fresh one per run: it keeps the argument list)."""
    app = typer.Typer(
        cls=_Root,
        help=HELP_LINE,
        add_completion=False,
        no_args_is_help=True,
        context_settings={"help_option_names": ["-h", "--help"]},
    )

    @app.callback()
    def root(
        version: Annotated[
            bool,
            typer.Option(
                "--version",
                "-V",
                callback=_version,
                is_eager=True,
                help=VERSION_HELP,
            ),
        ] = False,
    ) -> None:
        """STS prepaid gas metering."""

    return cast(_Root, typer.main.get_command(app))


def run(argv: list[str] | None) -> int:
    """Run ``stsgas`` with ``argv`` (default: the process's); the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    root = build()
    root.argv = args
    try:
        code = _run(root, args)
        sys.stdout.flush()  # help and --version end here, past the command's own flush
    except BrokenPipeError:
        return closed_pipe(root.path())
    return code


def _run(root: _Root, args: list[str]) -> int:
    try:
        result = root.main(args=args, prog_name="stsgas", standalone_mode=False)
    except typer.TyperException as exc:  # bad usage, from the parser
        code = int(getattr(exc, "exit_code", CANNOT_RUN))
        if type(exc).__name__ == "NoArgsIsHelpError":
            return CANNOT_RUN  # the help was printed
        path = root.path()
        say(f"{path}: {exc.format_message()} (see {path} --help)")
        return code
    except typer.Abort:
        return stopped(root.path())
    except SystemExit as exc:
        if exc.code == 1 and _stdout_is_devnull():
            raise BrokenPipeError from None  # Rich (help pages) met a closed pipe
        # a passed-through argparse group exits by itself
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    return result if isinstance(result, int) else 0


def _stdout_is_devnull() -> bool:
    """Whether stdout was pointed at /dev/null: what Rich does on a closed pipe before it
    exits 1."""
    try:
        out, null = os.fstat(sys.stdout.fileno()), os.stat(os.devnull)
    except (AttributeError, OSError, ValueError):
        return False
    return (out.st_dev, out.st_ino) == (null.st_dev, null.st_ino)
