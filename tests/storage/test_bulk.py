"""Bulk inserts (storage/bulk.py and the add_* functions beside each aggregate's save_*), on
SQLite and PostgreSQL: what they store reads back exactly as what the one-row functions store,
copies find their source, and a database can be asked whether it holds projects without
being changed; many ids, integers or texts, are read with one parameter."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, event, inspect
from sqlalchemy.exc import IntegrityError

from storage import audit, items, portfolio, reports, users
from storage.audit import NewAuditEntry
from storage.bulk import insert_rows
from storage.db import count_projects, make_engine, make_sessionmaker
from storage.models import HolidayRow
from storage.records import (
    Blocker,
    ItemStatus,
    MilestoneSpec,
    NewProject,
    NewReport,
    Project,
    ProjectState,
    Rag,
    Report,
    Risk,
    Skip,
    SkipReason,
    SlackUser,
)
from tests import factories
from tests.conftest import migrate

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
WEEK = timedelta(weeks=1)
PARIS = ZoneInfo("Europe/Paris")


def _without(value: Project | Report, *names: str) -> dict[str, Any]:
    """A stored value's fields, but those named (its id, its key...)."""
    return {k: v for k, v in asdict(value).items() if k not in names}


def test_bulk_projects_read_back_as_upserted_ones(engine: Engine) -> None:
    spec = factories.project_spec(
        "BULK",
        name='R&D <lab> "quotes"',
        sponsor="U0SPONSOR1",
        portfolio="Justice & Home Affairs",
        tags=("cloud", "data"),
        priority=2,
        budget=Decimal("1250000"),
        start=date(2026, 1, 5),
        end=date(2027, 6, 30),
        state=ProjectState.CLOSED,
        holidays=(date(2026, 12, 24),),
        delegates=("U0DEPUTY01",),
        confidential=True,
        escalate_to_sponsor=True,
    )
    sessions = make_sessionmaker(engine)
    with sessions.begin() as session:
        ids = portfolio.add_projects(
            session, [NewProject(spec, created_at=NOW - WEEK, updated_at=NOW, closed_at=NOW)]
        )
        portfolio.upsert_projects(session, [replace(spec, key="ONEBYONE")], now=NOW)
    with sessions.begin() as session:
        bulk, single = (portfolio.find_project(session, key) for key in ("BULK", "ONEBYONE"))
        created = portfolio.project_created_at(session, ids["BULK"])
    assert bulk is not None and single is not None and ids == {"BULK": bulk.id}
    assert _without(bulk, "id", "key") == _without(single, "id", "key")
    assert created == NOW - WEEK


def test_bulk_reports_read_back_as_saved_ones_and_copies_find_their_source(
    engine: Engine,
) -> None:
    sessions = make_sessionmaker(engine)
    first = datetime(2026, 11, 5, 10, 0, tzinfo=PARIS)
    draft = factories.draft(
        "amber",
        summary="Vendor <late> & over budget",
        forecast_end=date(2027, 3, 1),
        percent_complete=40,
        risks=("Vendor capacity",),
        blockers=("Licence approval",),
        help_needed="A decision",
        help_needed_by=date(2026, 11, 25),
        budget_spent=Decimal("120000.00"),
    )
    with sessions.begin() as session:
        ids = portfolio.add_projects(
            session,
            [
                NewProject(factories.project_spec(key), created_at=NOW, updated_at=NOW)
                for key in ("BULK", "SAVED")
            ],
        )
        reports.add_reports(
            session,
            [
                NewReport(draft, ids["BULK"], first, "U0PM00001", first + timedelta(hours=2)),
                NewReport(draft, ids["BULK"], first + WEEK, "U0PM00001", NOW, copy_of=first),
                NewReport(draft, ids["BULK"], first + 2 * WEEK, "U0PM00001", NOW, first + WEEK),
            ],
        )
        reports.save_report(
            session,
            draft,
            project_id=ids["SAVED"],
            period_start=first,
            submitted_by="U0PM00001",
            submitted_at=first + timedelta(hours=2),
        )
    with sessions.begin() as session:
        stored = reports.latest_reports(session, list(ids.values()), per_project=5)
    third, second, original = stored[ids["BULK"]]
    (saved,) = stored[ids["SAVED"]]
    assert _without(original, "id", "project_id") == _without(saved, "id", "project_id")
    assert (second.copied_from_id, third.copied_from_id) == (original.id, second.id)
    assert original.period_start == first and original.submitted_at.tzinfo == UTC


