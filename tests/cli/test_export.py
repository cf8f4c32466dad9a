"""Exports: `pmo-bot export` writes the portfolio back in the import format (import → export →
import is lossless, on both backends, the delivery process and its `baseline: true` gate
included), `pmo-bot export-reports` writes every report as CSV, `pmo-bot export-xlsx` the
steering pack (with its Changes and Baselines sheets when the portfolio has a process), and the
`/pmo export` rows (filters, confidential projects) are those the asker may see."""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bot.portfolio.export import (
    BOM,
    DECISION_COLUMNS,
    REPORT_COLUMNS,
    STATUS_COLUMNS,
    export_portfolio,
    export_reports,
    project_status,
    safe_text,
    status_csv,
)
from bot.portfolio.file import PortfolioError, parse_portfolio
from bot.portfolio.importing import import_portfolio
from bot.stages.requests import RequestDecided, Requested, decide_request, request_gate
from storage import decisions, items, portfolio, reports
from storage.db import make_engine, make_sessionmaker, upgrade
from storage.records import (
    ItemStatus,
    MilestoneSpec,
    Money,
    ProjectSpec,
    ProjectState,
    RiskSpec,
    SubscriptionSpec,
    Tolerances,
    WorkingHours,
)
from tests import factories
from tests.cli.test_cli import assert_one_line_error, cli
from tests.unit.steering.test_workbook import SHEETS

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)  # a Friday, after Thursday's prompts
PM, SPONSOR, DEPUTY, ADMIN, OUTSIDER = (
    "U012ABCDEF",
    "U0SPONSOR1",
    "U0DEPUTY01",
    "U0ADMIN001",
    "U0OUTSIDE1",
)

RICH = f"""\
escalate_to_sponsor: true
projects:
  - key: ATLAS
    name: "Atlas ERP migration: phase 2, “R&D” <beta>"
    pm: {PM}
    sponsor: {SPONSOR}
    portfolio: Opérations
    tags: [erp, finance, "null"]
    priority: 2
    budget: 1200000.50
    start: 2026-01-05
    end: 2027-06-30
    cadence: "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO;BYHOUR=9;BYMINUTE=30"
    state: on_hold
    reminder_after_hours: 48
    holidays: [2026-12-31, 2026-12-24]
    delegates: [{DEPUTY}, W0DEPUTY02]
    confidential: true
    plan:
      - {{on: 2026-01-05, percent: 0}}
      - {{on: 2026-09-30, percent: 35.5}}
      - {{on: 2027-06-30, percent: 100}}
    tolerances: {{cost_pct: 7.5, time_days: 21}}
    scores: {{strategic: 4, "risk": 1.5}}
    mandatory: true
    benefits: [{{year: 2027, amount: 400000}}, {{year: 2028, amount: 900000.25}}]
    cost: 1100000
    roles: {{accountable: {SPONSOR}, responsible: [{PM}, {DEPUTY}], informed: ["U0CFO00001"]}}
    allocations:
      - {{person: {PM}, share: 0.8, from: 2027-01, to: 2027-06}}
      - {{team: "Data & Co", share: 2.5, from: 2027-02, to: 2027-02}}
    milestones:
      - {{name: Design signed off, due: 2026-10-01, done: 2026-10-03}}
      - {{name: "Go-live: wave #1", due: 2027-03-01}}
      - {{name: "~", due: 2026-02-01, done: 2026-02-01}}
  - key: "0123"
    name: "NO"
    pm: {PM}
    escalate_to_sponsor: false
    phase: planning
    depends_on:
      - {{project: ATLAS, milestone: "Go-live: wave #1", needed_by: 2027-03-15,
         note: "Needs the “R&D” API: <v2>"}}
      - {{project: DELTA, needed_by: 2027-06-01}}
  - key: delta
    name: Delta data warehouse
    pm: U0PMDELTA1
    state: closed
    budget: 0
    tags: []
holidays: [2027-01-01, 2026-12-25]
working_hours: {{days: [sun, mon, tue, wed, thu], start: "07:30", end: "24:00"}}
currency: CHF
tolerances: {{time_days: 14}}
criteria:
  - {{name: strategic, weight: 62.5, scale: [1, 5]}}
  - {{name: risk, weight: 37.5, scale: [0, 10], higher_is_better: false}}
capacity: {{budget: 2500000.50, people_months: 84.5}}
pm_allocation: 0.3
people:
  - {{id: {PM}, fte: 0.8, team: "Data & Co", run_share: 0.15}}
  - {{id: {DEPUTY}}}
teams: [{{name: "Data & Co", fte: 6.5}}]
discount_rate: 7.5
process:
  phases: [initiation, planning, "exécution: 1", closing]
  gates:
    - from: initiation
      to: planning
      approvers: [admins]
    - from: planning
      to: "exécution: 1"
      checklist:
        - {{name: "Project plan signed off", mandatory: true, link: true}}
        - {{name: "Lessons & risks reviewed", mandatory: false, link: false}}
      approvers: [sponsor, admins, {PM}]
      baseline: true
digests:
  - channel: C0LEADERS
    grace_hours: 12
    schedule: "FREQ=WEEKLY;BYDAY=MO;BYHOUR=8;BYMINUTE=0"
    timezone: Europe/Paris
    language: fr
    mention_pms: false
    portfolio: Opérations
    tags: [erp, "yes"]
    keys: [ATLAS, DELTA]
    deciders: [U0CFO00001, U0COO00001]
  - channel: G0PRIVATE1
"""


