"""A backup holds the whole database and a restore gives it back, row for row, on SQLite and
PostgreSQL: every table of the schema, Alembic's revision included; over a database holding
something else, only the backup's data is left; a backup made at an older schema is restored
and migrated; and the copy is of one instant, whatever another connection is writing."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from sqlalchemy import Engine, MetaData, Table, create_engine, make_url, select, text

from bot.cli.sample import build_sample
from storage import (
    alerts,
    archives,
    audit,
    coordination,
    decisions,
    deliveries,
    items,
    portfolio,
    reports,
    stages,
    standings,
)
from storage.backup import (
    BackupError,
    BackupKind,
    Holdings,
    backup_database,
    backup_kind,
    backup_revision,
    database_holdings,
    restore_database,
)
from storage.db import SCHEMA_HEAD, alembic_config, make_engine, make_sessionmaker, upgrade
from storage.deliveries import Claim
from storage.models import Base
from storage.records import (
    ChangeKind,
    ChecklistAnswer,
    DecisionKind,
    DeliveryKind,
    ProjectSpec,
    RequestKind,
    RequestState,
    SendBudget,
    WorkingHours,
)
from tests import factories
from tests.conftest import POSTGRES_URL, migrate

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
PARIS = ZoneInfo("Europe/Paris")
ENVIRON = dict(os.environ)  # where pg_dump and pg_restore are found, as for the bot


class FreshDatabases:
    """Empty databases of one backend, each its own, dropped at the end. A pg_dump is of a
    whole database, and the per-test schemas of tests/conftest.py share one, so PostgreSQL's
    are databases of their own (on the server of PMO_TEST_POSTGRES_URL)."""

    def __init__(self, backend: str, folder: Path) -> None:
        self.backend = backend
        self.folder = folder / "databases"  # beside the backups, not among them
        self.folder.mkdir()
        self.made: list[str] = []
        self.admin: Engine | None = None
        if backend == "postgresql":
            self.admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")

    def new(self) -> str:
        """The URL of a new, empty database (for SQLite, a file not made yet)."""
        if self.admin is None:
            path = self.folder / f"pmo-{len(self.made)}.sqlite"
            self.made.append(str(path))
            return f"sqlite:///{path}"
        name = f"pmo_backup_{uuid.uuid4().hex[:12]}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE template0'))
        self.made.append(name)
        return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)

    def close(self) -> None:
        if self.admin is not None:
            with self.admin.connect() as conn:
                for name in self.made:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            self.admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def databases(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FreshDatabases]:
    if request.param == "postgresql":
        request.getfixturevalue("postgres_url")  # PostgreSQL answers (or a skip; in CI, a failure)
    made = FreshDatabases(request.param, tmp_path)
    try:
        yield made
    finally:
        made.close()


def fill(url: str, *, projects: int = 6, weeks: int = 3, extra: str = "ATLAS") -> None:
    """A migrated database holding a row in every table: a generated portfolio with weeks of
    history (reports with risks, blockers and milestones, Slack profiles, audit entries,
    subscriptions, holidays) and the rest by hand (a skip, deliveries sent and failed, an
    admin, an archive with accents and emoji, the shared send budget, a lease, a refused
    token, working hours, the read model's basis, a decision, a milestone's forecast, a gate
    decided with its checklist and decision record, a change request and a baseline)."""
    migrate(url)
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine).begin() as session:
            sample = build_sample(
                session, projects=projects, weeks=weeks, now=NOW, default_tz=PARIS
            )
            portfolio.upsert_projects(
                session, [ProjectSpec(key=extra, name="Extra: café ☕", pm="U0PM00001")], now=NOW
            )
            first = portfolio.list_projects(session)[0]
            reports.add_skips(
                session,
                [factories.skip(first.id, datetime(2026, 1, 5, 9, tzinfo=UTC), note="Congé ✈")],
            )
            ids = deliveries.enqueue(
                session,
                [
                    Claim(DeliveryKind.PROMPT, first.pm, NOW, project_id=first.id),
                    Claim(
                        DeliveryKind.DIGEST,
                        sample.subscription.channel,
                        NOW,
                        subscription_id=sample.subscription.id,
                        payload={"note": "naïve ✓"},
                    ),
                ],
                now=NOW,
            )
            deliveries.mark_sent(session, ids[0], channel="D0DM", ts="1.000100", now=NOW)
            deliveries.mark_failed(session, ids[1], error="channel_not_found", now=NOW)
            audit.grant_admin(session, "U0ADMIN01", by="U0PMO0001", at=NOW)
            archives.save_archive(
                session,
                project_id=first.id,
                closed_by="U0PMO0001",
                closed_at=NOW,
                summary="Livré à temps 🚀",
                lessons="Plan the cut-over; « test » early.",
                markdown="# Record\n\n| a | b |\n| --- | --- |\n| é | ✓ |\n",
            )
            coordination.lock_budget(session, "chat.postMessage", start=SendBudget(rate=1.5))
            coordination.take_lease(
                session, "users.list", "replica-1", now=NOW, lease_for=timedelta(minutes=2)
            )
            coordination.refuse_access(session, "f00dfeed", reason="token_revoked", at=NOW)
            asked = decisions.open_decision(
                session,
                project_id=first.id,
                question="Décider « go-live » ?",
                needed_by=NOW.date(),
                report_id=None,
                now=NOW,
            )
            decisions.add_actions(
                session, asked, [("Prévenir l'éditeur", "U0OWNER001", NOW.date())], now=NOW
            )
            gate = stages.add_request(
                session,
                project_id=first.id,
                kind=RequestKind.GATE,
                requested_by="U0PM00001",
                at=NOW - timedelta(days=1),
                reason="Prêt ✓",
                from_phase="planification",
                to_phase="exécution",
                checklist=[ChecklistAnswer("Plan « signé »", True, True, "https://wiki/é")],
            )
            gate_decision = decisions.record_decided(
                session,
                project_id=first.id,
                kind=DecisionKind.GATE,
                question="planification → exécution",
                outcome="approved_with_conditions",
                rationale="Sous réserve ✓",
                by="U0SPONSOR1",
                at=NOW,
            )
            stages.settle(
                session,
                gate.id,
                state=RequestState.DECIDED,
                at=NOW,
                outcome="approved_with_conditions",
                by="U0SPONSOR1",
                decision_id=gate_decision.id,
            )
            asked_gate = stages.add_request(
                session,
                project_id=first.id,
                kind=RequestKind.CHANGE,
                requested_by="U0PM00001",
                at=NOW,
                reason="Périmètre « élargi » ✓",
                changes=(ChangeKind.SCOPE,),
                new_budget=Decimal("1234.50"),
            )
            stages.add_baseline(
                session,
                project_id=first.id,
                budget=Decimal("1000"),
                end=NOW.date(),
                milestones=[("Jalon é", NOW.date())],
                source="change",
                by="U0SPONSOR1",
                at=NOW,
                request_id=asked_gate.id,
            )
            portfolio.replace_working_hours(session, WorkingHours(start=time(9), end=time(17)))
            standings.ensure_basis(session, "rule-1 Europe/Paris")
            alerts.record_raised(
                session, "overload", [("U0PM00001", "2027-01", Decimal("1.4"))], at=NOW
            )
            milestone = next(
                m
                for ms in items.list_milestones(
                    session, [p.id for p in portfolio.list_projects(session)]
                ).values()
                for m in ms
                if m.done_on is None
            )
            items.forecast_milestones(
                session,
                milestone.project_id,
                {milestone.id: milestone.due + timedelta(days=9)},
                report_id=None,
                now=NOW,
            )
    finally:
        engine.dispose()


def table_rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of the schema, and Alembic's revision, by primary key."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            found = {
                table.name: [
                    tuple(row)
                    for row in conn.execute(select(table).order_by(*table.primary_key.columns))
                ]
                for table in Base.metadata.sorted_tables
            }
            found["alembic_version"] = [
                tuple(row) for row in conn.execute(text("SELECT version_num FROM alembic_version"))
            ]
            return found
    finally:
        engine.dispose()


def holdings(url: str) -> Holdings:
    engine = make_engine(url)
    try:
        return database_holdings(engine)
    finally:
        engine.dispose()


def back_up(url: str, target: Path) -> Holdings:
    engine = make_engine(url)
    try:
        return backup_database(engine, target, environ=ENVIRON)
    finally:
        engine.dispose()


def restore(url: str, source: Path) -> str:
    """Restore as `pmo-bot restore` does (migrating an older backup); the backup's revision."""
    engine = make_engine(url)
    try:
        kind = backup_kind(source)
        revision = backup_revision(engine, source, kind, environ=ENVIRON)
        restore_database(engine, source, kind, environ=ENVIRON)
        if revision != SCHEMA_HEAD:
            upgrade(engine)
        return revision
    finally:
        engine.dispose()