def test_a_report_already_stored_for_its_period_fails_the_whole_batch(engine: Engine) -> None:
    sessions = make_sessionmaker(engine)
    with sessions.begin() as session:
        (project_id,) = portfolio.add_projects(
            session, [NewProject(factories.project_spec(), created_at=NOW, updated_at=NOW)]
        ).values()
        reports.add_reports(session, [NewReport(factories.draft(), project_id, NOW, "U0X1", NOW)])
    with pytest.raises(IntegrityError), sessions.begin() as session:
        reports.add_reports(
            session,
            [
                NewReport(factories.draft(), project_id, NOW - WEEK, "U0X1", NOW),
                NewReport(factories.draft("red"), project_id, NOW, "U0X1", NOW),
            ],
        )
    with sessions.begin() as session:
        (kept,) = reports.latest_reports(session, [project_id], per_project=5)[project_id]
    assert kept.overall is Rag.GREEN


def test_bulk_records_read_back_as_the_queries_give_them(engine: Engine) -> None:
    sessions = make_sessionmaker(engine)
    period = datetime(2026, 11, 12, 9, 0, tzinfo=UTC)
    risk = Risk(
        "Supplier <late> & costly",
        4,
        5,
        "U0OWNER01",
        "Weekly checkpoint",
        project_id=0,
        opened_period=period,
        opened_at=period + timedelta(hours=3),
        updated_at=NOW,
    )
    closed = replace(risk, title="Old risk", status=ItemStatus.CLOSED, closed_at=NOW)
    blocker = Blocker(
        "Waiting for the environment",
        "U0LEAD0001",
        True,
        project_id=0,
        raised_period=period,
        raised_at=period + timedelta(hours=3),
        updated_at=NOW,
    )
    milestones = (
        MilestoneSpec("Go-live", date(2027, 1, 4)),
        MilestoneSpec("Design", date(2026, 6, 1), date(2026, 6, 3)),
    )
    with sessions.begin() as session:
        (project_id,) = portfolio.add_projects(
            session, [NewProject(factories.project_spec(), created_at=NOW, updated_at=NOW)]
        ).values()
        items.add_risks(session, [replace(r, project_id=project_id) for r in (risk, closed)])
        items.add_blockers(session, [replace(blocker, project_id=project_id)])
        items.add_milestones(session, {project_id: milestones})
        reports.add_skips(
            session,
            [Skip(project_id, period, SkipReason.OTHER, "Offsite", "U0PM00001", NOW)],
        )
        audit.record_many(
            session,
            [NewAuditEntry(project_id, "import", NOW - WEEK, "created", {"name": [None, "A&B"]})],
        )
    with sessions.begin() as session:
        risks = items.all_risks(session, project_id)
        blockers = items.all_blockers(session, project_id)
        stored_milestones = items.list_milestones(session, [project_id])[project_id]
        skips = reports.find_skips(session, [(project_id, period)])
        (entry,) = audit.project_changes(session, project_id)
    assert [replace(r, id=None) for r in risks] == [
        replace(r, project_id=project_id) for r in (risk, closed)
    ]
    assert [replace(b, id=None) for b in blockers] == [replace(blocker, project_id=project_id)]
    assert [MilestoneSpec(m.name, m.due, m.done_on) for m in stored_milestones] == sorted(
        milestones, key=lambda m: m.due
    )
    assert skips[(project_id, period)].note == "Offsite"
    assert (entry.action, entry.at, dict(entry.changes)) == (
        "created",
        NOW - WEEK,
        {"name": [None, "A&B"]},
    )


def test_rows_must_all_name_the_same_columns(engine: Engine) -> None:
    with (
        pytest.raises(ValueError, match="same columns"),
        make_sessionmaker(engine).begin() as session,
    ):
        insert_rows(session, HolidayRow, [{"day": date(2026, 12, 25)}, {}])


