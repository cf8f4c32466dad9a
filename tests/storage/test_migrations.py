"""Data migrations keep what users wrote."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text

from storage import portfolio
from storage.db import (
    SCHEMA_HEAD,
    SchemaError,
    alembic_config,
    check_schema,
    make_engine,
    make_sessionmaker,
    schema_revision,
)
from tests.conftest import migrate


def test_text_risks_and_blockers_of_the_latest_report_become_open_records(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    try:
        config = alembic_config(engine)
        command.upgrade(config, "0002")
        older, newer = datetime(2026, 11, 12, 9, tzinfo=UTC), datetime(2026, 11, 19, 9, tzinfo=UTC)
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO projects (id, key, name, pm_id, tags, cadence, state,"
                    " reminder_after_hours, holidays, delegates, confidential, escalate_to_sponsor,"
                    " created_at, updated_at) VALUES (1, 'ATLAS', 'Atlas', 'U1', '[]',"
                    " 'FREQ=DAILY', 'active', 24, '[]', '[]', false, false, :t, :t)"
                ),
                {"t": older},
            )
            for period, risks, blockers in (
                (older, '["Old risk"]', '["Old blocker"]'),
                (newer, '["Vendor late", "Key person leaves"]', '["Licence approval"]'),
            ):
                conn.execute(
                    text(
                        "INSERT INTO status_reports (project_id, period_start, overall, schedule,"
                        " budget, scope, summary, risks, blockers, submitted_by, submitted_at)"
                        " VALUES (1, :p, 'amber', 'amber', 'green', 'green', 's', :r, :b, 'U1', :p)"
                    ),
                    {"p": period, "r": risks, "b": blockers},
                )
        command.upgrade(config, "head")
        with engine.connect() as conn:
            risks = conn.execute(
                text("SELECT title, probability, impact, status FROM risks ORDER BY title")
            ).all()
            blockers = conn.execute(text("SELECT title, status FROM blockers")).all()
        assert [tuple(r) for r in risks] == [
            ("Key person leaves", 3, 3, "open"),
            ("Vendor late", 3, 3, "open"),
        ]
        assert [tuple(b) for b in blockers] == [("Licence approval", "open")]
    finally:
        engine.dispose()


def test_projects_from_before_the_read_model_are_due_for_planning_after_it(
    database_url: str,
) -> None:
    """Planning reads what is due from project_standings alone: 0008 gives every project
    a row to recompute, and makes the rows 0007 computed (without `due_at`) recompute."""
    engine = make_engine(database_url)
    try:
        config = alembic_config(engine)
        command.upgrade(config, "0007")
        at = datetime(2026, 11, 12, 9, tzinfo=UTC)
        with engine.begin() as conn:
            for pid, key in ((1, "ATLAS"), (2, "BOREAS")):
                conn.execute(
                    text(
                        "INSERT INTO projects (id, key, name, pm_id, tags, cadence, state,"
                        " reminder_after_hours, holidays, delegates, confidential,"
                        " escalate_to_sponsor, created_at, updated_at) VALUES (:id, :key, 'P',"
                        " 'U1', '[]', 'FREQ=DAILY', 'active', 24, '[]', '[]', false, false, :t, :t)"
                    ),
                    {"id": pid, "key": key, "t": at},
                )
            conn.execute(  # computed by 0007's code: holds for years
                text(
                    "INSERT INTO project_standings (project_id, generation, valid_until)"
                    " VALUES (2, 4, 99999999999999999)"
                )
            )
        command.upgrade(config, "0008")
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT project_id, generation, valid_until, due_at FROM project_standings"
                    " ORDER BY project_id"
                )
            ).all()
        assert [tuple(r) for r in rows] == [(1, 1, None, None), (2, 5, None, None)]
    finally:
        engine.dispose()


def test_subscriptions_from_before_their_due_instant_are_due_for_planning_after_it(
    database_url: str,
) -> None:
    """Planning reads the subscriptions due from their `due_at` alone: 0009 adds it, indexed,
    None for every existing subscription (due at the next tick, which stores its instant)."""
    engine = make_engine(database_url)
    try:
        config = alembic_config(engine)
        command.upgrade(config, "0008")
        at = datetime(2026, 11, 12, 9, tzinfo=UTC)
        with engine.begin() as conn:
            for sid, channel in ((1, "C0LEADERS"), (2, "C0COMEXFR")):
                conn.execute(
                    text(
                        "INSERT INTO digest_subscriptions (id, channel, schedule, language,"
                        " mention_pms, tags, keys, grace_hours, created_at, updated_at)"
                        " VALUES (:id, :channel, 'FREQ=WEEKLY;BYDAY=FR;BYHOUR=16', 'en', true,"
                        " '[]', '[]', 2, :t, :t)"
                    ),
                    {"id": sid, "channel": channel, "t": at},
                )
        command.upgrade(config, "head")
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT id, due_at FROM digest_subscriptions ORDER BY id")
            ).all()
        assert [tuple(r) for r in rows] == [(1, None), (2, None)]
        indexes = inspect(engine).get_indexes("digest_subscriptions")
        assert {"name": "ix_digest_subscriptions_due_at", "column_names": ["due_at"]} in [
            {"name": i["name"], "column_names": i["column_names"]} for i in indexes
        ]
        with make_sessionmaker(engine).begin() as session:
            due = portfolio.due_subscriptions(session, at=at)
        assert [s.channel for s in due] == ["C0COMEXFR", "C0LEADERS"]
        command.downgrade(config, "0008")  # and back: the subscriptions stay
        columns = {c["name"] for c in inspect(engine).get_columns("digest_subscriptions")}
        assert "due_at" not in columns
        command.upgrade(config, "head")
        with engine.connect() as conn:
            count = conn.execute(text("SELECT count(*) FROM digest_subscriptions")).scalar()
        assert count == 2
    finally:
        engine.dispose()


def test_standings_from_before_the_latest_rating_are_recomputed_with_it(
    database_url: str,
) -> None:
    """0011 adds each standing's latest rating, indexed, and makes every standing recompute
    (a standing computed before it would say "no report" to `/pmo list red`)."""
    engine = make_engine(database_url)
    try:
        config = alembic_config(engine)
        command.upgrade(config, "0010")
        at = datetime(2026, 11, 12, 9, tzinfo=UTC)
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO projects (id, key, name, pm_id, tags, cadence, state,"
                    " reminder_after_hours, holidays, delegates, confidential,"
                    " escalate_to_sponsor, created_at, updated_at) VALUES (1, 'ATLAS', 'P',"
                    " 'U1', '[]', 'FREQ=DAILY', 'active', 24, '[]', '[]', false, false, :t, :t)"
                ),
                {"t": at},
            )
            conn.execute(  # computed before 0011: holds for years, with a report
                text(
                    "INSERT INTO project_standings (project_id, generation, valid_until,"
                    " report_id, rating) VALUES (1, 4, 99999999999999999, 7, 'red')"
                )
            )
        command.upgrade(config, "0011")
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT generation, valid_until, latest_rating FROM project_standings")
            ).all()
        assert [tuple(r) for r in rows] == [(5, None, None)]
        indexes = inspect(engine).get_indexes("project_standings")
        assert "ix_project_standings_latest_rating" in {i["name"] for i in indexes}
        command.downgrade(config, "0010")
        columns = {c["name"] for c in inspect(engine).get_columns("project_standings")}
        assert "latest_rating" not in columns
    finally:
        engine.dispose()


def test_the_head_the_code_expects_is_alembics_head(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        config = alembic_config(engine)
        assert ScriptDirectory.from_config(config).get_heads() == [SCHEMA_HEAD]
    finally:
        engine.dispose()


def test_the_schema_check_names_where_the_database_stands(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        with engine.connect():  # an empty database (SQLite: the file exists)
            pass
        no_schema = f"has no schema yet, not {SCHEMA_HEAD}; run `pmo-bot db upgrade`"
        with pytest.raises(SchemaError, match=no_schema):
            check_schema(engine)
        command.upgrade(alembic_config(engine), "0010")
        assert schema_revision(engine) == "0010"
        behind = f"is at revision 0010, not {SCHEMA_HEAD}; run `pmo-bot db upgrade`"
        with pytest.raises(SchemaError, match=behind):
            check_schema(engine)
        command.upgrade(alembic_config(engine), "head")
        assert schema_revision(engine) == SCHEMA_HEAD
        check_schema(engine)  # at head: no error
    finally:
        engine.dispose()


def test_checking_the_schema_does_not_load_alembic(database_url: str) -> None:
    # serve, tick and the lookups only check the schema: Alembic (about 7 MB) stays out of them
    migrate(database_url)
    program = (
        "import sys\n"
        "from storage.db import check_schema, make_engine\n"
        "import bot.cli.main\n"
        f"check_schema(make_engine({database_url!r}))\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'alembic'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip() == "[]"


@pytest.mark.postgres
@pytest.mark.parametrize("trial", [1, 2])
def test_replicas_started_together_all_upgrade_an_empty_database(
    postgres_url: str, trial: int
) -> None:
    # Three `pmo-bot db upgrade` at once on an empty schema, as replicas starting together
    # run it: each takes the migration lock in turn, the first migrates, the others find the
    # schema at head. Each process imports the CLI, says so, and waits for a word to start,
    # so that the three upgrades begin together whatever each start-up took. Without the
    # lock, two creating the same tables at once failed (IntegrityError) every time.
    program = (
        "import sys\n"
        "from bot.cli.main import main\n"
        "print('ready', flush=True)\n"
        "sys.stdin.readline()\n"
        "sys.argv = ['pmo-bot', 'db', 'upgrade']\n"
        "main()\n"
    )
    env = {**os.environ, "DATABASE_URL": postgres_url}
    upgrades = [
        subprocess.Popen(
            [sys.executable, "-c", program],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    for upgrade in upgrades:
        assert upgrade.stdout is not None
        assert upgrade.stdout.readline() == "ready\n"
    for upgrade in upgrades:
        assert upgrade.stdin is not None
        upgrade.stdin.write("go\n")
        upgrade.stdin.flush()
    results = [(*p.communicate(timeout=120), p.returncode) for p in upgrades]
    assert [code for _, _, code in results] == [0, 0, 0], results
    assert all("is up to date" in out for out, _, _ in results)
    engine = make_engine(postgres_url)
    try:
        assert schema_revision(engine) == SCHEMA_HEAD
        check_schema(engine)
    finally:
        engine.dispose()


def _insert_atlas(conn: Connection, moment: datetime) -> None:
    """A project ATLAS (id 1) with every column a schema since 0016 requires."""
    conn.execute(
        text(
            "INSERT INTO projects (id, key, name, pm_id, tags, cadence, state,"
            " reminder_after_hours, holidays, delegates, confidential, escalate_to_sponsor,"
            " mandatory, created_at, updated_at) VALUES (1, 'ATLAS', 'Atlas', 'U1', '[]',"
            " 'FREQ=DAILY', 'active', 24, '[]', '[]', false, false, true, :t, :t)"
        ),
        {"t": moment},
    )


@pytest.mark.parametrize("target", ["0015", "0014"])
def test_downgrading_the_money_and_ranking_columns_keeps_every_report_and_risk(
    database_url: str, target: str
) -> None:
    # On SQLite, a batch operation copies the projects table and drops the old one, which
    # cascades to the rows pointing at it: a downgrade must drop its columns in place.
    engine = make_engine(database_url)
    try:
        config = alembic_config(engine)
        command.upgrade(config, "head")
        moment = datetime(2026, 11, 19, 9, tzinfo=UTC)
        with engine.begin() as conn:
            _insert_atlas(conn, moment)
            conn.execute(
                text(
                    "INSERT INTO status_reports (project_id, period_start, overall, schedule,"
                    " budget, scope, summary, risks, blockers, submitted_by, submitted_at)"
                    " VALUES (1, :p, 'amber', 'amber', 'green', 'green', 's', '[]', '[]', 'U1', :p)"
                ),
                {"p": moment},
            )
        command.downgrade(config, target)
        with engine.connect() as conn:
            counts = [
                conn.execute(text(f"SELECT count(*) FROM {table}")).scalar()
                for table in ("projects", "status_reports")
            ]
            columns = {c["name"] for c in inspect(conn).get_columns("projects")}
        assert counts == [1, 1]
        assert not columns & {"scores", "mandatory", "benefits", "cost", "roles", "allocations"}
        command.upgrade(config, "head")  # and back up again
    finally:
        engine.dispose()


def test_downgrading_the_milestone_forecasts_keeps_every_milestone(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        config = alembic_config(engine)
        command.upgrade(config, "head")
        moment = datetime(2026, 12, 4, 9, tzinfo=UTC)
        with engine.begin() as conn:
            _insert_atlas(conn, moment)
            conn.execute(
                text(
                    "INSERT INTO milestones (id, project_id, name, due, forecast)"
                    " VALUES (1, 1, 'Build', '2026-12-01', '2026-12-12')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO milestone_forecasts (milestone_id, forecast, said_at)"
                    " VALUES (1, '2026-12-12', :t)"
                ),
                {"t": moment},
            )
        command.downgrade(config, "0018")
        with engine.connect() as conn:
            names = conn.execute(text("SELECT name FROM milestones")).scalars().all()
            columns = {c["name"] for c in inspect(conn).get_columns("milestones")}
            tables = set(inspect(conn).get_table_names())
        assert names == ["Build"]
        assert "forecast" not in columns and "milestone_forecasts" not in tables
        command.upgrade(config, "head")  # and back up again
    finally:
        engine.dispose()


def test_downgrading_the_stage_requests_drops_their_decisions_not_the_asks(
    database_url: str,
) -> None:
    """Below 0021 a decision is always the project's ask: a gate's decision and the actions
    its conditions set go with the stage requests, the project's ask stays, and up again
    nothing reads as an ask that was not one."""
    engine = make_engine(database_url)
    try:
        config = alembic_config(engine)
        command.upgrade(config, "head")
        moment = datetime(2026, 12, 4, 9, tzinfo=UTC)
        with engine.begin() as conn:
            _insert_atlas(conn, moment)
            for number, kind in ((1, "ask"), (2, "gate"), (3, "change")):
                conn.execute(
                    text(
                        "INSERT INTO decisions (id, project_id, question, state, opened_at,"
                        " updated_at, kind) VALUES (:n, 1, :q, 'decided', :t, :t, :k)"
                    ),
                    {"n": number, "q": f"{kind}?", "t": moment, "k": kind},
                )
                conn.execute(
                    text(
                        "INSERT INTO decision_actions (decision_id, project_id, title, owner,"
                        " due_on, state, created_at) VALUES (:n, 1, :q, 'U1', '2026-12-31',"
                        " 'open', :t)"
                    ),
                    {"n": number, "q": f"after {kind}", "t": moment},
                )
        command.downgrade(config, "0020")
        with engine.connect() as conn:
            asks = conn.execute(text("SELECT question FROM decisions")).scalars().all()
            actions = conn.execute(text("SELECT title FROM decision_actions")).scalars().all()
        assert (asks, actions) == (["ask?"], ["after ask"])
        command.upgrade(config, "head")  # and back up again
    finally:
        engine.dispose()
