"""Shared fixtures: a database on SQLite and on PostgreSQL, migrated or not.

PostgreSQL: PMO_TEST_POSTGRES_URL (default: the CI machine's 127.0.0.1:5432, user postgres,
database test). Each test gets its own schema, dropped afterwards. Where PostgreSQL is
unreachable the tests skip, saying why, except in CI (CI=true), where they fail: a green CI must
mean PostgreSQL was tested.

Kept fast without changing what a test sees:
- SQLite runs the migrations once per test process (per xdist worker), into a template file:
  `migrate()` (the `engine` fixture, the e2e harness) copies it where a test's database file is
  not made yet, and runs the migrations on anything else (PostgreSQL schemas included).
  tests/storage/test_migrations.py and the commands' tests run the migrations themselves.
- Nothing waits on the disk: temporary folders (tmp_path, so the SQLite files) are on tmpfs
  (/dev/shm) where there is one and PYTEST_DEBUG_TEMPROOT is not set, and the PostgreSQL
  schemas are in a database of the process's own with synchronous_commit off. Neither changes
  what a connection reads or when it sees a commit, only what would survive a power cut.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.exc import DBAPIError

from storage.db import make_engine, upgrade

POSTGRES_URL = os.environ.get(
    "PMO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
TMPFS = Path("/dev/shm")

# Read by pytest when it first makes a temporary folder, after this module is imported.
if "PYTEST_DEBUG_TEMPROOT" not in os.environ and TMPFS.is_dir() and os.access(TMPFS, os.W_OK):
    os.environ["PYTEST_DEBUG_TEMPROOT"] = str(TMPFS)


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    """pyproject.toml's addopts name pytest-xdist's options; with xdist off (`-p no:xdist`, a
    run in one process), they are accepted and mean nothing."""
    if not pluginmanager.has_plugin("xdist"):
        parser.addoption("--numprocesses", dest="numprocesses", help="(xdist is off)")
        parser.addoption("--dist", dest="dist", help="(xdist is off)")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """`--numprocesses=auto` (pyproject.toml) starts one worker per core, except for tests
    named one by one (FILE::TEST): they run in this process, as starting workers would take
    longer than they do."""
    if config.args and all("::" in arg for arg in config.args):
        return 0
    return None  # xdist's count


@pytest.fixture(autouse=True)
def _no_proxies_or_slack_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """slack_sdk honours HTTP(S)_PROXY and Bolt reads SLACK_*: keep both out of tests."""
    for name in list(os.environ):
        if name.upper() in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY") or name.startswith("SLACK_"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


class _Databases:
    """What the test databases are made from, once per test process (per xdist worker)."""

    def __init__(self) -> None:
        self.folder: Path | None = None  # for the SQLite template
        self.sqlite: Path | None = None  # an SQLite file the real migrations built
        self.admin: Engine | None = None  # AUTOCOMMIT, on PMO_TEST_POSTGRES_URL's database
        self.database: str | None = None  # the PostgreSQL database the schemas go in
        self.created = False  # whether this process created it (and so drops it)
        self.schemas: Engine | None = None  # AUTOCOMMIT, on that database

    def sqlite_template(self) -> Path:
        if self.sqlite is None:
            assert self.folder is not None, "the _test_databases fixture sets the folder"
            path = self.folder / "migrated.sqlite"
            _upgrade(f"sqlite:///{path}")
            self.sqlite = path
        return self.sqlite

    def postgres_admin(self) -> Engine:
        """An AUTOCOMMIT engine on PMO_TEST_POSTGRES_URL's database, once it answered."""
        if self.admin is None:
            self.admin = create_engine(
                POSTGRES_URL, isolation_level="AUTOCOMMIT", pool_pre_ping=True
            )
        try:
            with self.admin.connect() as conn:
                conn.execute(text("select 1"))
        except Exception as exc:
            message = f"PostgreSQL unreachable at {POSTGRES_URL}: {str(exc).splitlines()[0]}"
            if os.environ.get("CI"):
                pytest.fail(message + " (CI must test PostgreSQL)")
            pytest.skip(message)
        return self.admin

    def postgres_schemas(self) -> Engine:
        """An AUTOCOMMIT engine on the database where each test gets a schema: this process's
        own where the user may create one (its commits do not wait for the disk, and dropping
        it at the end leaves nothing behind), else PMO_TEST_POSTGRES_URL's."""
        admin = self.postgres_admin()
        if self.schemas is None:
            name = f"pmo_test_{uuid.uuid4().hex[:12]}"
            try:
                with admin.connect() as conn:
                    conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE template0'))
                    self.created = True
                    conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
            except DBAPIError:
                if self.created:
                    raise
                name = str(make_url(POSTGRES_URL).database)  # not allowed to create one
            self.database = name
            self.schemas = create_engine(self.postgres_url(), isolation_level="AUTOCOMMIT")
        return self.schemas

    def postgres_url(self, schema: str | None = None) -> str:
        """A URL to that database; with a schema, one whose connections use that schema."""
        url = make_url(POSTGRES_URL).set(database=self.database)
        base = url.render_as_string(hide_password=False)
        if schema is None:
            return base
        separator = "&" if "?" in base else "?"
        return f"{base}{separator}options=-csearch_path%3D{schema}"

    def close(self) -> None:
        if self.schemas is not None:
            self.schemas.dispose()
        if self.admin is not None:
            if self.created:
                with self.admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)'))
            self.admin.dispose()
        self.sqlite = self.admin = self.database = self.schemas = None
        self.created = False


def _upgrade(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()


_DATABASES = _Databases()


@pytest.fixture(scope="session", autouse=True)
def _test_databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Where the SQLite template goes; this process's PostgreSQL database is dropped at the end."""
    _DATABASES.folder = tmp_path_factory.mktemp("templates")
    yield
    _DATABASES.close()


def migrate(database_url: str) -> None:
    """Create or migrate the schema of a test's database to the newest revision, as
    storage.db.upgrade does; an SQLite file not made yet becomes a copy of the template."""
    url = make_url(database_url)
    path = Path(url.database or ":memory:")
    if (
        url.get_backend_name() == "sqlite"
        and str(path) != ":memory:"
        and not path.exists()
        and path.parent.is_dir()
    ):
        shutil.copyfile(_DATABASES.sqlite_template(), path)
    else:
        _upgrade(database_url)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL whose connections use a fresh, empty schema."""
    schemas = _DATABASES.postgres_schemas()
    schema = f"pmo_test_{uuid.uuid4().hex[:12]}"
    with schemas.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _DATABASES.postgres_url(schema)
    finally:
        with schemas.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A URL to an SQLite file not made yet."""
    return f"sqlite:///{tmp_path / 'pmo.sqlite'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """A database URL, once per supported backend."""
    name = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(name))


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """A migrated engine on each backend."""
    migrate(database_url)
    engine = make_engine(database_url)
    yield engine
    engine.dispose()
