"""Every example in README.md and docs/*.md runs as written (rules in tests/docs_examples.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.docs_examples import Block, blocks, commands, matches

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

# Runs the python blocks of one file in one namespace; says which block failed.
DRIVER = """
import json, sys, traceback
ns = {"__name__": "__docs__"}
for where, text in json.load(sys.stdin):
    try:
        exec(compile(text, where, "exec"), ns)
    except BaseException:
        traceback.print_exc()
        print(f"docs example {where} failed", file=sys.stderr)
        sys.exit(1)
"""


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STSGAS_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["COLUMNS"] = "100"
    return env


def _runnable(path: Path) -> list[Block]:
    return [b for b in blocks(path) if b.runs]


@pytest.mark.parametrize(
    "path", [p for p in DOCS if _runnable(p)], ids=lambda p: str(p.relative_to(ROOT))
)
def test_examples_run(path: Path, tmp_path: Path) -> None:
    """The file's python blocks run in order; its marked console blocks print what they show."""
    (tmp_path / "examples").symlink_to(ROOT / "examples")  # as if run from the repo's root
    run_examples(path, tmp_path)


def run_examples(path: Path, tmp_path: Path) -> None:
    """Run the examples of ``path`` in ``tmp_path``; pytest.fail names the first that fails."""
    runnable = _runnable(path)
    python = [(b.where, b.text) for b in runnable if b.lang == "python"]
    if python:
        run = subprocess.run(
            [sys.executable, "-c", DRIVER],
            input=json.dumps(python),
            cwd=tmp_path,
            env=_env(),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if run.returncode != 0:
            pytest.fail(run.stderr[-3000:], pytrace=False)
    for block in (b for b in runnable if b.lang == "console"):
        for cmd in commands(block):
            run = subprocess.run(
                ["bash", "-c", cmd.command],
                cwd=tmp_path,
                env=_env(),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=300,
                check=False,
            )
            shown = "\n".join(cmd.expected)
            if run.returncode != 0 or not matches(cmd.expected, run.stdout.splitlines()):
                pytest.fail(
                    f"{block.where}: $ {cmd.command}\n(exit {run.returncode})\n"
                    f"the docs show:\n{shown}\nit prints:\n{run.stdout}",
                    pytrace=False,
                )


BAD_DOC = """\
<!-- docs-test: run -->
```console
$ echo hello
goodbye
```
<!-- docs-test: skip: not runnable -->
```python
raise SystemExit(3)
```
```console
$ false
```
"""


def test_a_wrong_console_output_fails_naming_the_block(tmp_path: Path) -> None:
    """The runner is not a rubber stamp: shown output that differs fails, with the block's line;
    skipped and unmarked blocks do not run."""
    doc = tmp_path / "bad.md"
    doc.write_text(BAD_DOC)
    with pytest.raises(pytest.fail.Exception, match=r"bad.md:2: \$ echo hello") as failed:
        run_examples(doc, tmp_path)
    assert "goodbye" in str(failed.value)
    assert "hello" in str(failed.value)
    doc.write_text(BAD_DOC.replace("goodbye", "hello"))
    run_examples(doc, tmp_path)


def test_a_failing_python_block_fails_naming_it(tmp_path: Path) -> None:
    """A python block that raises fails the file's test and names the block."""
    doc = tmp_path / "bad.md"
    doc.write_text("text\n\n```python\nx = 1\n```\n\n```python\nassert x == 2\n```\n")
    with pytest.raises(pytest.fail.Exception, match=r"docs example bad\.md:7 failed"):
        run_examples(doc, tmp_path)


def test_dots_stand_for_any_lines() -> None:
    """``...`` as a line matches any lines, inside a line any text; nothing else is loose."""
    assert matches(["a", "...", "d"], ["a", "b", "c", "d"])
    assert matches(["a", "...", "d"], ["a", "d"])
    assert not matches(["a", "...", "d"], ["a", "b"])
    assert not matches(["a"], ["a", "b"])
    assert matches(["wall time ... s"], ["wall time 0.3 s"])
    assert not matches(["wall time ... s"], ["wall time 0.3 ms!"])