# --- helpers ---------------------------------------------------------------------------------


def stored_portfolio(session: Session) -> dict[str, Any]:
    """Everything the portfolio file describes, as stored, without database ids or the moment
    a project was closed (the import records when it saw that)."""
    projects = portfolio.list_projects(session)
    milestones = items.list_milestones(session, [p.id for p in projects])
    return {
        "projects": [dataclasses.replace(p, id=0, closed_at=None) for p in projects],
        "milestones": {
            p.key: [(m.name, m.due, m.done_on) for m in milestones[p.id]] for p in projects
        },
        "subscriptions": [
            dataclasses.replace(s, id=0) for s in portfolio.list_subscriptions(session)
        ],
        "holidays": portfolio.list_holidays(session),
        "calendar": portfolio.load_calendar(session),
        "money": portfolio.load_money(session),
        "planning": portfolio.load_planning(session),
        "staffing": portfolio.load_staffing(session),
        "process": portfolio.load_process(session),
    }


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Engine]:
    """A second, empty, migrated database (SQLite) to import an export into."""
    engine = make_engine(f"sqlite:///{tmp_path / 'fresh.sqlite'}")
    upgrade(engine)
    yield engine
    engine.dispose()


def import_text(engine: Engine, text: str, now: datetime = NOW) -> None:
    with make_sessionmaker(engine).begin() as session:
        import_portfolio(session, text, now=now)


def export_text(engine: Engine) -> str:
    with make_sessionmaker(engine).begin() as session:
        return export_portfolio(session)


def snapshot(engine: Engine) -> dict[str, Any]:
    with make_sessionmaker(engine).begin() as session:
        return stored_portfolio(session)


# --- the portfolio file ----------------------------------------------------------------------


def test_import_export_import_is_lossless(engine: Engine, fresh: Engine) -> None:
    import_text(engine, RICH)
    exported = export_text(engine)
    import_text(fresh, exported, now=NOW + timedelta(days=3))
    original, copy = snapshot(engine), snapshot(fresh)
    assert copy == original
    # What was imported is really there (the comparison is not of two empty portfolios).
    atlas = original["projects"][1]
    assert (atlas.key, atlas.state, atlas.confidential, atlas.escalate_to_sponsor) == (
        "ATLAS",
        ProjectState.ON_HOLD,
        True,
        True,
    )
    assert atlas.holidays == (date(2026, 12, 31), date(2026, 12, 24))
    assert [(p.on, p.percent) for p in atlas.plan][1] == (date(2026, 9, 30), Decimal("35.5"))
    assert atlas.tolerances == Tolerances(Decimal("7.5"), 21)
    assert original["money"] == Money("CHF", Tolerances(None, 14))
    assert original["subscriptions"][0].deciders == ("U0CFO00001", "U0COO00001")
    assert original["projects"][0].key == "0123" and original["projects"][0].name == "NO"
    assert len(original["milestones"]["ATLAS"]) == 3
    assert original["holidays"] == {date(2026, 12, 25), date(2027, 1, 1)}
    assert original["calendar"].hours == WorkingHours(
        frozenset({6, 0, 1, 2, 3}), time(7, 30), time.max
    )
    assert len(original["subscriptions"]) == 2
    assert original["subscriptions"][0].grace_hours == 12
    # the delivery process: its phases, and its gates with their checklists, approvers and
    # which one approves the baseline (`baseline: true`)
    process = original["process"]
    assert process.phases == ("initiation", "planning", "exécution: 1", "closing")
    assert [(g.from_phase, g.baseline) for g in process.gates] == [
        ("initiation", False),
        ("planning", True),
    ]
    assert process.gates[1].approvers == ("sponsor", "admins", PM)
    assert [(i.name, i.mandatory, i.link) for i in process.gates[1].checklist] == [
        ("Project plan signed off", True, True),
        ("Lessons & risks reviewed", False, False),
    ]
    assert "      baseline: true\n" in exported and exported.count("baseline: true") == 1
    # And the export of the copy is the same file: the format is stable.
    assert export_text(fresh) == exported


