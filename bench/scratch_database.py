"""An empty database for one benchmark run: a SQLite file in a temporary folder, or on
PostgreSQL a database created beside the one a URL names, dropped after the run (a benchmark
never writes into the database it is pointed at)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, make_url, text


@contextmanager
def fresh_database(url: str | None, tag: str = "") -> Iterator[str]:
    """The URL of an empty database: a SQLite file when `url` is None, else a PostgreSQL
    database named after this process (and `tag`) on the server `url` names."""
    if url is None:
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
        return
    made = make_url(url)
    if made.get_backend_name() != "postgresql":
        raise SystemExit("--database-url: a PostgreSQL URL (SQLite gets a fresh file per run)")
    name = f"pmo_bench_{os.getpid()}{'_' + tag if tag else ''}"
    admin = create_engine(made, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield made.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def settle(url: str) -> None:
    """What autovacuum does to a live PostgreSQL database within a minute or so of a bulk
    load: VACUUM ANALYZE, so that the planner knows the tables' sizes and the indexes no
    longer lead to the dead versions of rows rewritten while the portfolio was built (read
    before that, an index scan of 5,000 standings visited about 40,000 entries). Nothing on
    SQLite, whose files hold no dead rows."""
    made = make_url(url)
    if made.get_backend_name() != "postgresql":
        return
    engine = create_engine(made, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("VACUUM ANALYZE"))
    finally:
        engine.dispose()
