"""The whole database in one file and back: every report, record, audit entry and archive.
Every table is copied, whatever it holds (none is listed here): a table a migration adds, such
as the gates and change requests (stage_requests) and the baselines (project_baselines) of
issue 17, is in the next backup without a change here (tests/storage/test_backup.py fills
every table, and checks each comes back row for row).

SQLite uses its online backup API: the copy is made from the live database, page by page in
one step, while the bot keeps running (a writer waits for the step, as for any other reader).
PostgreSQL uses its own tools, `pg_dump --format=custom` and `pg_restore`, which must be those
of the server's major version (or newer). They get the connection's parameters in their
environment (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE...), never on their command line,
where `ps` would show the password to every user of the machine; and they look for them in
the environment the caller passes, PATH included, so that a test (or a wrapper) says where
they are without touching the process's own.

A backup is written to a temporary file beside its name, then renamed: the name holds a whole
backup or nothing. A restore replaces the whole database in one transaction: SQLite's backup
API copies the file in one step; pg_restore runs `--single-transaction`. The caller migrates
the result when the backup's schema is older (`storage.db.upgrade`), and stops the bot first:
a process writing meanwhile would block the restore, or write into what is replaced.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import sqlite3
import subprocess
from collections.abc import Mapping, Sequence
from contextlib import closing, suppress
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from sqlalchemy import URL, Connection, Engine, func, inspect, select, table, text

from storage.db import MIGRATIONS, make_engine
from storage.models import ArchiveRow, AuditRow, Base, ProjectRow, ReportRow

SQLITE_HEADER = b"SQLite format 3\x00"
PG_DUMP_HEADER = b"PGDMP"
VERSION_TABLE = "alembic_version"  # Alembic's, where a database records its schema revision
# The URL's query parameters libpq reads from the environment as well (its PG* variables).
_LIBPQ_QUERY = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "options": "PGOPTIONS",
    "application_name": "PGAPPNAME",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
    "service": "PGSERVICE",
    "passfile": "PGPASSFILE",
}
# A table in `pg_restore --list`: "<id>; <catalog oid> <oid> TABLE <schema> <name> <owner>".
_LISTED_TABLE = re.compile(r"^\d+; \d+ \d+ TABLE \S+ (\S+) ", re.MULTILINE)


class BackupError(Exception):
    """A backup cannot be made or restored; the message is one line a person can act on, and
    never holds the database's password."""


class BackupKind(StrEnum):
    """What made a backup file, which is also the only kind of database it restores into."""

    SQLITE = "sqlite"
    POSTGRESQL = "postgresql"


@dataclass(frozen=True, slots=True)
class Holdings:
    """What a database (or a backup) holds, as the commands report it."""

    revision: str | None  # the schema's, None without one
    projects: int
    reports: int
    audit_entries: int
    archives: int


_COUNTED = (ProjectRow, ReportRow, AuditRow, ArchiveRow)  # in Holdings' order