def test_export_parses_back_to_the_same_specs(engine: Engine) -> None:
    import_text(engine, RICH)
    again = parse_portfolio(export_text(engine))
    first = parse_portfolio(RICH)
    assert sorted(again.projects, key=lambda p: p.key) == sorted(
        first.projects, key=lambda p: p.key
    )
    assert again.subscriptions == first.subscriptions
    assert set(again.holidays or ()) == set(first.holidays or ())
    assert again.working_hours == first.working_hours
    assert {k: sorted(v, key=lambda m: m.due) for k, v in again.milestones.items()} == {
        k: sorted(v, key=lambda m: m.due) for k, v in first.milestones.items()
    }


def test_export_of_an_empty_portfolio_imports_as_an_empty_portfolio(
    engine: Engine, fresh: Engine
) -> None:
    exported = export_text(engine)
    assert parse_portfolio(exported).projects == ()
    import_text(fresh, exported)
    assert snapshot(fresh) == snapshot(engine)


TRICKY = [
    "null",
    "~",
    "NO",
    "yes",
    "0123",
    "1e3",
    "2026-02-30",
    "12:30",
    "a: b",
    "# not a comment",
    "- dash",
    "[x]",
    "{y: 1}",
    "&anchor *alias",
    "!tag",
    "%directive",
    "@at `tick` |pipe >fold",
    "'single' \"double\" \\backslash",
    "line one\nline two",
    "tab\there",
    "naïve café 漢字 🚀",
    "bell\x07 and nel\x85 and ls\u2028 end",
    "<!channel> & <@U123>",
]


@pytest.mark.parametrize("text", TRICKY, ids=range(len(TRICKY)))
def test_any_text_survives_the_round_trip(text: str, sqlite_url: str, fresh: Engine) -> None:
    engine = make_engine(sqlite_url)
    upgrade(engine)
    try:
        with make_sessionmaker(engine).begin() as session:
            spec = ProjectSpec(
                key="TRICKY",
                name=text,
                pm=PM,
                portfolio=text[:100],
                tags=(text[:50], "plain"),
                budget=Decimal("1234.56"),
            )
            portfolio.upsert_projects(session, [spec], now=NOW)
            project = portfolio.find_project(session, "TRICKY")
            assert project is not None
            items.replace_milestones(
                session,
                project.id,
                [MilestoneSpec(name=text, due=date(2027, 1, 1), done_on=date(2026, 12, 31))],
            )
            portfolio.upsert_subscriptions(
                session, [SubscriptionSpec(channel="C0LEADERS", portfolio=text[:100])], now=NOW
            )
        import_text(fresh, export_text(engine))
        assert snapshot(fresh) == snapshot(engine)
    finally:
        engine.dispose()


def test_export_writes_texts_quoted_and_fields_in_the_readme_order(engine: Engine) -> None:
    import_text(engine, RICH)
    text = export_text(engine)
    assert text.startswith("# PMO Bot portfolio")
    assert '- key: "0123"\n    name: "NO"\n' in text
    assert 'tags: ["erp", "finance", "null"]' in text
    assert "budget: 1200000.5\n" in text
    assert "start: 2026-01-05\n" in text
    fields = [
        "key:",
        "name:",
        "pm:",
        "sponsor:",
        "portfolio:",
        "tags:",
        "priority:",
        "budget:",
        "start:",
        "end:",
        "cadence:",
        "state:",
        "reminder_after_hours:",
        "holidays:",
        "delegates:",
        "confidential:",
        "escalate_to_sponsor:",
        "milestones:",
    ]
    atlas = text[text.index('key: "ATLAS"') - 2 :]
    positions = [atlas.index(field) for field in fields]
    assert positions == sorted(positions)
    assert text.index("\nholidays:") < text.index("\ndigests:")


# --- reports as CSV --------------------------------------------------------------------------

TRICKY_SUMMARY = 'Late, "very" late; café\nsecond line, déjà vu'


