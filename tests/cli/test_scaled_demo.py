"""`pmo-bot demo --projects N --weeks W`: a generated portfolio built by the product's rules,
the same for the same arguments, on SQLite and PostgreSQL; bad sizes and a database holding a
portfolio are refused in one line, with nothing changed."""

from __future__ import annotations

import io
import itertools
import json
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, text

from bot.cli.main import run
from bot.cli.scaled_demo import run_scaled_demo
from bot.config import load_settings, redact_url
from bot.digest.load import build_digest
from bot.periods import cadence
from bot.periods.state import PeriodState, period_statuses
from bot.reporting.answers import SkipForm, validate_skip
from bot.reporting.form import ReportForm, validate_report
from storage import items, portfolio, reports, users
from storage.db import make_engine, make_sessionmaker
from storage.records import ItemStatus, ProjectState, Report, ReportDraft
from tests import factories
from tests.conftest import migrate
from tests.rendering.test_render import assert_escaped, assert_valid_message

AT = "2026-11-22T12:00:00+00:00"  # a Sunday: the digest shown is Friday 20 November 2026's
NOW = datetime.fromisoformat(AT)
MOMENT = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)
PROJECTS, WEEKS = 30, 6
UTC_ZONE = ZoneInfo("UTC")
UNREACHABLE = "postgresql+psycopg://pmo:TopSecretPw@127.0.0.1:1/pmo?connect_timeout=2"


@dataclass(frozen=True, slots=True)
class Built:
    out: str
    db: Path
    json: Path


def build(folder: Path, *, environ: dict[str, str] | None = None, db: bool = True) -> Built:
    """The generated demo, timed by a fake timer so that its output is the same each time."""
    ticks = itertools.count(start=10.0, step=1.25)
    out = io.StringIO()
    status = run_scaled_demo(
        load_settings(environ or {}),
        projects=PROJECTS,
        weeks=WEEKS,
        db_path=folder / "d.sqlite" if db else None,
        json_path=folder / "d.json",
        out=out,
        now=NOW,
        timer=lambda: next(ticks),
    )
    assert status == 0
    return Built(out.getvalue(), folder / "d.sqlite", folder / "d.json")