def backup_kind(path: Path) -> BackupKind:
    """What made the file at `path`, from its first bytes; BackupError if it is neither an
    SQLite database nor a pg_dump archive (or cannot be read)."""
    try:
        with path.open("rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except OSError as exc:
        reason = {
            FileNotFoundError: "there is no such file",
            IsADirectoryError: "it is a folder",
        }.get(type(exc), exc.strerror or str(exc))
        raise BackupError(f"{path} is not a PMO Bot backup: {reason}") from None
    if header == SQLITE_HEADER:
        return BackupKind.SQLITE
    if header.startswith(PG_DUMP_HEADER):
        return BackupKind.POSTGRESQL
    raise BackupError(
        f"{path} is not a PMO Bot backup (neither an SQLite database nor a pg_dump archive)"
    )


def backup_revision(
    engine: Engine, path: Path, kind: BackupKind, *, environ: Mapping[str, str]
) -> str:
    """The schema revision the backup at `path` was made at (several heads, if ever, joined).
    An SQLite backup is read directly (and checked for damage); a pg_dump archive through
    `pg_restore`, which needs the PostgreSQL client and, for its message when it is missing,
    `engine` (the target database)."""
    if kind is BackupKind.SQLITE:
        revisions = _sqlite_revisions(path)
    else:
        tool = _tool("pg_restore", engine, environ, by_hand=_restore_by_hand(engine.url, path))
        script = _run(
            tool,
            ["--data-only", f"--table={VERSION_TABLE}", "--file=-", str(path)],
            env=_libpq_environment(engine.url, environ),
            password=engine.url.password,
        )
        revisions = _copied_rows(script, VERSION_TABLE)
    if revisions is None:
        what = "an SQLite database" if kind is BackupKind.SQLITE else "a pg_dump archive"
        raise BackupError(
            f"{path} is not a PMO Bot backup ({what} without PMO Bot's schema revision)"
        )
    if not revisions:
        raise BackupError(f"{path} is not a PMO Bot backup (its schema revision is empty)")
    return ", ".join(sorted(revisions))


def known_revisions() -> frozenset[str]:
    """Every schema revision this version can migrate from (storage/migrations/versions)."""
    from alembic.script import ScriptDirectory  # only what migrates loads Alembic

    return frozenset(
        script.revision for script in ScriptDirectory(str(MIGRATIONS)).walk_revisions()
    )


def database_holdings(engine: Engine) -> Holdings:
    """What the database holds now (zeros and no revision without a schema; an SQLite file
    that does not exist is not created)."""
    if _missing_sqlite_file(engine.url) is not None:
        return Holdings(None, 0, 0, 0, 0)
    with engine.connect() as conn:
        return _holdings(conn)


def backup_database(engine: Engine, target: Path, *, environ: Mapping[str, str]) -> Holdings:
    """Copy the whole database to `target` (a file that must not exist yet) and return what the
    copy holds. SQLite: the online backup API; PostgreSQL: pg_dump, custom format, from the
    same snapshot the counts are read in."""
    if engine.dialect.name == "sqlite":
        missing = _missing_sqlite_file(engine.url)
        if missing is not None:
            raise BackupError(f"the database file {missing} does not exist: nothing to back up")
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with suppress(FileNotFoundError):  # left by a process of the same id that was killed
            temporary.unlink()
        if engine.dialect.name == "sqlite":
            held = _sqlite_backup(engine, temporary)
        else:
            held = _pg_dump(engine, temporary, environ, target=target)
        _publish(temporary, target)
    except OSError as exc:
        raise BackupError(f"cannot write {target}: {exc.strerror or exc}") from None
    finally:
        with suppress(OSError):
            temporary.unlink(missing_ok=True)
    return held


def restore_database(
    engine: Engine, source: Path, kind: BackupKind, *, environ: Mapping[str, str]
) -> None:
    """Replace the whole database with the backup at `source`, in one transaction. It keeps
    the backup's schema revision: the caller migrates it to head when it is older."""
    if kind.value != engine.dialect.name:
        raise BackupError(
            f"{source} is a {kind.value} backup, the database is not; nothing was changed"
        )
    if kind is BackupKind.SQLITE:
        _sqlite_restore(engine, source)
    else:
        _pg_restore(engine, source, environ)


# --- SQLite --------------------------------------------------------------------------------


def _missing_sqlite_file(url: URL) -> str | None:
    """The SQLite file a URL names, when it does not exist (connecting would create it)."""
    database = url.database
    if url.get_backend_name() != "sqlite" or database in (None, "", ":memory:"):
        return None
    return None if Path(str(database)).exists() else str(database)


def _read_only(path: Path) -> str:
    """A URI that opens the SQLite file at `path` read-only (never creating it)."""
    return f"{path.resolve().as_uri()}?mode=ro"


def _sqlite_backup(engine: Engine, temporary: Path) -> Holdings:
    raw = engine.raw_connection()
    try:
        live = raw.driver_connection
        assert isinstance(live, sqlite3.Connection)
        with closing(sqlite3.connect(temporary)) as copy:
            live.backup(copy)  # one step: a consistent copy, even while the bot writes
    except sqlite3.Error as exc:
        raise BackupError(f"cannot back up the database: {exc}") from None
    finally:
        raw.close()
    copied = make_engine(f"sqlite:///{temporary}")
    try:
        held = database_holdings(copied)
    finally:
        copied.dispose()
    if held.revision is None:
        raise BackupError("the database has no PMO Bot schema yet: nothing to back up")
    return held


def _sqlite_revisions(path: Path) -> list[str] | None:
    """The revisions an SQLite backup records (None without Alembic's table); BackupError if
    SQLite finds the file damaged."""
    try:
        with closing(sqlite3.connect(_read_only(path), uri=True)) as conn:
            problems = [row[0] for row in conn.execute("PRAGMA quick_check")]
            if problems != ["ok"]:
                raise BackupError(f"{path} is a damaged SQLite database: {problems[0]}")
            found = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (VERSION_TABLE,)
            ).fetchone()
            if found is None:
                return None
            return [str(row[0]) for row in conn.execute(f"SELECT version_num FROM {VERSION_TABLE}")]
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is a damaged SQLite database: {exc}") from None


