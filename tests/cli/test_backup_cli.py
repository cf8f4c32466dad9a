"""`pmo-bot backup FILE` and `pmo-bot restore FILE [--replace]`: a round trip through the command
line, one line saying what was done; every refusal one line, exit status 2, nothing written or
changed; and a PostgreSQL password in no output, nor on pg_dump's command line."""

from __future__ import annotations

import re
import shutil
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import make_url

from storage.db import SCHEMA_HEAD, alembic_config, make_engine
from tests.cli.test_cli import Result, assert_one_line_error, cli
from tests.conftest import migrate
from tests.storage.test_backup import FreshDatabases, fill, holdings, table_rows

PASSWORD = "Sw0rdfish-7f3a"  # trust authentication accepts it and ignores it
COUNTS = re.compile(
    r"schema (\d{4}), (\d+) projects?, (\d+) status reports?, (\d+) audit entr(y|ies), "
    r"(\d+) archives?$"
)


def sqlite_env(path: Path) -> dict[str, str]:
    return {"DATABASE_URL": f"sqlite:///{path}"}


@pytest.fixture
def source(tmp_path: Path) -> dict[str, str]:
    """An SQLite database holding a small portfolio with its history."""
    env = sqlite_env(tmp_path / "live.sqlite")
    fill(env["DATABASE_URL"], projects=3, weeks=2)
    return env


@pytest.fixture
def backup(source: dict[str, str], tmp_path: Path) -> Path:
    path = tmp_path / "pmo.backup"
    assert cli(["backup", str(path)], source).code == 0
    return path


@pytest.fixture
def postgres(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FreshDatabases]:
    """Empty PostgreSQL databases of their own (a pg_dump is of a whole database)."""
    request.getfixturevalue("postgres_url")  # PostgreSQL answers (or a skip; in CI, a failure)
    databases = FreshDatabases("postgresql", tmp_path)
    try:
        yield databases
    finally:
        databases.close()


def with_password(url: str) -> str:
    return make_url(url).set(password=PASSWORD).render_as_string(hide_password=False)


def assert_no_password(*results: Result) -> None:
    for result in results:
        assert PASSWORD not in result.out + result.err, result