def add_report(session: Session, key: str, period: datetime, **overrides: Any) -> None:
    project = portfolio.find_project(session, key)
    assert project is not None
    reports.save_report(
        session,
        factories.draft(**overrides),
        project_id=project.id,
        period_start=period,
        submitted_by=PM,
        submitted_at=period + timedelta(hours=2),
    )


def test_every_report_as_csv_with_tricky_text_read_back(engine: Engine) -> None:
    import_text(engine, RICH)
    period = datetime(2026, 11, 19, 9, 0, tzinfo=UTC)
    with make_sessionmaker(engine).begin() as session:
        add_report(
            session,
            "ATLAS",
            period,
            overall="red",
            summary=TRICKY_SUMMARY,
            percent_complete=40,
            forecast_end=date(2027, 7, 31),
            budget_spent=Decimal("1000.50"),
            help_needed='=HYPERLINK("http://evil")',
            help_needed_by=date(2026, 12, 1),
            risks=("Vendor, late", "Budget"),
            blockers=("Licence",),
        )
        add_report(session, "ATLAS", period - timedelta(days=14))
        add_report(session, "0123", period)
        text, count = export_reports(session, bom=False)
    assert count == 3
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert tuple(rows[0]) == REPORT_COLUMNS
    assert [(r[0], r[2]) for r in rows[1:]] == [
        ("0123", "2026-11-19T09:00:00+00:00"),
        ("ATLAS", "2026-11-05T09:00:00+00:00"),
        ("ATLAS", "2026-11-19T09:00:00+00:00"),
    ]
    row = dict(zip(REPORT_COLUMNS, rows[3], strict=True))
    assert row["summary"] == TRICKY_SUMMARY
    assert row["overall"] == "red"
    assert row["percent_complete"] == "40"
    assert row["forecast_end"] == "2027-07-31"
    assert row["budget_spent"] == "1000.5"
    assert row["help_needed"] == '\'=HYPERLINK("http://evil")'  # shown, not run
    assert row["help_needed_by"] == "2026-12-01"
    assert row["risks"] == "Vendor, late; Budget"
    assert row["blockers"] == "Licence"
    assert row["submitted_by"] == PM
    assert row["submitted_at"] == "2026-11-19T11:00:00+00:00"
    assert row["copied"] == "no"


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+33 6", "'+33 6"),
        ("-x", "'-x"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("fine = ok", "fine = ok"),
        ("", ""),
        (None, ""),
    ],
)
def test_typed_text_is_defused_for_spreadsheets(text: str | None, cell: str) -> None:
    assert safe_text(text) == cell


# --- /pmo export rows ------------------------------------------------------------------------

STATUS = f"""\
projects:
  - {{key: ATLAS, name: Atlas, pm: {PM}, sponsor: {SPONSOR}, portfolio: Operations, tags: [ERP]}}
  - {{key: BOREAL, name: Boreal, pm: {PM}, portfolio: Digital, tags: [crm, erp]}}
  - {{key: CYGNUS, name: Cygnus, pm: {PM}, portfolio: digital}}
  - {{key: SECRET, name: Secret, pm: {PM}, confidential: true, portfolio: Operations}}
  - {{key: HOLD, name: On hold, pm: {PM}, state: on_hold}}
digests:
  - {{channel: C0LEADERS, keys: [SECRET]}}
"""
THIS_PERIOD = datetime(2026, 11, 19, 10, 0, tzinfo=UTC)  # Thursday 10:00 UTC (PM's tz: UTC)


@pytest.fixture
def status_db(engine: Engine) -> Engine:
    import_text(engine, STATUS)
    with make_sessionmaker(engine).begin() as session:
        add_report(session, "ATLAS", THIS_PERIOD, overall="red", summary=TRICKY_SUMMARY)
        add_report(session, "BOREAL", THIS_PERIOD - timedelta(days=7), overall="amber")
        add_report(session, "SECRET", THIS_PERIOD, overall="green")
        atlas = portfolio.find_project(session, "ATLAS")
        assert atlas is not None
        items.save_risks(
            session,
            atlas.id,
            [
                RiskSpec("Vendor", 4, 5),
                RiskSpec("Staff", 2, 2),
                RiskSpec("Old", 5, 5, status=ItemStatus.CLOSED),
            ],
            period_start=THIS_PERIOD,
            now=NOW,
        )
    return engine