def _sqlite_restore(engine: Engine, source: Path) -> None:
    database = engine.url.database
    if database and Path(database).exists() and Path(database).samefile(source):
        raise BackupError(f"{source} is the database itself; nothing was changed")
    raw = engine.raw_connection()
    try:
        target = raw.driver_connection
        assert isinstance(target, sqlite3.Connection)
        with closing(sqlite3.connect(_read_only(source), uri=True)) as backup:
            backup.backup(target)  # one step: the whole file is replaced, or nothing
    except sqlite3.Error as exc:
        busy = " (stop the bot first)" if "locked" in str(exc) else ""
        raise BackupError(f"cannot restore {source}: {exc}{busy}; nothing was changed") from None
    finally:
        raw.close()
    engine.dispose()  # pooled connections would keep what they read of the replaced file


# --- PostgreSQL ----------------------------------------------------------------------------


def _pg_dump(
    engine: Engine, temporary: Path, environ: Mapping[str, str], *, target: Path
) -> Holdings:
    """pg_dump in the snapshot of a transaction that reads the counts: the file holds exactly
    what they say, whatever the bot writes meanwhile."""
    tool = _tool("pg_dump", engine, environ, by_hand=_dump_by_hand(engine.url, target))
    with engine.connect() as conn:
        conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            snapshot = conn.scalar(text("SELECT pg_export_snapshot()"))
            held = _holdings(conn)
            if held.revision is None:
                raise BackupError("the database has no PMO Bot schema yet: nothing to back up")
            _run(
                tool,
                [
                    "--format=custom",
                    "--no-owner",
                    "--no-password",
                    f"--snapshot={snapshot}",
                    f"--file={temporary}",
                ],
                env=_libpq_environment(engine.url, environ),
                password=engine.url.password,
            )
    return held


def _pg_restore(engine: Engine, source: Path, environ: Mapping[str, str]) -> None:
    """pg_restore --clean in one transaction. PMO Bot's tables the archive does not hold (made
    by migrations newer than the backup) are dropped first, in a transaction of their own:
    the migration that follows the restore creates them again."""
    tool = _tool("pg_restore", engine, environ, by_hand=_restore_by_hand(engine.url, source))
    env = _libpq_environment(engine.url, environ)
    listing = _run(tool, ["--list", str(source)], env=env, password=engine.url.password)
    archived = set(_LISTED_TABLE.findall(listing))
    ours = {*Base.metadata.tables, VERSION_TABLE}
    with engine.begin() as conn:
        database = str(conn.scalar(text("SELECT current_database()")))
        quote = conn.dialect.identifier_preparer.quote
        newer = sorted((set(inspect(conn).get_table_names()) & ours) - archived)
        for name in newer:
            conn.execute(text(f"DROP TABLE IF EXISTS {quote(name)} CASCADE"))
    engine.dispose()  # no pooled connection of ours in pg_restore's way
    try:
        _run(
            tool,
            [
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                "--no-password",
                f"--dbname={database}",
                str(source),
            ],
            env=env,
            password=engine.url.password,
        )
    except BackupError as exc:
        left = "nothing was changed"
        if newer:
            left = (
                f"nothing was restored, but the tables newer than the backup were dropped "
                f"({', '.join(newer)}): restore again once the cause is fixed"
            )
        raise BackupError(f"{exc}; {left}") from None


def _libpq_environment(url: URL, environ: Mapping[str, str]) -> dict[str, str]:
    """`environ` with the URL's connection parameters as libpq's variables, which pg_dump and
    pg_restore read: the URL wins over any PG* already set, as it does for the bot."""
    env = dict(environ)
    query = {key: value if isinstance(value, str) else value[0] for key, value in url.query.items()}
    values = {
        "PGHOST": url.host or query.get("host"),
        "PGPORT": str(url.port) if url.port else query.get("port"),
        "PGUSER": url.username,
        "PGPASSWORD": url.password,
        "PGDATABASE": url.database,
        **{variable: query.get(key) for key, variable in _LIBPQ_QUERY.items()},
    }
    env.update({name: str(value) for name, value in values.items() if value})
    return env


