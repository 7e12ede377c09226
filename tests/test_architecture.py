"""The package boundaries of ARCHITECTURE.md hold: who may import whom, and no clock in the core."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "stsgas"

#: package -> stsgas packages it must never import
FORBIDDEN = {
    "sts": {"meter", "sim", "vending", "cli", "irlink", "irproto", "meterweb"},
    "irproto": {"sts", "meter", "sim", "vending", "cli", "irlink", "meterweb"},
    "meter": {"vending", "sim", "cli", "meterweb"},
    "sim": {"vending", "cli", "meterweb"},
    "vending": {"meter", "sim", "irlink", "meterweb"},
    # the meter page stands on the meter and sts; the CLI composes it beside vending
    "meterweb": {"vending", "sim", "cli", "irlink", "paysim"},
    #: the mobile-money simulator stands in for an outside provider: HTTP shapes only
    "paysim": {"vending", "meter", "sim", "sts", "cli", "irlink", "irproto", "meterweb"},
}
#: vending front ends -> vending packages they must never import (both are clients of
#: /api/v1 through ``stsgas.vending.apiclient``, neither is built on the other)
VENDING_FORBIDDEN = {
    "sms": {"web"},
    "web": {"sms"},
}
#: packages that must not read the wall clock (time is an argument there)
CLOCK_FREE = {"sts"}
CORE_FILES_CLOCK_FREE = {"meter"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            # ``from stsgas.vending import web`` imports the package stsgas.vending.web
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _files(package: str) -> list[Path]:
    return sorted((SRC / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_respect_the_layers(package: str) -> None:
    """No module of a package imports a package its layer may not depend on."""
    bad = []
    for path in _files(package):
        for name in _imports(path):
            parts = name.split(".")
            if parts[0] == "stsgas" and len(parts) > 1 and parts[1] in FORBIDDEN[package]:
                bad.append(f"{path.relative_to(SRC)} imports {name}")
    assert bad == []


@pytest.mark.parametrize("package", sorted(VENDING_FORBIDDEN))
def test_vending_front_ends_do_not_import_each_other(package: str) -> None:
    """The console and the SMS webhook share the API client, not each other's modules."""
    bad = []
    for path in _files(f"vending/{package}"):
        for name in _imports(path):
            parts = name.split(".")
            inside = parts[:2] == ["stsgas", "vending"] and len(parts) > 2
            if inside and parts[2] in VENDING_FORBIDDEN[package]:
                bad.append(f"{path.relative_to(SRC)} imports {name}")
    assert bad == []