def keys(
    engine: Engine, *, actor: str = OUTSIDER, channel: str = "C0GENERAL", wanted: str = ""
) -> list[str]:
    with make_sessionmaker(engine).begin() as session:
        found = project_status(
            session,
            actor=actor,
            admins={ADMIN},
            channel=channel,
            wanted=wanted,
            now=NOW,
            default_tz=ZoneInfo("UTC"),
        )
    return [line.project.key for line in found.lines]


@pytest.mark.parametrize(
    ("wanted", "expected"),
    [
        ("", ["ATLAS", "BOREAL", "CYGNUS", "HOLD"]),
        ("DIGITAL", ["BOREAL", "CYGNUS"]),
        ("erp", ["ATLAS", "BOREAL"]),
        ("Red", ["ATLAS"]),
        ("amber", ["BOREAL"]),
        ("green", []),
        ("missing", ["BOREAL", "CYGNUS"]),  # HOLD is on hold: nothing is due
        ("nothing-like-this", []),
    ],
)
def test_status_filters_match_case_insensitively(
    status_db: Engine, wanted: str, expected: list[str]
) -> None:
    assert keys(status_db, wanted=wanted) == expected


def test_confidential_project_only_for_those_who_may_see_it_and_where_it_may_be_shared(
    status_db: Engine,
) -> None:
    assert "SECRET" not in keys(status_db, actor=OUTSIDER, channel="D0OUTSIDER")
    # Its PM sees it in a DM and in the channel whose digest names it, not in another channel.
    assert "SECRET" in keys(status_db, actor=PM, channel="D0PM000001")
    assert "SECRET" in keys(status_db, actor=ADMIN, channel="C0LEADERS")
    assert "SECRET" not in keys(status_db, actor=PM, channel="C0GENERAL")
    with make_sessionmaker(status_db).begin() as session:
        found = project_status(
            session,
            actor=PM,
            admins={ADMIN},
            channel="C0GENERAL",
            wanted="",
            now=NOW,
            default_tz=ZoneInfo("UTC"),
        )
    assert found.withheld == 1


def test_status_csv_has_one_row_per_project_with_counts(status_db: Engine) -> None:
    with make_sessionmaker(status_db).begin() as session:
        found = project_status(
            session,
            actor=OUTSIDER,
            admins={ADMIN},
            channel="C0GENERAL",
            wanted="",
            now=NOW,
            default_tz=ZoneInfo("UTC"),
        )
    data = status_csv(found.lines, {PM: "Camille Durand"})
    assert data.startswith(BOM.encode("utf-8"))
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert tuple(rows[0]) == STATUS_COLUMNS
    by_key = {row[0]: dict(zip(STATUS_COLUMNS, row, strict=True)) for row in rows[1:]}
    assert list(by_key) == ["ATLAS", "BOREAL", "CYGNUS", "HOLD"]
    atlas = by_key["ATLAS"]
    assert atlas["summary"] == TRICKY_SUMMARY
    assert (atlas["overall"], atlas["open_risks"], atlas["top_risk_score"]) == ("red", "2", "20")
    assert (atlas["pm"], atlas["pm_name"], atlas["sponsor"]) == (PM, "Camille Durand", SPONSOR)
    assert atlas["latest_period"] == "2026-11-19T10:00:00+00:00"
    assert by_key["CYGNUS"]["overall"] == "" and by_key["CYGNUS"]["open_blockers"] == "0"
    assert by_key["HOLD"]["state"] == "on_hold"
    assert by_key["BOREAL"]["tags"] == "crm, erp"


# --- the command line ------------------------------------------------------------------------


@pytest.fixture
def migrated_env(tmp_path: Path) -> dict[str, str]:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite'}"}
    assert cli(["db", "upgrade"], env).code == 0
    return env


def test_cli_export_then_import_into_a_fresh_database(
    migrated_env: dict[str, str], tmp_path: Path
) -> None:
    source = tmp_path / "rich.yaml"
    source.write_text(RICH, encoding="utf-8")
    assert cli(["import", str(source)], migrated_env).code == 0
    target = tmp_path / "exported.yaml"
    result = cli(["export", str(target)], migrated_env)
    assert result.code == 0, result
    assert result.out == f"exported 3 project(s) to {target}\n"
    other = {"DATABASE_URL": f"sqlite:///{tmp_path / 'other.sqlite'}"}
    assert cli(["db", "upgrade"], other).code == 0
    assert cli(["import", str(target)], other).code == 0, cli(["import", str(target)], other)
    first = make_engine(migrated_env["DATABASE_URL"])
    second = make_engine(other["DATABASE_URL"])
    try:
        assert snapshot(second) == snapshot(first)
    finally:
        first.dispose()
        second.dispose()
    stdout = cli(["export", "-"], migrated_env)
    assert stdout.code == 0 and stdout.err == ""
    assert parse_portfolio(stdout.out).projects == parse_portfolio(target.read_text()).projects


