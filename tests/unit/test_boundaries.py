"""The boundaries of the code that import-linter cannot see (it checks imports, .importlinter):
SQL is written only in storage/, handlers never open a transaction, and only the composition
root and the clock driver read the wall clock. Read from the source, so a new module is checked
the day it is added."""

from __future__ import annotations

import ast
from pathlib import Path

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