def test_a_backup_restores_into_a_new_database_as_it_was(
    source: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "pmo.backup"
    backed_up = cli(["backup", str(path)], source)
    target = sqlite_env(tmp_path / "restored.sqlite")

    restored = cli(["restore", str(path)], target)

    assert backed_up.code == 0 and backed_up.err == "", backed_up
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # it holds everyone's data
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    line = backed_up.out.splitlines()
    assert len(line) == 1 and line[0].startswith(f"backed up {source['DATABASE_URL']} to {path}: ")
    counts = COUNTS.search(line[0])
    assert counts is not None, line
    held = holdings(source["DATABASE_URL"])
    assert counts.group(1) == SCHEMA_HEAD == held.revision
    assert [int(counts.group(n)) for n in (2, 3, 4, 6)] == [
        held.projects,
        held.reports,
        held.audit_entries,
        held.archives,
    ]
    assert restored.code == 0 and restored.err == "", restored
    assert restored.out == (
        f"restored {path} into {target['DATABASE_URL']}: {line[0].split(': ', 1)[1]}\n"
    )
    assert table_rows(target["DATABASE_URL"]) == table_rows(source["DATABASE_URL"])


def test_a_backup_from_an_older_version_is_migrated_on_restore(tmp_path: Path) -> None:
    older = sqlite_env(tmp_path / "older.sqlite")
    engine = make_engine(older["DATABASE_URL"])
    try:
        command.upgrade(alembic_config(engine), "0011")
    finally:
        engine.dispose()
    path = tmp_path / "older.backup"
    assert cli(["backup", str(path)], older).out.endswith(
        ": schema 0011, 0 projects, 0 status reports, 0 audit entries, 0 archives\n"
    )
    target = sqlite_env(tmp_path / "target.sqlite")

    restored = cli(["restore", str(path)], target)

    assert restored.out == (
        f"restored {path} into {target['DATABASE_URL']} (migrated from 0011): schema "
        f"{SCHEMA_HEAD}, 0 projects, 0 status reports, 0 audit entries, 0 archives\n"
    )
    assert holdings(target["DATABASE_URL"]).revision == SCHEMA_HEAD


def test_backup_never_overwrites_a_file_nor_writes_into_a_missing_folder(
    source: dict[str, str], tmp_path: Path
) -> None:
    existing = tmp_path / "existing.backup"
    existing.write_text("keep me", encoding="utf-8")

    assert_one_line_error(cli(["backup", str(existing)], source), str(existing), "already exists")
    assert existing.read_text(encoding="utf-8") == "keep me"
    missing = tmp_path / "nowhere" / "pmo.backup"
    assert_one_line_error(
        cli(["backup", str(missing)], source), "cannot write", "does not exist", "nowhere"
    )
    assert not missing.parent.exists()


def test_backup_of_a_database_file_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    env = sqlite_env(tmp_path / "none.sqlite")

    assert_one_line_error(
        cli(["backup", str(tmp_path / "pmo.backup")], env), "does not exist", "nothing to back up"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize("what", ["text", "missing", "folder"])
def test_restore_of_what_is_not_a_backup_is_refused(
    what: str, source: dict[str, str], tmp_path: Path
) -> None:
    path = {"text": tmp_path / "notes.txt", "missing": tmp_path / "gone", "folder": tmp_path}[what]
    (tmp_path / "notes.txt").write_text("projects:\n  - key: ATLAS\n", encoding="utf-8")
    before = table_rows(source["DATABASE_URL"])

    result = cli(["restore", str(path), "--replace"], source)

    assert_one_line_error(result, str(path), "is not a PMO Bot backup", "nothing was changed")
    assert table_rows(source["DATABASE_URL"]) == before


def test_restore_of_a_backup_from_a_newer_version_says_which_schema_it_is(
    backup: Path, tmp_path: Path
) -> None:
    newer = tmp_path / "newer.backup"
    shutil.copyfile(backup, newer)
    with sqlite3.connect(newer) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0099'")
    conn.close()
    target = tmp_path / "target.sqlite"

    result = cli(["restore", str(newer)], sqlite_env(target))

    assert_one_line_error(
        result, "schema revision 0099", f"newer than this version's {SCHEMA_HEAD}"
    )
    assert not target.exists()


def test_an_sqlite_database_that_is_not_pmo_bots_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
    conn.close()

    result = cli(["restore", str(other)], sqlite_env(tmp_path / "target.sqlite"))

    assert_one_line_error(result, "is not a PMO Bot backup", "schema revision")


def test_restore_over_projects_or_reports_needs_replace(
    backup: Path, source: dict[str, str], tmp_path: Path
) -> None:
    target = sqlite_env(tmp_path / "other.sqlite")
    fill(target["DATABASE_URL"], projects=2, weeks=1, extra="OTHER")
    before = table_rows(target["DATABASE_URL"])
    present = holdings(target["DATABASE_URL"])

    refused = cli(["restore", str(backup)], target)

    assert_one_line_error(
        refused,
        f"the database holds {present.projects} projects and {present.reports} reports; "
        "restore replaces all of it: add --replace",
    )
    assert table_rows(target["DATABASE_URL"]) == before
    replaced = cli(["restore", str(backup), "--replace"], target)
    assert replaced.code == 0, replaced
    assert table_rows(target["DATABASE_URL"]) == table_rows(source["DATABASE_URL"])


def test_a_backup_restores_only_into_its_own_kind_of_database(
    backup: Path, tmp_path: Path, postgres_url: str
) -> None:
    into_postgres = cli(["restore", str(backup)], {"DATABASE_URL": with_password(postgres_url)})
    archive = tmp_path / "pmo.dump"
    archive.write_bytes(b"PGDMP\x01\x0e\x00\x04\x08\x01\x01" + bytes(64))
    target = tmp_path / "target.sqlite"
    into_sqlite = cli(["restore", str(archive)], sqlite_env(target))

    assert_one_line_error(
        into_postgres,
        "is an SQLite backup and DATABASE_URL names a PostgreSQL database",
        "nothing was changed",
    )
    assert_one_line_error(
        into_sqlite,
        "is a PostgreSQL (pg_dump) backup and DATABASE_URL names an SQLite database",
        "nothing was changed",
    )
    assert not target.exists()
    assert_no_password(into_postgres)


def test_without_pg_dump_on_path_it_says_what_to_install_and_what_to_run(
    postgres_url: str, tmp_path: Path
) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    url = with_password(postgres_url)
    target = tmp_path / "pmo.dump"

    dump = cli(["backup", str(target)], {"DATABASE_URL": url, "PATH": str(empty)})
    restore = cli(["restore", str(tmp_path / "pmo.dump")], {"DATABASE_URL": url, "PATH": ""})

    database = make_url(postgres_url).database
    assert_one_line_error(
        dump,
        "pg_dump is not on PATH: install the PostgreSQL 1",
        "postgresql-client-1",
        "run by hand, with the password in PGPASSWORD: pg_dump --format=custom --no-owner",
        f"--username=postgres --file={target} {database}",
    )
    assert not target.exists() and [p.name for p in tmp_path.iterdir()] == ["bin"]
    assert_one_line_error(restore, "is not a PMO Bot backup", "no such file")
    assert_no_password(dump, restore)


def test_pg_dump_failing_is_one_line_without_the_password_which_it_got_in_its_environment(
    postgres_url: str, tmp_path: Path
) -> None:
    """A stand-in pg_dump on PATH records its arguments and environment, and fails quoting
    the password."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "pg_dump"
    fake.write_text(
        "#!/bin/sh\n"
        'printf "%s\\n" "$@" > "$RECORD"\n'
        'echo "PGPASSWORD=$PGPASSWORD PGUSER=$PGUSER PGHOST=$PGHOST" >> "$RECORD"\n'
        'echo "pg_dump: error: password \\"$PGPASSWORD\\" refused for $PGUSER" >&2\n'
        'echo "pg_dump: detail: second line" >&2\n'
        "exit 1\n",
        encoding="utf-8",
    )
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    record = tmp_path / "record.txt"
    migrate(postgres_url)
    environ = {
        "DATABASE_URL": with_password(postgres_url),
        "PATH": str(bin_dir),
        "RECORD": str(record),
    }
    target = tmp_path / "pmo.dump"

    result = cli(["backup", str(target)], environ)

    assert_one_line_error(result, 'pg_dump failed: pg_dump: error: password "***" refused')
    assert "second line" not in result.err
    assert_no_password(result)
    arguments, environment = record.read_text(encoding="utf-8").rsplit("PGPASSWORD=", 1)
    assert PASSWORD not in arguments
    assert "--format=custom" in arguments.splitlines() and "--no-owner" in arguments.splitlines()
    assert environment.startswith(f"{PASSWORD} PGUSER=postgres PGHOST=127.0.0.1")
    assert not target.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bin", "record.txt"]


def test_a_postgresql_round_trip_never_shows_the_password(
    postgres: FreshDatabases, tmp_path: Path
) -> None:
    source, target = postgres.new(), postgres.new()
    fill(source, projects=2, weeks=2)
    path = tmp_path / "pmo.dump"

    backed_up = cli(["backup", str(path)], {"DATABASE_URL": with_password(source)})
    refused = cli(["restore", str(path)], {"DATABASE_URL": with_password(source)})
    restored = cli(["restore", str(path)], {"DATABASE_URL": with_password(target)})

    assert backed_up.code == 0, backed_up
    assert backed_up.out.startswith("backed up postgresql+psycopg://postgres:***@127.0.0.1:5432/")
    assert_one_line_error(refused, "add --replace")
    assert restored.code == 0, restored
    assert COUNTS.search(restored.out.strip()) is not None, restored
    assert table_rows(target) == table_rows(source)
    assert_no_password(backed_up, refused, restored)