def test_cli_export_to_an_unwritable_path_is_one_line(
    migrated_env: dict[str, str], tmp_path: Path
) -> None:
    missing = tmp_path / "no-such-folder" / "out.yaml"
    assert_one_line_error(cli(["export", str(missing)], migrated_env), "cannot write", "out.yaml")
    assert_one_line_error(cli(["export-reports", str(tmp_path)], migrated_env), "cannot write")
    assert_one_line_error(cli(["export", ""], migrated_env), "cannot write")
    assert list(tmp_path.glob(".*.tmp")) == []


def test_cli_exports_without_a_schema_are_one_line(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'none.sqlite'}"}
    for command in ("export", "export-reports"):
        assert_one_line_error(cli([command, str(tmp_path / "out")], env), "db upgrade")
        assert not (tmp_path / "out").exists()


def test_cli_export_needs_a_file(migrated_env: dict[str, str]) -> None:
    assert_one_line_error(cli(["export"], migrated_env), "file")
    assert_one_line_error(cli(["export-reports"], migrated_env), "file")


def test_cli_export_reports_writes_a_spreadsheet_ready_csv(
    migrated_env: dict[str, str], tmp_path: Path
) -> None:
    source = tmp_path / "rich.yaml"
    source.write_text(RICH, encoding="utf-8")
    assert cli(["import", str(source)], migrated_env).code == 0
    engine = make_engine(migrated_env["DATABASE_URL"])
    try:
        with make_sessionmaker(engine).begin() as session:
            add_report(session, "ATLAS", THIS_PERIOD, overall="amber", summary=TRICKY_SUMMARY)
            atlas = portfolio.find_project(session, "ATLAS")
            assert atlas is not None
            for question in ('=HYPERLINK("x") move go-live?', "Two more testers?"):
                asked = decisions.open_decision(
                    session,
                    project_id=atlas.id,
                    question=question,
                    needed_by=date(2026, 11, 27),
                    report_id=None,
                    now=NOW,
                )
                decisions.record_decision(
                    session, asked.id, outcome="approved", rationale=None, by="U0SPONS001", at=NOW
                )
            decisions.add_actions(
                session,
                asked,
                [("Hire", "U0OWNER001", date(2026, 12, 4)), ("Train", "U0OWNER002", NOW.date())],
                now=NOW,
            )
    finally:
        engine.dispose()
    target = tmp_path / "reports.csv"
    beside = tmp_path / "reports-decisions.csv"
    result = cli(["export-reports", str(target)], migrated_env)
    assert result.code == 0, result
    assert result.out == f"exported 1 report(s) to {target} and 2 decision(s) to {beside}\n"
    # The decisions beside the reports: one row per action, one for a decision without any;
    # typed text defused for spreadsheets.
    with beside.open(encoding="utf-8-sig", newline="") as handle:
        listed = [dict(zip(DECISION_COLUMNS, r, strict=True)) for r in list(csv.reader(handle))[1:]]
    assert [(r["question"], r["action_title"], r["action_owner"]) for r in listed] == [
        ('\'=HYPERLINK("x") move go-live?', "", ""),
        ("Two more testers?", "Train", "U0OWNER002"),  # soonest due first
        ("Two more testers?", "Hire", "U0OWNER001"),
    ]
    assert {r["outcome"] for r in listed} == {"approved"}
    assert listed[2]["action_due"] == "2026-12-04"
    raw = target.read_bytes()
    assert raw.startswith(BOM.encode("utf-8"))  # Excel reads it as UTF-8
    assert b"\r\n" in raw  # spreadsheet (excel dialect) row ends
    with target.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert tuple(rows[0]) == REPORT_COLUMNS
    assert len(rows) == 2
    row = dict(zip(REPORT_COLUMNS, rows[1], strict=True))
    assert (row["key"], row["overall"], row["summary"]) == ("ATLAS", "amber", TRICKY_SUMMARY)
    assert row["project"] == "Atlas ERP migration: phase 2, “R&D” <beta>"
    stdout = cli(["export-reports", "-"], migrated_env)
    assert stdout.code == 0
    assert not stdout.out.startswith(BOM)  # a pipe gets plain UTF-8
    assert list(csv.reader(io.StringIO(stdout.out, newline=""))) == rows


