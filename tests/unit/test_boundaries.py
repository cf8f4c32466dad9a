"""The boundaries of the code that import-linter's contracts (.importlinter) do not state: no
module of bot/, handlers/ or storage/ is part of an import cycle; SQL is written only in
storage/; handlers never open a transaction; only the composition root and the clock driver
read the wall clock; no two modules define the same public name. Read from the source, so a new
module is checked the day it is added."""

from __future__ import annotations

import ast
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[2]
# Names of SQLAlchemy that only say what a value is, never build a statement.
TYPES_ONLY = frozenset({"Session", "sessionmaker", "Engine"})
SQL_CALLS = frozenset({"execute", "scalar", "scalars", "add", "add_all", "get", "merge", "delete"})
# The composition root and the clock driver: the only readers of the wall clock.
CLOCK_READERS = frozenset({"bot/cli/main.py", "bot/delivery/scheduler.py"})


def modules(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (ROOT / folder).rglob("*.py"))


def name(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def sql_written(path: Path) -> list[str]:
    """What in a module writes SQL: statement builders imported, session calls made."""
    found = []
    for node in ast.walk(tree(path)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
            if node.module == "sqlalchemy.exc":  # catching the database's errors is fine
                continue
            found += [f"imports {a.name}" for a in node.names if a.name not in TYPES_ONLY]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in SQL_CALLS
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in ("session", "conn", "connection")
        ):
            found.append(f"calls {node.func.value.id}.{node.func.attr}()")
    return found


@pytest.mark.parametrize("path", modules("bot", "handlers"), ids=name)
def test_sql_is_written_only_in_storage(path: Path) -> None:
    assert sql_written(path) == []


@pytest.mark.parametrize("path", modules("handlers"), ids=name)
def test_handlers_never_open_a_transaction(path: Path) -> None:
    opened = [
        node.lineno
        for node in ast.walk(tree(path))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("begin", "begin_nested", "connect")
    ]
    assert opened == [], f"{name(path)} opens a transaction at lines {opened}"


def clock_reads(path: Path) -> list[int]:
    """Lines that read the wall clock: datetime.now(), date.today(), time.time()."""
    found = []
    for node in ast.walk(tree(path)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            owner_name = owner.id if isinstance(owner, ast.Name) else ""
            if (owner_name, node.func.attr) in {
                ("datetime", "now"),
                ("datetime", "utcnow"),
                ("date", "today"),
                ("time", "time"),
            }:
                found.append(node.lineno)
    return found


@pytest.mark.parametrize("path", modules("bot", "handlers", "storage"), ids=name)
def test_only_the_composition_root_and_the_clock_driver_read_the_clock(path: Path) -> None:
    if name(path) in CLOCK_READERS:
        assert clock_reads(path), "listed as a clock reader but reads no clock: update the list"
    else:
        assert clock_reads(path) == []


def import_cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The modules that import one another in a circle, each circle sorted (Tarjan's strongly
    connected components of more than one module, and modules importing themselves)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(module: str) -> None:  # recursion depth is bounded by the import chain's length
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1 or module in graph.find_modules_directly_imported_by(module):
                cycles.append(sorted(component))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return sorted(cycles)


def test_no_module_is_part_of_an_import_cycle() -> None:
    graph = grimp.build_graph("bot", "handlers", "storage")
    files = {  # the whole product was read (Alembic's revision files are scripts, not modules)
        ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for path in modules("bot", "handlers", "storage")
        if "versions" not in path.parts
    }
    assert graph.modules == files
    assert import_cycles(graph) == []


def test_the_cycle_count_sees_a_cycle() -> None:
    graph = grimp.ImportGraph()
    for module in ("a", "a.one", "a.two", "a.three", "b"):
        graph.add_module(module)
    graph.add_import(importer="a.one", imported="a.two")
    graph.add_import(importer="a.two", imported="a.three")
    graph.add_import(importer="a.three", imported="a.one")
    graph.add_import(importer="a.three", imported="b")
    assert import_cycles(graph) == [["a.one", "a.three", "a.two"]]


# Names every module of a kind has on purpose: each handlers module's entry point.
SHARED_ON_PURPOSE = frozenset({"register"})


def public_names(path: Path) -> set[str]:
    """What a module defines at its top level for others to import (type variables aside)."""
    found: set[str] = set()
    for node in tree(path).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            found.add(node.name)
        elif isinstance(node, ast.Assign) and not (
            isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Name)
            and node.value.func.id == "TypeVar"
        ):
            found |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            found.add(node.target.id)
    return {n for n in found if not n.startswith("_") and n != "log"}


def test_no_two_modules_define_the_same_name() -> None:
    where: dict[str, list[str]] = {}
    for path in modules("bot", "handlers", "storage"):
        if "versions" not in path.parts:
            for defined in public_names(path):
                where.setdefault(defined, []).append(name(path))
    shared = {n: paths for n, paths in where.items() if len(paths) > 1}
    assert set(shared) <= SHARED_ON_PURPOSE, {n: shared[n] for n in set(shared) - SHARED_ON_PURPOSE}


def test_the_checks_see_what_they_look_for(tmp_path: Path) -> None:
    """The checks themselves: a module with SQL and a clock read is caught."""
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from datetime import datetime\n"
        "from sqlalchemy import select\n"
        "def f(session):\n"
        "    session.execute(select(1))\n"
        "    return datetime.now()\n",
        encoding="utf-8",
    )
    assert sql_written(bad) == ["imports select", "calls session.execute()"]
    assert clock_reads(bad) == [5]
    assert public_names(bad) == {"f"}
