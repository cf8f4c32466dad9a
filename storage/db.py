"""Engines, sessions and the schema's migration state (Alembic lives in storage/migrations)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, func, inspect, make_url, select
from sqlalchemy.orm import Session, sessionmaker

from storage.models import ProjectRow

MIGRATIONS = Path(__file__).parent / "migrations"


class SchemaError(Exception):
    """The database is unreachable or its schema is not the one this code expects."""


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for SQLite or PostgreSQL; SQLite gets foreign keys and a busy timeout.

    A bare `postgresql://` URL uses psycopg (3), the driver PMO Bot installs: SQLAlchemy's
    default for it is psycopg2, which it does not."""
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"timeout": 30})
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    engine = create_engine(parsed, pool_pre_ping=not url.startswith("sqlite"), **kwargs)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

    return engine


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine) -> None:
    """Create or migrate the schema to the newest revision."""
    command.upgrade(alembic_config(engine), "head")


def check_schema(engine: Engine) -> None:
    """Raise SchemaError unless the database is reachable and migrated to head."""
    database = engine.url.database
    if (
        engine.dialect.name == "sqlite"
        and database
        and database != ":memory:"
        and not Path(database).exists()
    ):  # do not leave an empty file behind
        raise SchemaError(f"the database file {database} does not exist; run `pmo-bot db upgrade`")
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    if current != head:
        state = "has no schema yet" if current is None else f"is at revision {current}"
        raise SchemaError(f"the database {state}; run `pmo-bot db upgrade` first")


def count_projects(engine: Engine) -> int:
    """How many projects the database holds (0 when it has no schema yet): what is asked before
    filling a database the command did not create (`pmo-bot demo` on PostgreSQL), without
    changing anything in it (an SQLite file that does not exist is not created)."""
    database = engine.url.database
    missing_file = (
        engine.dialect.name == "sqlite"
        and database not in (None, "", ":memory:")
        and not Path(str(database)).exists()
    )
    if missing_file or not inspect(engine).has_table(ProjectRow.__tablename__):
        return 0
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(ProjectRow)) or 0