def test_currency_and_tolerances_each_replace_the_stored_one_only_when_given(
    engine: Engine,
) -> None:
    import_text(engine, "currency: EUR\ntolerances: {cost_pct: 5}\nprojects: []\n")
    import_text(engine, "currency: USD\nprojects: []\n")  # tolerances kept
    import_text(engine, "projects: []\n")  # neither: both kept
    with make_sessionmaker(engine).begin() as session:
        assert portfolio.load_money(session) == Money("USD", Tolerances(Decimal(5), None))
    import_text(engine, "tolerances: {time_days: 7}\nprojects: []\n")  # currency kept
    with make_sessionmaker(engine).begin() as session:
        assert portfolio.load_money(session) == Money("USD", Tolerances(None, 7))


def test_cli_export_xlsx_writes_the_steering_pack_of_the_open_projects(
    migrated_env: dict[str, str], tmp_path: Path
) -> None:
    source = tmp_path / "rich.yaml"
    source.write_text(RICH, encoding="utf-8")
    assert cli(["import", str(source)], migrated_env).code == 0
    engine = make_engine(migrated_env["DATABASE_URL"])
    try:
        with make_sessionmaker(engine).begin() as session:
            add_report(session, "ATLAS", THIS_PERIOD, overall="amber", summary=TRICKY_SUMMARY)
            _pass_atlas_first_gate(session)
    finally:
        engine.dispose()
    target = tmp_path / "pack.xlsx"
    result = cli(["export-xlsx", str(target)], migrated_env)
    assert result.code == 0, result
    assert result.out == f"exported 2 open project(s) to {target}\n"  # delta is closed
    book = openpyxl.load_workbook(target)
    assert book.sheetnames == [*SHEETS, "Changes", "Baselines"]  # the portfolio has a process
    projects = book["Projects"]
    assert [row[0].value for row in projects.iter_rows(min_row=2)] == ["0123", "ATLAS"]
    atlas = dict(zip([c.value for c in projects[1]], projects[3], strict=True))
    assert atlas["Summary"].value == TRICKY_SUMMARY and atlas["State"].value == "on hold"
    assert atlas["Budget (BAC)"].number_format == '"CHF"#,##0'
    changes = book["Changes"]
    (gate,) = [
        dict(zip([c.value for c in changes[1]], row, strict=True))
        for row in changes.iter_rows(min_row=2)
    ]
    assert (gate["Key"].value, gate["From → to, or what changes"].value) == (
        "ATLAS",
        "initiation → planning",
    )
    assert (gate["Outcome"].value, gate["Decided by"].value) == ("approved", ADMIN)
    assert gate["New budget"].value == 1_200_000.5 and gate["New budget"].is_date is False
    assert gate["New end"].value.date() == date(2027, 6, 30)
    assert gate["Baseline recorded"].value == 1
    baselines = book["Baselines"]
    assert [c.value for c in baselines[2]][:3] == ["ATLAS", ATLAS_NAME, 1]
    french = tmp_path / "dossier.xlsx"
    assert cli(["export-xlsx", str(french), "--language", "fr"], migrated_env).code == 0
    assert openpyxl.load_workbook(french).sheetnames[0] == "Projets"
    assert openpyxl.load_workbook(french).sheetnames[-2:] == ["Changements", "Références"]
    assert list(tmp_path.glob(".*.tmp")) == []


ATLAS_NAME = "Atlas ERP migration: phase 2, “R&D” <beta>"


def _pass_atlas_first_gate(session: Session) -> None:
    """ATLAS (in its first phase, initiation) asks its gate to planning, and an admin approves
    it: the baseline of its budget and end is recorded."""
    atlas = portfolio.find_project(session, "ATLAS")
    assert atlas is not None
    asked = request_gate(
        session,
        actor=PM,
        project_id=atlas.id,
        phase="initiation",
        ticked=(),
        links={},
        note=None,
        admins={ADMIN},
        now=THIS_PERIOD,
    )
    assert isinstance(asked, Requested), asked
    decided = decide_request(
        session,
        actor=ADMIN,
        request_id=asked.request.id,
        outcome="approved",
        rationale=None,
        admins={ADMIN},
        now=THIS_PERIOD + timedelta(hours=1),
    )
    assert isinstance(decided, RequestDecided), decided