def test_counting_projects_changes_nothing_and_is_zero_without_a_schema(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    try:
        assert count_projects(engine) == 0
        if engine.dialect.name == "sqlite":
            assert not Path(str(engine.url.database)).exists()  # nothing was created
        assert inspect(engine).get_table_names() == []
        migrate(database_url)
        with make_sessionmaker(engine).begin() as session:
            portfolio.add_projects(
                session,
                [
                    NewProject(factories.project_spec(key), created_at=NOW, updated_at=NOW)
                    for key in ("ONE", "TWO")
                ],
            )
        assert count_projects(engine) == 2
    finally:
        engine.dispose()


def test_a_bare_postgresql_url_uses_the_driver_pmo_bot_installs(tmp_path: Path) -> None:
    engine = make_engine("postgresql://pmo@db.internal/pmo")
    assert (engine.dialect.name, engine.dialect.driver) == ("postgresql", "psycopg")
    assert make_engine(f"sqlite:///{tmp_path / 'x.sqlite'}").dialect.driver == "pysqlite"


def test_rows_of_more_ids_than_sqlite_takes_parameters_are_read_in_one_statement(
    engine: Engine,
) -> None:
    """`among` binds any number of ids as one parameter (SQLite takes 32,766 at most, and an
    IN list's parameters cost more than the query): the ratings of 40,000 report ids, two of
    them stored, in one statement with one parameter."""
    sessions = make_sessionmaker(engine)
    with sessions.begin() as session:
        pid = portfolio.add_projects(session, [NewProject(factories.project_spec(), NOW, NOW)])
        reports.add_reports(
            session,
            [
                NewReport(factories.draft(rating), pid["ATLAS"], NOW - n * WEEK, "U0PM00001", NOW)
                for n, rating in ((1, "red"), (2, "green"))
            ],
        )
    with sessions.begin() as session:
        stored = [r.id for r in reports.latest_reports(session, [pid["ATLAS"]])[pid["ATLAS"]]]
    wanted = [*stored, *range(max(stored) + 1, max(stored) + 40_000)]
    with one_statement_with_one_parameter(engine), sessions.begin() as session:
        found = reports.overall_ratings(session, wanted)
    assert sorted(found.values()) == sorted([Rag.RED, Rag.GREEN])


@contextmanager
def one_statement_with_one_parameter(engine: Engine) -> Iterator[None]:
    """The block runs exactly one statement, with exactly one parameter (the ids)."""
    executed: list[tuple[str, object]] = []

    def record(
        conn: object, cursor: object, statement: str, parameters: object, *_: object
    ) -> None:
        executed.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", record)
    [(statement, parameters)] = executed
    assert len(parameters) == 1, statement  # type: ignore[arg-type]


HOSTILE_IDS = (
    'U1"quoted',
    "U2,comma",
    "U3{brace}",
    "U4\\back\\slash\\",
    "U5'single",
    "U6 NULL",
    "NULL",
    "",
    "U7]json[",
    "U8 café 漢字 🚀",
)


def test_text_ids_are_bound_as_data_whatever_they_hold(engine: Engine) -> None:
    """`among_texts` (users.find_users) binds text ids as one JSON or array parameter: an id
    with quotes, commas, braces, backslashes or spaces finds exactly its own row, never
    breaks the statement and never matches another id; 40,000 ids are one statement with
    one parameter."""
    sessions = make_sessionmaker(engine)
    with sessions.begin() as session:
        users.save_users(
            session, [SlackUser(uid, "UTC", None, f"name {uid}", None, NOW) for uid in HOSTILE_IDS]
        )
        users.save_users(session, [SlackUser("U9PLAIN", "UTC", None, "plain", None, NOW)])
    with sessions.begin() as session:
        found = users.find_users(session, [*HOSTILE_IDS, "U1", "quoted", "U2", "comma"])
        assert {uid: u.name for uid, u in found.items()} == {
            uid: f"name {uid}" for uid in HOSTILE_IDS
        }
        for uid in HOSTILE_IDS:
            assert set(users.find_users(session, [uid])) == {uid}
        assert users.find_users(session, ['"U9PLAIN"', "U9PLAIN,U1", "{U9PLAIN}"]) == {}
    wanted = ["U9PLAIN", *(f"W{n:07d}" for n in range(40_000))]
    with one_statement_with_one_parameter(engine), sessions.begin() as session:
        assert set(users.find_users(session, wanted)) == {"U9PLAIN"}