def test_a_backup_restored_into_an_empty_database_holds_every_row(
    databases: FreshDatabases, tmp_path: Path
) -> None:
    source, target = databases.new(), databases.new()
    fill(source)
    rows = table_rows(source)
    assert all(rows.values()), [name for name, found in rows.items() if not found]
    backup = tmp_path / "pmo.backup"

    held = back_up(source, backup)

    assert held == holdings(source)
    assert held.revision == SCHEMA_HEAD
    assert held == Holdings(
        SCHEMA_HEAD,
        projects=len(rows["projects"]),
        reports=len(rows["status_reports"]),
        audit_entries=len(rows["audit_log"]),
        archives=len(rows["project_archives"]),
    )
    assert backup_kind(backup) is BackupKind(databases.backend)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["databases", "pmo.backup"]  # no temporary
    assert restore(target, backup) == SCHEMA_HEAD
    assert table_rows(target) == rows
    assert holdings(target) == held
    engine = make_engine(target)  # the sequences came along: new rows get new ids
    try:
        with make_sessionmaker(engine).begin() as session:
            portfolio.upsert_projects(session, [ProjectSpec("NEWONE", "New", "U0PM00001")], now=NOW)
            new = portfolio.find_project(session, "NEWONE")
        assert new is not None and new.id > max(row[0] for row in rows["projects"])
    finally:
        engine.dispose()


