"""Rich consoles and progress bars for the commands, without Typer.

Progress goes to stderr and only when stderr is a terminal, so pipes, files
and cron see plain output; Rich itself is imported only when something is
drawn. ``stsgas token encode|decode`` runs before Typer is imported
(:mod:`.token_lines`), so these live apart from the Typer options.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from rich.console import Console


def console(*, stderr: bool = False) -> Console:
    """A Rich console on stdout (or stderr), made when needed so tests capture it.

    A closed pipe raises BrokenPipeError like a plain print (Rich's own answer is
    exit 1, which ``stsgas check`` keeps for a broken ledger)."""
    from rich.console import Console

    class _Console(Console):
        def on_broken_pipe(self) -> None:
            self.quiet = True
            raise BrokenPipeError

    return _Console(file=sys.stderr if stderr else sys.stdout, soft_wrap=True)


class Bar(Protocol):
    """What the commands use of a Rich progress bar."""

    def __enter__(self) -> Any: ...

    def __exit__(self, exc_type: Any, exc_val: Any, exc_tb: Any) -> None: ...

    def add_task(self, description: str, *, total: float | None = ...) -> Any: ...

    def advance(self, task_id: Any, advance: float = ...) -> None: ...

    def stop(self) -> None: ...


class _NoBar:
    """Stands in for a Rich progress bar where none is drawn (and Rich is not imported)."""

    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, exc_type: Any, exc_val: Any, exc_tb: Any) -> None:
        return None

    def add_task(self, description: str, *, total: float | None = None) -> int:
        return 0

    def advance(self, task_id: Any, advance: float = 1) -> None:
        return None

    def stop(self) -> None:
        return None


def progress(what: str, *, show: bool = True) -> Bar:
    """A progress bar on stderr, drawn only when ``show`` and stderr is a terminal."""
    if not (show and sys.stderr.isatty()):
        return _NoBar()
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    return Progress(
        TextColumn(what),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console(stderr=True),
        transient=True,
    )
