"""Read the fenced examples out of the Markdown docs, and run them.

The rules (README, "Running the tests"):

* every ```` ```python ```` block runs; the blocks of one file share one
  namespace, in order, in a fresh working directory (like a reader pasting them
  into one interpreter);
* a ```` ```console ```` block runs when the line before its fence is
  ``<!-- docs-test: run -->``: each ``$ command`` (with ``\\`` continuation lines)
  runs in bash, and the lines after it up to the next ``$`` must be exactly its
  output (a line ``...`` stands for any number of lines, and ``...`` inside a
  line for any text, such as a timing);
* ``<!-- docs-test: skip: why -->`` before any block leaves it out, saying why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

FENCE = re.compile(r"^```(\S*)")
MARK = re.compile(r"^<!--\s*docs-test:\s*(run|skip)\b:?\s*(.*?)\s*-->\s*$")


@dataclass(frozen=True)
class Block:
    """One fenced block: its file, the line of its fence, language, text and marker."""

    path: Path
    line: int
    lang: str
    text: str
    mark: str | None  # "run", "skip" or None
    why: str = ""

    @property
    def where(self) -> str:
        return f"{self.path.name}:{self.line}"

    @property
    def runs(self) -> bool:
        if self.mark == "skip":
            return False
        return self.lang == "python" or (self.lang == "console" and self.mark == "run")


def blocks(path: Path) -> list[Block]:
    """The fenced blocks of a Markdown file, in order."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if m is None:
            i += 1
            continue
        start, lang = i, m.group(1)
        j = i + 1
        while j < len(lines) and not lines[j].startswith("```"):
            j += 1
        prev = lines[start - 1] if start else ""
        mark = MARK.match(prev)
        found.append(
            Block(
                path,
                start + 1,
                lang,
                "\n".join(lines[start + 1 : j]) + "\n",
                mark.group(1) if mark else None,
                mark.group(2) if mark else "",
            )
        )
        i = j + 1
    return found


@dataclass(frozen=True)
class Command:
    """One ``$`` command of a console block and the output the docs show for it."""

    command: str
    expected: list[str]


def commands(block: Block) -> list[Command]:
    """Split a console block into its commands and their shown output."""
    out: list[Command] = []
    cmd: list[str] | None = None
    expected: list[str] = []
    for line in block.text.splitlines():
        if line.startswith("$ "):
            if cmd is not None:
                out.append(Command("\n".join(cmd), _trim(expected)))
            cmd, expected = [line[2:]], []
        elif cmd is not None and not expected and cmd[-1].endswith("\\"):
            cmd.append(line)
        elif cmd is not None:
            expected.append(line)
    if cmd is not None:
        out.append(Command("\n".join(cmd), _trim(expected)))
    return out


def _trim(lines: list[str]) -> list[str]:
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return lines


def matches(expected: list[str], actual: list[str]) -> bool:
    """Exact line match, where an expected ``...`` line stands for any number of lines."""
    if not expected:
        return not actual
    head, rest = expected[0], expected[1:]
    if head.strip() == "...":
        return any(matches(rest, actual[k:]) for k in range(len(actual) + 1))
    return bool(actual) and _line_matches(head, actual[0]) and matches(rest, actual[1:])


def _line_matches(expected: str, actual: str) -> bool:
    pattern = ".*".join(re.escape(part) for part in expected.rstrip().split("..."))
    return re.fullmatch(pattern, actual.rstrip()) is not None
