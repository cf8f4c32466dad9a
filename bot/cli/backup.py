"""`pmo-bot backup FILE` and `pmo-bot restore FILE [--replace]`: the whole database (every
report, record, audit entry and archive) in one file, and back.

`backup` may run while the bot does: SQLite's copy is online, pg_dump reads one snapshot. It
never overwrites a file. `restore` wants the bot stopped (a process writing meanwhile would
block it, or write into what it replaces); it refuses, with nothing changed, a file that is not
a backup, a backup of the other kind of database, one made by a newer version, and a database
that already holds projects or reports unless `--replace` says to replace them. A backup made
at an older schema is migrated once restored.

The work is storage's (storage/backup.py); here are the checks a person can act on, each one
line and exit status 2, and the one line that says what was done.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from sqlalchemy import Engine

from bot.cli.arguments import UsageError
from bot.config import Settings, redact_url
from storage.backup import (
    BackupError,
    BackupKind,
    Holdings,
    backup_database,
    backup_kind,
    backup_revision,
    database_holdings,
    known_revisions,
    restore_database,
)
from storage.db import SCHEMA_HEAD, upgrade

# The kinds of backup, and of database, in a sentence.
_BACKUPS = {BackupKind.SQLITE: "an SQLite", BackupKind.POSTGRESQL: "a PostgreSQL (pg_dump)"}
_DATABASES = {BackupKind.SQLITE: "an SQLite", BackupKind.POSTGRESQL: "a PostgreSQL"}
_NAMES = {BackupKind.SQLITE: "SQLite", BackupKind.POSTGRESQL: "PostgreSQL"}


def backup_command(
    engine: Engine,
    settings: Settings,
    target: Path,
    *,
    environ: Mapping[str, str],
    out: TextIO,
) -> int:
    """Copy the whole database to `target`, a new file in a folder that exists."""
    if target.exists() or target.is_symlink():
        raise UsageError(f"{target} already exists: a backup never replaces a file; name a new one")
    folder = target.parent
    if not folder.is_dir():
        raise UsageError(f"cannot write {target}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"cannot write {target}: the folder {folder} is not writable")
    try:
        held = backup_database(engine, target, environ=environ)
    except BackupError as exc:
        raise UsageError(redact_url(str(exc))) from None
    where = redact_url(settings.database_url)
    print(f"backed up {where} to {target}: {_holdings_text(held)}", file=out)
    return 0


def restore_command(
    engine: Engine,
    settings: Settings,
    source: Path,
    *,
    replace: bool,
    environ: Mapping[str, str],
    out: TextIO,
) -> int:
    """Replace the whole database with the backup `source`, then migrate it to this version's
    schema if it is older."""
    where = redact_url(settings.database_url)
    try:
        kind = backup_kind(source)
        _check_kind(source, kind, engine.dialect.name)
        revision = backup_revision(engine, source, kind, environ=environ)
        _check_revision(source, revision)
    except BackupError as exc:
        raise UsageError(f"{redact_url(str(exc))}; nothing was changed") from None
    present = database_holdings(engine)
    if (present.projects or present.reports) and not replace:
        raise UsageError(
            f"the database holds {_n(present.projects, 'project')} and "
            f"{_n(present.reports, 'report')}; restore replaces all of it: add --replace "
            "(nothing was changed)"
        )
    try:
        restore_database(engine, source, kind, environ=environ)
    except BackupError as exc:  # says itself what it left
        raise UsageError(redact_url(str(exc))) from None
    migrated = ""
    if revision != SCHEMA_HEAD:
        upgrade(engine)
        migrated = f" (migrated from {revision})"
    held = database_holdings(engine)
    print(f"restored {source} into {where}{migrated}: {_holdings_text(held)}", file=out)
    return 0


def _check_kind(source: Path, kind: BackupKind, dialect: str) -> None:
    """A backup restores only into the kind of database that made it."""
    if kind.value == dialect:
        return
    other = BackupKind.SQLITE if kind is BackupKind.POSTGRESQL else BackupKind.POSTGRESQL
    raise BackupError(
        f"{source} is {_BACKUPS[kind]} backup and DATABASE_URL names {_DATABASES[other]} "
        f"database: it restores only into {_NAMES[kind]} (PMO Bot does not move a database "
        "from one kind to the other)"
    )


def _check_revision(source: Path, revision: str) -> None:
    """A backup this version can migrate: made at its schema or an older one."""
    unknown = sorted(set(revision.split(", ")) - known_revisions())
    if not unknown:
        return
    if all(r > SCHEMA_HEAD for r in unknown):
        raise BackupError(
            f"{source} is at schema revision {revision}, newer than this version's "
            f"{SCHEMA_HEAD}: restore it with the newer PMO Bot that made it"
        )
    raise BackupError(
        f"{source} is at schema revision {revision}, which this version (schema {SCHEMA_HEAD}) "
        "does not know"
    )


def _holdings_text(held: Holdings) -> str:
    return (
        f"schema {held.revision}, {_n(held.projects, 'project')}, "
        f"{_n(held.reports, 'status report')}, "
        f"{_n(held.audit_entries, 'audit entry', 'audit entries')}, "
        f"{_n(held.archives, 'archive')}"
    )


def _n(count: int, singular: str, plural: str | None = None) -> str:
    return f"{count:,} {singular if count == 1 else plural or singular + 's'}"