def cli(argv: list[str], environ: dict[str, str] | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = run(argv, environ=environ or {}, stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return build(tmp_path_factory.mktemp("scaled"))


@pytest.fixture
def sqlite_engine(built: Built) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{built.db}")
    yield engine
    engine.dispose()


def counted(out: str, label: str) -> int:
    """A number the demo printed before `label` ("1,234 status reports")."""
    match = re.search(rf"([\d,]+) {re.escape(label)}", out)
    assert match, label
    return int(match.group(1).replace(",", ""))


# --- what it builds and prints ----------------------------------------------------------------


def test_it_prints_what_it_built_and_the_digest_of_it(built: Built) -> None:
    first = built.out.splitlines()[0]
    assert first == (
        f"PMO Bot demo: a generated portfolio of {PROJECTS} projects with {WEEKS} weeks of "
        f"history, built in {built.db} in 1.2 s."
    )
    assert "Portfolio digest · Fri 20 Nov 2026" in built.out
    assert "digest channel C0LEADERS would have received on Fri 20 Nov 2026 at 16:00" in built.out
    tables = {
        "projects": "projects in",
        "status_reports": "status reports",
        "risks": "risks",
        "blockers": "blockers",
        "milestones": "milestones",
        "digest_subscriptions": "digest subscriptions",
        "slack_users": "cached Slack profiles",
        "audit_log": "audit log entries",
    }
    with sqlite3.connect(built.db) as conn:
        for table, label in tables.items():
            stored = conn.execute(f"select count(*) from {table}").fetchone()[0]
            assert stored == counted(built.out, label), table
        skipped = conn.execute("select count(*) from period_skips").fetchone()[0]
        copies = conn.execute(
            "select count(*) from status_reports where copied_from_id is not null"
        ).fetchone()[0]
    conn.close()
    assert f"{skipped} period" in built.out and f"({copies} of them “No change”)" in built.out


def test_the_json_is_valid_escaped_block_kit(built: Built) -> None:
    message = json.loads(built.json.read_text(encoding="utf-8"))
    assert_valid_message({"text": "digest", **message})
    assert_escaped(message)
    with sqlite3.connect(built.db) as conn:  # the data does carry & < > for the escaping
        assert conn.execute(
            "select count(*) from status_reports where summary like '%<%' or summary like '%&%'"
        ).fetchone()[0]
    conn.close()


def test_the_same_arguments_build_the_same_portfolio(built: Built, tmp_path: Path) -> None:
    again = build(tmp_path)
    assert again.out.replace(str(tmp_path), str(built.db.parent)) == built.out
    assert again.json.read_bytes() == built.json.read_bytes()
    assert dump(again.db) == dump(built.db)


def dump(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every table's rows, but the projects' version token (a random one per write, so that
    a process's copy of the projects lapses: storage.portfolio.list_projects)."""
    with sqlite3.connect(path) as conn:
        tables = [r[0] for r in conn.execute("select name from sqlite_master where type='table'")]
        rows = {
            t: sorted(conn.execute(f"select * from {t}"), key=repr)
            for t in tables
            if t != "versions"
        }
    conn.close()
    return rows


# --- the product's rules ------------------------------------------------------------------------


def test_reports_and_skips_land_in_the_periods_the_product_computes(sqlite_engine: Engine) -> None:
    with make_sessionmaker(sqlite_engine).begin() as session:
        projects = portfolio.list_projects(session)
        zones = {
            u.user_id: ZoneInfo(u.tz or "UTC")
            for u in users.find_users(session, {p.pm for p in projects}).values()
        }
        history = reports.latest_reports(session, [p.id for p in projects], per_project=1000)
        occurrences = {
            p.id: cadence.occurrences(
                p.cadence,
                zones[p.pm],
                start=datetime.combine(p.start or MOMENT.date(), time(), zones[p.pm]),
                end=MOMENT,
                anchor=p.start,
            )
            for p in projects
        }
        skips = reports.find_skips(
            session, [(pid, start) for pid, starts in occurrences.items() for start in starts]
        )
        active = [p for p in projects if p.state is ProjectState.ACTIVE]
        statuses = period_statuses(session, active, at=MOMENT, default=UTC_ZONE)
    for project in projects:
        reported = [r.period_start for r in history[project.id]]
        skipped = [start for pid, start in skips if pid == project.id]
        assert set(reported) | set(skipped) <= set(occurrences[project.id]), project.key
        assert not set(reported) & set(skipped), project.key
        for report in history[project.id]:
            assert report.period_start < report.submitted_at < MOMENT
    states = {s.state for s in statuses.values()}
    assert {PeriodState.DONE, PeriodState.NOT_ASKED} <= states  # reported, and not yet
    for project in active:
        status = statuses[project.id]
        latest = history[project.id][0] if history[project.id] else None
        if status.period is None:  # a monthly cadence not begun yet
            assert latest is None and status.state is PeriodState.NOT_STARTED
            continue
        done = latest is not None and latest.period_start == status.period.start
        assert (status.state is PeriodState.DONE) == done, project.key
        skip = (project.id, status.period.start) in skips
        assert (status.state is PeriodState.SKIPPED) == (skip and not done), project.key


def as_form(report: Report) -> ReportForm:
    """A stored report as the modal would have sent it."""

    def day(value: date | None) -> str | None:
        return value.isoformat() if value is not None else None

    return ReportForm(
        overall=report.overall.value,
        schedule=report.schedule.value,
        budget=report.budget.value,
        scope=report.scope.value,
        summary=report.summary,
        path_to_green=report.path_to_green,
        forecast_end=day(report.forecast_end),
        percent_complete=str(report.percent_complete),
        budget_spent=str(report.budget_spent) if report.budget_spent is not None else None,
        accomplishments=report.accomplishments,
        next_steps=report.next_steps,
        help_needed=report.help_needed,
        help_needed_by=day(report.help_needed_by),
    )


def test_reports_pass_the_modals_validation_and_snapshot_the_open_records(
    sqlite_engine: Engine,
) -> None:
    with make_sessionmaker(sqlite_engine).begin() as session:
        projects = portfolio.list_projects(session)
        ids = [p.id for p in projects]
        history = reports.latest_reports(session, ids, per_project=1000)
        risks = items.open_risks(session, ids)
        blockers = items.open_blockers(session, ids)
        every_skip = session.execute(text("select reason, note from period_skips")).all()
    for project in projects:
        newest_first = history[project.id]
        for report, earlier in itertools.zip_longest(newest_first, newest_first[1:]):
            fields = {f: getattr(report, f) for f in ReportDraft.__dataclass_fields__}
            if report.copied_from_id is not None:  # "No change": the newest earlier, whole
                assert earlier is not None and report.copied_from_id == earlier.id
                assert fields == {f: getattr(earlier, f) for f in ReportDraft.__dataclass_fields__}
                continue
            draft = ReportDraft(**fields)
            assert validate_report(as_form(report)) == replace(draft, risks=(), blockers=())
        if newest_first:  # what the latest review left open
            latest = newest_first[0]
            assert set(latest.risks) == {r.title for r in risks[project.id]}, project.key
            assert set(latest.blockers) == {b.title for b in blockers[project.id]}, project.key
    for reason, note in every_skip:
        assert validate_skip(SkipForm(reason, note)) == (reason, note)


def test_closed_records_were_closed_by_a_review_after_they_opened(sqlite_engine: Engine) -> None:
    with make_sessionmaker(sqlite_engine).begin() as session:
        every = [
            r for p in portfolio.list_projects(session) for r in items.all_risks(session, p.id)
        ]
    assert any(r.status is ItemStatus.CLOSED for r in every)
    for risk in every:
        assert risk.opened_period <= risk.opened_at <= risk.updated_at
        assert (risk.closed_at is not None) == (risk.status is ItemStatus.CLOSED)


# --- refusals -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--projects", "0"),
        ("--projects", "20001"),
        ("--weeks", "1000"),
        ("--weeks", "0"),
        ("--projects", "many"),
    ],
)
def test_a_bad_size_is_one_line_and_changes_nothing(
    tmp_path: Path, option: str, value: str
) -> None:
    status, out, err = cli(
        [
            "demo",
            option,
            value,
            "--at",
            AT,
            "--db",
            str(tmp_path / "d.sqlite"),
            "--json",
            str(tmp_path / "d.json"),
        ]
    )
    assert (status, out) == (2, "")
    assert err.count("\n") == 1 and option in err and repr(value) in err
    assert list(tmp_path.iterdir()) == []


def test_a_file_no_demo_made_is_never_replaced(tmp_path: Path) -> None:
    target = tmp_path / "d.sqlite"
    target.write_bytes(b"my notes")
    status, out, err = cli(["demo", "--projects", "3", "--at", AT, "--db", str(target)])
    assert (status, out) == (2, "") and err.count("\n") == 1 and "not a database made by" in err
    assert target.read_bytes() == b"my notes"


def test_db_wins_over_a_postgresql_database_url(tmp_path: Path) -> None:
    db, json_file = tmp_path / "d.sqlite", tmp_path / "d.json"
    argv = [
        "demo",
        "--projects",
        "3",
        "--weeks",
        "2",
        "--at",
        AT,
        "--db",
        str(db),
        "--json",
        str(json_file),
    ]
    status, out, err = cli(argv, {"DATABASE_URL": UNREACHABLE})
    assert (status, err) == (0, "") and db.exists() and f"built in {db} in" in out


def test_the_scripted_demo_never_uses_database_url(tmp_path: Path) -> None:
    db, json_file = tmp_path / "d.sqlite", tmp_path / "d.json"
    status, out, err = cli(
        [
            "demo",
            "--at",
            AT,
            "--db",
            str(db),
            "--json",
            str(json_file),
            "--chart",
            str(tmp_path / "c.png"),
            "--xlsx",
            str(tmp_path / "p.xlsx"),
        ],
        {"DATABASE_URL": UNREACHABLE},
    )
    assert (status, err) == (0, "") and out.startswith("PMO Bot demo: 12 sample projects")


def test_an_unreachable_postgresql_is_one_line_without_the_password(tmp_path: Path) -> None:
    argv = ["demo", "--projects", "3", "--at", AT, "--json", str(tmp_path / "d.json")]
    status, out, err = cli(argv, {"DATABASE_URL": UNREACHABLE})
    assert (status, out) == (2, "") and err.count("\n") == 1 and "TopSecretPw" not in err
    assert list(tmp_path.iterdir()) == []


# --- PostgreSQL -----------------------------------------------------------------------------------


@pytest.mark.postgres
def test_postgresql_gets_the_same_portfolio_as_sqlite(
    built: Built, postgres_url: str, tmp_path: Path
) -> None:
    on_postgres = build(tmp_path, environ={"DATABASE_URL": postgres_url}, db=False)
    where = redact_url(postgres_url)
    assert f"built in {where} in 1.2 s" in on_postgres.out
    sqlite_out = built.out.replace(f"sqlite:///{built.db}", "WHERE").replace(str(built.db), "WHERE")
    postgres_out = on_postgres.out.replace(where, "WHERE").replace(str(tmp_path), "FOLDER")
    assert postgres_out == sqlite_out.replace(str(built.db.parent), "FOLDER")
    assert on_postgres.json.read_bytes() == built.json.read_bytes()
    engine = make_engine(postgres_url)
    try:
        with engine.connect() as conn:
            assert conn.scalar(text("select count(*) from projects")) == PROJECTS
            assert conn.scalar(
                text("select count(*) from status_reports where copied_from_id is not null")
            ) == counted(on_postgres.out, "of them")
    finally:
        engine.dispose()


def postgres_snapshot(engine: Engine) -> dict[str, object]:
    with engine.connect() as conn:
        tables = [
            r[0]
            for r in conn.execute(
                text("select tablename from pg_tables where schemaname = current_schema()")
            )
        ]
        return {
            t: conn.execute(text(f'select * from "{t}" order by 1')).all() for t in sorted(tables)
        }


@pytest.mark.postgres
def test_a_postgresql_database_with_projects_is_refused_and_left_as_it_is(
    postgres_url: str, tmp_path: Path
) -> None:
    migrate(postgres_url)
    engine = make_engine(postgres_url)
    try:
        with make_sessionmaker(engine).begin() as session:
            portfolio.upsert_projects(session, [factories.project_spec("REAL")], now=NOW)
        before = postgres_snapshot(engine)
        status, out, err = cli(
            [
                "demo",
                "--projects",
                "30",
                "--weeks",
                "6",
                "--at",
                AT,
                "--json",
                str(tmp_path / "d.json"),
            ],
            {"DATABASE_URL": postgres_url},
        )
        assert (status, out) == (2, "")
        assert err.count("\n") == 1 and "holds 1 project(s)" in err and "--db" in err
        assert postgres_snapshot(engine) == before
        assert list(tmp_path.iterdir()) == []
    finally:
        engine.dispose()


def test_the_app_homes_summary_without_the_chart_is_the_digests_own(
    sqlite_engine: Engine,
) -> None:
    """The App Home reads a digest without its chart, and each project's history only as deep
    as the flags need: on a generated year of drifting reports, copies and skips, every line,
    count and the attention list are still those of the full digest."""
    default = load_settings({}).timezone
    with make_sessionmaker(sqlite_engine).begin() as session:
        for subscription in portfolio.list_subscriptions(session):
            for at in (MOMENT, NOW):
                full = build_digest(session, subscription, at=at, default_tz=default)
                summary = build_digest(
                    session, subscription, at=at, default_tz=default, chart=False
                )
                assert full.chart.periods and not summary.chart.periods
                assert replace(summary, chart=full.chart) == full
