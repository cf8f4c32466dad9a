"""INSERT … ON CONFLICT for both supported backends (SQLite and PostgreSQL share the syntax)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

# Rows per multi-row INSERT: stays under SQLite's limit on bound parameters (32,766 since 3.32)
# with the widest row we insert.
ROWS_PER_STATEMENT = 500


def insert_for(session: Session, table: Any) -> Any:
    """A dialect-specific insert construct, which has on_conflict_do_nothing/do_update."""
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"unsupported database backend: {name}")