def _connection_options(url: URL) -> list[str]:
    """The tools' options that name the server and the user: never the password."""
    options = []
    if url.host:
        options.append(f"--host={url.host}")
    if url.port:
        options.append(f"--port={url.port}")
    if url.username:
        options.append(f"--username={url.username}")
    return options


def _dump_by_hand(url: URL, target: Path) -> str:
    command = ["pg_dump", "--format=custom", "--no-owner", *_connection_options(url)]
    command.append(f"--file={target}")
    if url.database:
        command.append(url.database)
    return shlex.join(command)


def _restore_by_hand(url: URL, source: Path) -> str:
    command = ["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction"]
    command += [*_connection_options(url), f"--dbname={url.database or ''}", str(source)]
    return f"{shlex.join(command)}, then `pmo-bot db upgrade`"


def _tool(name: str, engine: Engine, environ: Mapping[str, str], *, by_hand: str) -> str:
    """The PostgreSQL client program `name`, found on the PATH of `environ`; BackupError naming
    what to install (the client of the server's major version) and what to run by hand."""
    found = shutil.which(name, path=environ.get("PATH", os.defpath))
    if found is not None:
        return found
    with engine.connect() as conn:
        version = conn.dialect.server_version_info
    major = version[0] if version else "server's"
    raise BackupError(
        f"{name} is not on PATH: install the PostgreSQL {major} client (the server's major "
        f"version; e.g. the package postgresql-client-{major}), or run by hand, with the "
        f"password in PGPASSWORD: {by_hand}"
    )


def _run(
    tool: str, arguments: Sequence[str], *, env: Mapping[str, str], password: str | None
) -> str:
    """Run a PostgreSQL client program and return what it printed; BackupError with the first
    line of its complaint, the password blanked out, if it fails. It never prompts: a missing
    password is an error (--no-password where the program connects)."""
    name = Path(tool).name
    try:
        done = subprocess.run(
            [tool, *arguments],
            env=dict(env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            check=False,
        )
    except OSError as exc:
        raise BackupError(f"cannot run {tool}: {exc.strerror or exc}") from None
    if done.returncode != 0:
        complaint = [line.strip() for line in done.stderr.splitlines() if line.strip()]
        first = complaint[0] if complaint else f"exit status {done.returncode}"
        if password:
            first = first.replace(password, "***")
        raise BackupError(f"{name} failed: {first}")
    return done.stdout


def _copied_rows(script: str, table_name: str) -> list[str] | None:
    """The rows of `table_name` in the COPY block of a pg_restore script (one column each);
    None when the script has no such block."""
    lines = script.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("COPY ") and f"{table_name} " in line and "FROM stdin" in line:
            rows: list[str] = []
            for row in lines[index + 1 :]:
                if row == "\\.":
                    return rows
                rows.append(row)
            return rows
    return None


# --- Both ----------------------------------------------------------------------------------


def _holdings(conn: Connection) -> Holdings:
    """Counted with plain COUNT(*) on the tables' names, which every schema revision since
    their creation reads alike (a table an old revision lacks counts 0)."""
    present = set(inspect(conn).get_table_names())
    counts = [
        int(conn.scalar(select(func.count()).select_from(table(model.__tablename__))) or 0)
        if model.__tablename__ in present
        else 0
        for model in _COUNTED
    ]
    revision = None
    if VERSION_TABLE in present:
        rows = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
        revision = ", ".join(sorted(str(row) for row in rows)) or None
    projects, reports, audit_entries, archives = counts
    return Holdings(revision, projects, reports, audit_entries, archives)


def _publish(temporary: Path, target: Path) -> None:
    """Give the finished copy its name: readable by its owner only (it holds every person's
    data), on disk before it is named, and never over a file that appeared meanwhile (a hard
    link fails on an existing name, where a rename would replace it); then make the new name
    itself last (the folder's entry written to disk)."""
    os.chmod(temporary, 0o600)
    descriptor = os.open(temporary, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    appeared = BackupError(
        f"{target} appeared while the backup was written: a backup never replaces a file; "
        "name a new one"
    )
    try:
        os.link(temporary, target)
    except FileExistsError:
        raise appeared from None
    except OSError:  # a file system without hard links: a rename, checked just before
        if target.exists():
            raise appeared from None
        os.replace(temporary, target)
    else:
        temporary.unlink()
    folder = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    except OSError:  # some file systems cannot sync a folder; the rename is done all the same
        pass
    finally:
        os.close(folder)