def test_a_restore_over_a_database_holding_other_data_leaves_only_the_backups(
    databases: FreshDatabases, tmp_path: Path
) -> None:
    source, target = databases.new(), databases.new()
    fill(source)
    fill(target, projects=3, weeks=5, extra="OTHER")
    backup = tmp_path / "pmo.backup"
    back_up(source, backup)

    restore(target, backup)

    assert table_rows(target) == table_rows(source)


def test_a_backup_of_an_older_schema_is_restored_and_migrated(
    databases: FreshDatabases, tmp_path: Path
) -> None:
    """Made at 0011 and restored into a database at head (whose newer table the backup does
    not have): the backup's data, at head."""
    source, target = databases.new(), databases.new()
    engine = make_engine(source)
    try:
        command.upgrade(alembic_config(engine), "0011")
        # Written with the columns that schema has (today's models have more).
        with engine.begin() as connection:
            projects = Table("projects", MetaData(), autoload_with=connection)
            values = {
                "key": "OLDER",
                "name": "From 0011",
                "pm_id": "U0PM00001",
                "tags": [],
                "cadence": "FREQ=WEEKLY;BYDAY=TH;BYHOUR=10;BYMINUTE=0",
                "state": "active",
                "reminder_after_hours": 24,
                "holidays": [],
                "delegates": [],
                "confidential": False,
                "escalate_to_sponsor": False,
                "created_at": NOW,
                "updated_at": NOW,
            }
            connection.execute(
                projects.insert().values({k: v for k, v in values.items() if k in projects.c})
            )
    finally:
        engine.dispose()
    fill(target, projects=2, weeks=1)
    backup = tmp_path / "older.backup"
    assert back_up(source, backup).revision == "0011"

    assert restore(target, backup) == "0011"

    rows = table_rows(target)
    assert rows["alembic_version"] == [(SCHEMA_HEAD,)]
    assert [row[1] for row in rows["projects"]] == ["OLDER"]
    assert rows["slack_access_refusals"] == []  # created again by the migration, empty
    assert holdings(target).reports == 0


def test_the_copy_is_of_one_instant_while_another_connection_writes(
    databases: FreshDatabases, tmp_path: Path
) -> None:
    """Online: a transaction still open elsewhere neither blocks the backup nor gets into it."""
    source, target = databases.new(), databases.new()
    fill(source, projects=2, weeks=1)
    before = holdings(source)
    writer = make_engine(source)
    try:
        with make_sessionmaker(writer).begin() as session:
            portfolio.upsert_projects(
                session, [ProjectSpec("LATER", "Not yet committed", "U0PM00001")], now=NOW
            )
            session.flush()
            held = back_up(source, tmp_path / "pmo.backup")
    finally:
        writer.dispose()
    assert held == before
    restore(target, tmp_path / "pmo.backup")
    assert holdings(target) == before
    assert holdings(source).projects == before.projects + 1


def test_an_empty_database_has_nothing_to_back_up(
    databases: FreshDatabases, tmp_path: Path
) -> None:
    engine = make_engine(databases.new())
    try:
        with pytest.raises(BackupError, match="nothing to back up"):
            backup_database(engine, tmp_path / "pmo.backup", environ=ENVIRON)
    finally:
        engine.dispose()
    assert [p.name for p in tmp_path.iterdir()] == ["databases"]


def test_only_sqlite_databases_and_pg_dump_archives_are_backups(tmp_path: Path) -> None:
    text_file = tmp_path / "notes.txt"
    text_file.write_text("SQLite format 2, nearly\n", encoding="utf-8")
    archive = tmp_path / "pmo.dump"
    archive.write_bytes(b"PGDMP\x01\x0e\x00" + bytes(64))
    for path, reason in (
        (text_file, "neither an SQLite database nor a pg_dump archive"),
        (tmp_path / "missing.sqlite", "there is no such file"),
        (tmp_path, "it is a folder"),
    ):
        with pytest.raises(BackupError, match="is not a PMO Bot backup") as raised:
            backup_kind(path)
        assert reason in str(raised.value)
    assert backup_kind(archive) is BackupKind.POSTGRESQL
