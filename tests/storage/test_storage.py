"""Storage on SQLite and PostgreSQL: migrations match the models, promises are constraints,
and the queries behind a digest and /pmo status do not grow with the portfolio."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Engine, Integer, MetaData, Table, event, select, text
from sqlalchemy.exc import IntegrityError

from bot.digest.load import build_digest
from bot.lookup.status import status_view
from storage import deliveries, items, portfolio, reports, users
from storage.db import make_engine, make_sessionmaker
from storage.deliveries import Claim
from storage.models import Base, DeliveryRow, UTCDateTime
from storage.records import (
    BlockerSpec,
    DeliveryKind,
    DeliveryStatus,
    MilestoneSpec,
    RiskSpec,
    SlackUser,
)
from tests import factories

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
UTC_ZONE = ZoneInfo("UTC")


def test_migrations_create_exactly_the_models(engine: Engine) -> None:
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_import_upserts_by_key_and_reports_what_changed(engine: Engine) -> None:
    sessions = make_sessionmaker(engine)
    with sessions.begin() as session:
        assert (
            portfolio.upsert_projects(
                session,
                [factories.project_spec("ATLAS"), factories.project_spec("BOREAL")],
                now=NOW,
            )
            == 2
        )
    with sessions.begin() as session:
        assert (
            portfolio.upsert_projects(
                session,
                [factories.project_spec("ATLAS"), factories.project_spec("BOREAL", name="Renamed")],
                now=NOW,
            )
            == 1
        )
    with sessions.begin() as session:
        stored = portfolio.list_projects(session)
    assert [(p.key, p.name) for p in stored] == [("ATLAS", "Atlas project"), ("BOREAL", "Renamed")]


def test_datetimes_come_back_aware_in_utc(engine: Engine) -> None:
    sessions = make_sessionmaker(engine)
    paris = datetime(2026, 11, 19, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))
    with sessions.begin() as session:
        portfolio.upsert_projects(session, [factories.project_spec()], now=NOW)
        project = portfolio.list_projects(session)[0]
        reports.save_report(
            session,
            factories.draft(),
            project_id=project.id,
            period_start=paris,
            submitted_by="U0PM00001",
            submitted_at=NOW,
        )
    with sessions.begin() as session:
        stored = reports.latest_reports(session, [project.id])[project.id][0]
    assert stored.period_start == datetime(2026, 11, 19, 9, 0, tzinfo=UTC)
    assert stored.period_start.tzinfo is not None


def test_a_second_answer_for_a_period_replaces_the_first(engine: Engine) -> None:
    sessions = make_sessionmaker(engine)
    with sessions.begin() as session:
        portfolio.upsert_projects(session, [factories.project_spec()], now=NOW)
        pid = portfolio.list_projects(session)[0].id
    for overall in ("green", "red"):
        with sessions.begin() as session:
            reports.save_report(
                session,
                factories.draft(overall),
                project_id=pid,
                period_start=factories.T0,
                submitted_by="U0PM00001",
                submitted_at=NOW,
            )
    with sessions.begin() as session:
        history = reports.latest_reports(session, [pid], per_project=5)[pid]
    assert [r.overall.value for r in history] == ["red"]


def test_the_database_refuses_a_second_delivery_for_the_same_occurrence(engine: Engine) -> None:
    sessions = make_sessionmaker(engine)
    row = {
        "kind": "prompt",
        "target": "project:1",
        "occurrence": factories.T0,
        "status": "pending",
        "attempts": 0,
        "created_at": NOW,
    }
    with sessions.begin() as session:
        session.add(DeliveryRow(**row))
    with pytest.raises(IntegrityError), sessions.begin() as session:
        session.add(DeliveryRow(**row))


def test_claims_are_granted_once_even_to_concurrent_processes(database_url: str) -> None:
    """Two engines (as two processes would have) claim the same occurrences at once."""
    engines = [make_engine(database_url) for _ in range(2)]
    try:
        from storage.db import upgrade

        upgrade(engines[0])
        claims = [Claim(DeliveryKind.PROMPT, f"project:{i}", factories.T0) for i in range(50)]
        granted: list[list[int]] = []
        barrier = threading.Barrier(2)

        def claim_all(engine: Engine) -> None:
            barrier.wait()
            with make_sessionmaker(engine).begin() as session:
                granted.append(deliveries.enqueue(session, claims, now=NOW))

        threads = [threading.Thread(target=claim_all, args=(e,)) for e in engines]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(len(g) for g in granted) == [0, 50]
        with make_sessionmaker(engines[0]).begin() as session:
            again = deliveries.enqueue(session, claims, now=NOW + timedelta(minutes=1))
            stored = deliveries.list_deliveries(session)
        assert again == []
        assert len(stored) == 50 and {d.status for d in stored} == {DeliveryStatus.PENDING}
    finally:
        for engine in engines:
            engine.dispose()


def test_user_cache_keeps_a_known_dm_channel(engine: Engine) -> None:
    sessions = make_sessionmaker(engine)
    with sessions.begin() as session:
        users.save_user(session, SlackUser("U1AAA", "Europe/Paris", "fr-FR", "Cam", "D1", NOW))
    with sessions.begin() as session:
        users.save_user(session, SlackUser("U1AAA", "Asia/Tokyo", "fr-FR", "Cam", None, NOW))
    with sessions.begin() as session:
        cached = users.find_users(session, ["U1AAA"])["U1AAA"]
    assert (cached.tz, cached.dm_channel) == ("Asia/Tokyo", "D1")


@contextmanager
def count_statements(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _portfolio_of(engine: Engine, size: int) -> None:
    sessions = make_sessionmaker(engine)
    with sessions.begin() as session:
        portfolio.upsert_projects(
            session,
            [
                factories.project_spec(f"P{i:03d}", pm=f"U0PM{i:05d}", portfolio="Ops")
                for i in range(size)
            ],
            now=NOW,
        )
        portfolio.upsert_subscriptions(session, [factories.subscription()], now=NOW)
        for project in portfolio.list_projects(session):
            for week in range(3):
                reports.save_report(
                    session,
                    factories.draft("amber" if week else "green"),
                    project_id=project.id,
                    period_start=factories.T0 - timedelta(weeks=week),
                    submitted_by=project.pm,
                    submitted_at=NOW,
                )
            users.save_user(session, SlackUser(project.pm, "Europe/Paris", None, "PM", None, NOW))


@pytest.mark.parametrize("size", [3, 40])
def test_a_digest_and_a_status_lookup_cost_the_same_statements_whatever_the_size(
    engine: Engine, size: int
) -> None:
    _portfolio_of(engine, size)
    sessions = make_sessionmaker(engine)
    with sessions.begin() as session:  # every project with risks, blockers and milestones
        for project in portfolio.list_projects(session):
            items.save_risks(
                session,
                project.id,
                [RiskSpec("Vendor", 4, 4, owner="U0OWNER001"), RiskSpec("Staff", 2, 3)],
                period_start=factories.T0,
                now=NOW,
            )
            items.save_blockers(
                session,
                project.id,
                [BlockerSpec("Licence", unblocker="U0CFO0001", needs_leadership=True)],
                period_start=factories.T0,
                now=NOW,
            )
            items.replace_milestones(
                session, project.id, [MilestoneSpec("Go-live", date(2026, 11, 30))]
            )
    with sessions.begin() as session, count_statements(engine) as statements:
        subscription = portfolio.list_subscriptions(session)[0]
        digest = build_digest(session, subscription, at=NOW, default_tz=UTC_ZONE)
    assert digest.counts.total == size
    assert len(digest.risks) == 2 * size and len(digest.blockers) == size
    assert len(digest.deadlines) == size and len(digest.chart.periods) == 8
    # subscriptions; projects, risks, blockers, milestones, people, the two latest reports,
    # the marks of older ones, prompts, the calendar (working hours, holidays), skips; and
    # governance: overdue actions, the newest decisions, the decisions since; the portfolio's
    # money settings (currency, tolerances); the people and teams (the capacity line); the
    # delivery process (none here: the stage requests are not read)
    assert len(statements) == 18

    with sessions.begin() as session, count_statements(engine) as statements:
        project = portfolio.find_project(session, "P001")
        assert project is not None
        view = status_view(session, project, now=NOW, default_tz=UTC_ZONE)
    assert view.report is not None and len(view.strip) == 8
    # the project; this period's state, recomputed (its stored standing; zones, reports,
    # prompts, skips, working hours, holidays, risks, the newest decision, what is stored ahead
    # of now, the delivery process; one upsert to store it); the strip's reports and skips;
    # risks, blockers, milestones; the names it shows; the project's newest decision; the money
    # settings (its tolerances decide whether it needs attention); the delivery process (its
    # phase; no process here: no stage requests read, neither here nor in the standing)
    assert len(statements) == 23
    with sessions.begin() as session, count_statements(engine) as statements:
        project = portfolio.find_project(session, "P001")
        assert project is not None
        again = status_view(session, project, now=NOW, default_tz=UTC_ZONE)
    assert again == view
    # the same, with this period's state from the read model (its standing, and the report
    # and prompt it names) instead of recomputed
    assert len(statements) == 11


def test_a_transaction_reads_the_projects_version_once_and_again_after_writing_them(
    engine: Engine,
) -> None:
    sessions = make_sessionmaker(engine)
    with sessions.begin() as session:
        portfolio.upsert_projects(session, [factories.project_spec("ATLAS")], now=NOW)
    with sessions.begin() as session, count_statements(engine) as statements:
        first = portfolio.list_projects(session)
        again = portfolio.list_projects(session)
        portfolio.upsert_projects(session, [factories.project_spec("BOREAS")], now=NOW)
        written = len(statements)
        after = portfolio.list_projects(session)
    assert [p.key for p in first] == [p.key for p in again] == ["ATLAS"]
    assert len([s for s in statements[:written] if "versions" in s]) == 2  # read, then bumped
    assert [p.key for p in after] == ["ATLAS", "BOREAS"]  # its own write is seen at once
    with sessions.begin() as session, count_statements(engine) as statements:
        assert [p.key for p in portfolio.list_projects(session)] == ["ATLAS", "BOREAS"]
    assert len(statements) == 1  # a new transaction checks the version again


def test_instants_come_back_as_the_aware_utc_instants_stored(engine: Engine) -> None:
    # UTCDateTime: SQLite keeps text without an offset (read by its own processor), PostgreSQL
    # a timestamptz; both give back aware UTC datetimes, microseconds kept, NULL as None, and
    # text written without microseconds (as SQL's CURRENT_TIMESTAMP would) read as well.
    table = Table(
        "instants_probe",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("at", UTCDateTime),
    )
    paris = ZoneInfo("Europe/Paris")
    stored = [
        datetime(2026, 11, 20, 16, 0, 0, 123456, tzinfo=UTC),
        datetime(2026, 3, 29, 3, 30, tzinfo=paris),  # just after the spring change, in Paris
        None,
    ]
    with engine.begin() as connection:
        table.create(connection)
        try:
            connection.execute(table.insert(), [{"id": i, "at": at} for i, at in enumerate(stored)])
            connection.execute(
                text("INSERT INTO instants_probe (id, at) VALUES (9, '2026-11-20 16:00:00')")
            )
            found = dict(connection.execute(select(table.c.id, table.c.at)).all())
        finally:
            table.drop(connection)
    assert found[0] == stored[0] and found[0].tzinfo is UTC
    assert found[1] == stored[1] and found[1].utcoffset() == timedelta(0)
    assert found[1].hour == 1  # 03:30 in Paris (summer time) is 01:30 UTC
    assert found[2] is None
    if engine.dialect.name == "sqlite":
        assert found[9] == datetime(2026, 11, 20, 16, 0, tzinfo=UTC)
