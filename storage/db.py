"""Engines, sessions and the schema's migration state (Alembic lives in storage/migrations).

Alembic is imported only by what migrates (`upgrade`, `alembic_config`): the processes that
only check the schema (`serve`, `tick`, the lookups) compare the database's revision with
SCHEMA_HEAD and never load it, which keeps about 7 MB out of every long-running process."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Engine,
    column,
    create_engine,
    event,
    func,
    inspect,
    make_url,
    select,
    table,
)
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from storage.models import ProjectRow

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
# The newest revision in storage/migrations/versions, which this code expects: a new migration
# moves it (tests/storage/test_migrations.py checks it is Alembic's head).
SCHEMA_HEAD = "0021"
# Where Alembic records a database's revision (its default version table).
_VERSION = table("alembic_version", column("version_num"))
# The first key of the PostgreSQL advisory lock every upgrade takes ("PMO"), the second being
# the schema's (storage/migrations/env.py): one upgrade at a time per schema.
MIGRATION_LOCK = 0x504D4F


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


def url_password(url: str) -> str | None:
    """The password a database URL holds, if any (what logs must never show)."""
    try:
        return make_url(url).password
    except ArgumentError:  # not a URL SQLAlchemy reads: the command says so where it uses it
        return None


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config  # only what migrates loads Alembic

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine) -> None:
    """Create or migrate the schema to the newest revision."""
    from alembic import command  # only what migrates loads Alembic

    command.upgrade(alembic_config(engine), "head")


def _missing_file(engine: Engine) -> str | None:
    """The SQLite file the engine names, when it does not exist (reading it would create it
    empty)."""
    database = engine.url.database
    local = engine.dialect.name == "sqlite" and database not in (None, "", ":memory:")
    return str(database) if local and not Path(str(database)).exists() else None


def check_schema(engine: Engine) -> None:
    """Raise SchemaError unless the database is reachable and migrated to head."""
    missing = _missing_file(engine)
    if missing is not None:  # do not leave an empty file behind
        raise SchemaError(f"the database file {missing} does not exist; run `pmo-bot db upgrade`")
    current = schema_revision(engine)
    if current != SCHEMA_HEAD:
        state = "has no schema yet" if current is None else f"is at revision {current}"
        raise SchemaError(f"the database {state}, not {SCHEMA_HEAD}; run `pmo-bot db upgrade`")


def schema_revision(engine: Engine) -> str | None:
    """The revision Alembic recorded in the database (None without a schema, or without the
    SQLite file, which is not created; several, joined, if a database were ever stamped with
    several heads)."""
    if _missing_file(engine) is not None or not inspect(engine).has_table(_VERSION.name):
        return None
    with engine.connect() as conn:
        revisions = conn.execute(select(_VERSION.c.version_num)).scalars().all()
    return ", ".join(sorted(revisions)) or None


def count_projects(engine: Engine) -> int:
    """How many projects the database holds (0 when it has no schema yet): what is asked before
    filling a database the command did not create (`pmo-bot demo` on PostgreSQL), without
    changing anything in it (an SQLite file that does not exist is not created)."""
    if _missing_file(engine) is not None or not inspect(engine).has_table(ProjectRow.__tablename__):
        return 0
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(ProjectRow)) or 0