def test_cli_export_xlsx_refuses_in_one_line(migrated_env: dict[str, str], tmp_path: Path) -> None:
    target = tmp_path / "pack.xlsx"
    assert_one_line_error(
        cli(["export-xlsx", str(target), "--language", "de"], migrated_env), "unknown language"
    )
    assert_one_line_error(cli(["export-xlsx", str(tmp_path)], migrated_env), "cannot write")
    assert_one_line_error(cli(["export-xlsx"], migrated_env), "file")
    none = {"DATABASE_URL": f"sqlite:///{tmp_path / 'none.sqlite'}"}
    assert_one_line_error(cli(["export-xlsx", str(target)], none), "db upgrade")
    assert not target.exists()


def test_scores_are_checked_against_the_stored_criteria_when_the_file_sets_none(
    engine: Engine,
) -> None:
    import_text(engine, RICH)
    before = snapshot(engine)
    unknown = (
        "projects:\n  - {key: ATLAS, name: Atlas, pm: U012ABCDEF, scores: {reach: 3, risk: 11}}\n"
    )
    with pytest.raises(PortfolioError) as raised:
        import_text(engine, unknown)
    assert raised.value.problems == (
        "projects (ATLAS): scores: unknown criterion 'reach' (the criteria: strategic, risk)",
        "projects (ATLAS): scores: risk: 11 is outside its scale (0 to 10)",
        # a file's project without milestones has none after it: 0123 would need one gone
        "projects (0123): depends_on: dependency 1: ATLAS has no milestone named"
        " 'Go-live: wave #1'",
    )
    assert snapshot(engine) == before
    import_text(engine, "capacity: {budget: 10}\n")  # the criteria stay as they were
    with make_sessionmaker(engine).begin() as session:
        planning = portfolio.load_planning(session)
    assert planning.capacity_budget == Decimal(10) and len(planning.criteria) == 2


def test_the_ranking_method_round_trips_and_the_stored_one_checks_the_scores(
    engine: Engine, fresh: Engine
) -> None:
    wsjf = (
        "method: wsjf\nprojects:\n  - {key: ATLAS, name: Atlas, pm: U012ABCDEF, scores:"
        " {business_value: 8, time_criticality: 5, risk_reduction: 3, job_size: 8}}\n"
    )
    import_text(engine, wsjf)
    exported = export_text(engine)
    assert 'method: "wsjf"' in exported
    import_text(fresh, exported)
    assert snapshot(fresh) == snapshot(engine)
    # the stored method is WSJF: a file giving only scores is checked against it
    with pytest.raises(PortfolioError) as raised:
        import_text(
            engine, "projects:\n  - {key: ATLAS, name: A, pm: U012ABCDEF, scores: {x: 1}}\n"
        )
    assert "is not a part of WSJF" in raised.value.problems[0]


def test_the_import_refuses_a_cycle_with_the_stored_dependencies_and_imports_nothing(
    engine: Engine,
) -> None:
    import_text(
        engine,
        "projects:\n"
        f"  - {{key: ALPHA, name: Alpha, pm: {PM}}}\n"
        f"  - {{key: BRAVO, name: Bravo, pm: {PM}, depends_on: "
        "[{project: ALPHA, needed_by: 2027-03-01}]}\n",
    )
    before = snapshot(engine)
    closing = (
        "projects:\n"
        f"  - {{key: ALPHA, name: Alpha, pm: {PM}, depends_on: "
        "[{project: BRAVO, needed_by: 2027-04-01}, {project: NOWHERE, needed_by: 2027-04-01}]}\n"
    )
    with pytest.raises(PortfolioError) as raised:
        import_text(engine, closing)
    assert raised.value.problems == (
        "projects (ALPHA): depends_on: dependency 2: NOWHERE is not a project",
        "depends_on: a cycle: ALPHA needs BRAVO needs ALPHA",
    )
    assert snapshot(engine) == before


def test_a_phase_is_checked_against_the_stored_process_when_the_file_has_none(
    engine: Engine,
) -> None:
    import_text(engine, RICH)  # its process: initiation, planning, "exécution: 1", closing
    before = snapshot(engine)
    with pytest.raises(PortfolioError) as raised:
        import_text(engine, f"projects:\n  - {{key: ATLAS, name: Atlas, pm: {PM}, phase: build}}\n")
    assert raised.value.problems[-1] == (  # the others: ATLAS's milestones would go
        "projects (ATLAS): phase: 'build' is not a phase of the process"
        " (initiation, planning, exécution: 1, closing)"
    )
    assert snapshot(engine) == before
