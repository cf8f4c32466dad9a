"""Alembic environment: runs against the engine the caller put in config.attributes.

On PostgreSQL the whole upgrade runs under a transaction-level advisory lock, one per schema:
replicas started together each run `pmo-bot db upgrade`, and without it two of them creating
the same types and tables at once failed (IntegrityError on `CREATE TYPE`). The second waits
for the first to commit, then finds the schema at head and has nothing to do. PostgreSQL's DDL
is transactional, so the lock holds until every step is committed."""

from alembic import context
from sqlalchemy import text

from storage.db import MIGRATION_LOCK
from storage.models import Base

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    if connection.dialect.name == "postgresql":
        connection.execute(
            text("SELECT pg_advisory_xact_lock(:lock, hashtext(current_schema()))"),
            {"lock": MIGRATION_LOCK},
        )
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    context.run_migrations()