def _reads_clock(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    hits = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in {"now", "utcnow", "today", "time"}:
            base = node.value
            name = base.id if isinstance(base, ast.Name) else getattr(base, "attr", "")
            if name in {"datetime", "date", "time"}:
                hits.append(f"{path.relative_to(SRC)}:{node.lineno} {name}.{node.attr}")
    return hits


def test_sts_never_reads_the_clock() -> None:
    """The token library takes time as an argument; it never reads the wall clock."""
    hits = [h for pkg in ("sts", "irproto") for p in _files(pkg) for h in _reads_clock(p)]
    assert hits == []


def _meter_core_files() -> list[Path]:
    """stsgas.meter without its adapters (stsgas.meter.adapters: terminal, file NVM)."""
    return [p for p in _files("meter") if "adapters" not in p.relative_to(SRC).parts]


def test_meter_core_never_reads_the_clock() -> None:
    """The meter core is sans-IO: no wall clock outside its terminal and link adapters."""
    hits = [h for p in _meter_core_files() for h in _reads_clock(p)]
    assert hits == []


def test_meter_core_never_imports_its_adapters() -> None:
    """Adapters stand beside the core: the core imports no adapter, no file or UI library."""
    bad = [
        f"{p.relative_to(SRC)} imports {name}"
        for p in _meter_core_files()
        for name in _imports(p)
        if name.startswith("stsgas.meter.adapters") or name.split(".")[0] in {"textual"}
    ]
    assert bad == []


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _typing_only(tree: ast.Module) -> set[int]:
    """The ids of the nodes under an ``if TYPE_CHECKING:`` (never run)."""
    return {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for stmt in node.body
        for inner in ast.walk(stmt)
    }


def _import_graph(package: str, *, typing: bool = True) -> dict[str, set[str]]:
    """Module -> the modules of ``package`` it imports (anywhere in its body, lazy or not;
    ``typing`` False leaves out the imports only a type checker runs)."""
    files = {_module_name(p): p for p in _files(package)}
    graph: dict[str, set[str]] = {name: set() for name in files}
    for name, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skipped = set() if typing else _typing_only(tree)
        for node in ast.walk(tree):
            if id(node) in skipped:
                continue
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                # ``from pkg import sub`` imports the submodule when there is one
                targets = [
                    f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in files else node.module
                    for a in node.names
                ]
            graph[name].update(t for t in targets if t in files and t != name)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_cycle_finder_finds_a_cycle() -> None:
    """The rule below can fail: a two-module loop beside a clean chain is reported."""
    graph = {"a": {"b"}, "b": {"a", "c"}, "c": set(), "d": {"c"}}
    assert _cycles(graph) == [["a", "b"]]


def test_no_import_cycle_inside_the_meter() -> None:
    """Modules of stsgas.meter import each other one way only: the rule modules see the
    meter through the ``_core.MeterCore`` protocol instead of importing ``meter``."""
    assert _cycles(_import_graph("meter")) == []


def test_no_import_cycle_inside_vending() -> None:
    """Modules of stsgas.vending import each other one way only (lazy imports counted):
    the sale's stores (``store``, ``store_pg``, ``pg``, ``store_async``) share their
    value types through ``rows`` and ``ops`` instead of importing each other back.
    An import under ``TYPE_CHECKING`` (a type named in a signature) is not counted."""
    assert _cycles(_import_graph("vending", typing=False)) == []


def test_the_typing_only_imports_are_left_out_on_request() -> None:
    """The rule above can fail: only the import under TYPE_CHECKING is left out."""
    tree = ast.parse(
        "from typing import TYPE_CHECKING\nimport a\nif TYPE_CHECKING:\n    import b\n"
    )
    skipped = _typing_only(tree)
    kept = [
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import) and id(node) not in skipped
        for alias in node.names
    ]
    assert kept == ["a"]


#: vending modules that may begin or commit a transaction themselves, and why
TRANSACTION_OWNERS = {
    # the boundary: ``run``, ``run_in`` and ``once``
    "vending/transaction.py": "the one transaction boundary",
    # alembic's runner commits each migration on its own connection
    "vending/migrations/env.py": "migrations run outside the application's sessions",
    # the request's session: it ends the read transaction of a request (every endpoint
    # that writes has committed its unit through ``transaction.run`` already)
    "vending/deps.py": "the request-scoped session's end",
    # the event-loop sale path speaks BEGIN/COMMIT to asyncpg itself; it judges every
    # failure with ``transaction.judge``, so it retries exactly what ``run`` retries
    "vending/sales/fast.py": "asyncpg connection, judged by transaction.judge",
}


def _transaction_calls(path: Path, root: Path = SRC) -> list[str]:
    """``x.begin()``, ``x.commit()`` and ``x.execute("BEGIN"/"COMMIT")`` calls in a file."""
    hits = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        name = node.func.attr
        raw_sql = (
            name in {"execute", "exec_driver_sql"}
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and str(node.args[0].value).strip().upper() in {"BEGIN", "COMMIT"}
        )
        if name in {"begin", "commit"} or raw_sql:
            hits.append(f"{path.relative_to(root)}:{node.lineno} .{name}()")
    return hits


def test_the_transaction_finder_finds_a_commit(tmp_path: Path) -> None:
    """The rule below can fail: each way of owning a transaction is reported."""
    path = tmp_path / "probe.py"
    text = (
        "with sm.begin() as s:\n    pass\n"
        "session.commit()\n"
        "conn.execute('COMMIT')\n"
        "session.begin_nested()\n"
    )
    path.write_text(text, encoding="utf-8")
    hits = _transaction_calls(path, root=tmp_path)
    assert sorted(h.split(" ")[1] for h in hits) == [".begin()", ".commit()", ".execute()"]


def test_only_the_boundary_begins_or_commits() -> None:
    """Services, endpoints and start-up code commit through ``stsgas.vending.transaction``
    (one retry policy); only the allow-listed owners hold a transaction themselves."""
    hits = [
        hit
        for path in _files("vending")
        if path.relative_to(SRC).as_posix() not in TRANSACTION_OWNERS
        for hit in _transaction_calls(path)
    ]
    assert hits == []
