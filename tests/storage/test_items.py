"""Risks, blockers and milestones on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine

from bot.portfolio.importing import import_portfolio
from storage import items, portfolio, reports
from storage.db import make_sessionmaker
from storage.records import (
    BlockerSpec,
    ItemStatus,
    MilestoneSpec,
    NewProject,
    Project,
    Risk,
    RiskSpec,
)
from tests import factories
from tests.storage.test_storage import count_statements

P1 = datetime(2026, 11, 12, 9, 0, tzinfo=UTC)
P2 = P1 + timedelta(days=7)


def test_risks_are_reviewed_period_after_period(engine: Engine) -> None:
    sessions = make_sessionmaker(engine)
    with sessions.begin() as session:
        portfolio.upsert_projects(
            session, [factories.project_spec("ATLAS"), factories.project_spec("BOREAL")], now=P1
        )
        atlas, boreal = (p.id for p in portfolio.list_projects(session))
        opened = items.save_risks(
            session,
            atlas,
            [RiskSpec("Vendor late", 4, 4, "U0OWNER01", "Weekly calls"), RiskSpec("Staff", 2, 3)],
            period_start=P1,
            now=P1,
        )
        assert [(r.title, r.score) for r in opened] == [("Vendor late", 16), ("Staff", 6)]
    vendor, staff = opened
    with sessions.begin() as session:
        # Next period: the vendor risk is lowered, staff closed, one added; a forged id of
        # another project's risk is ignored.
        other = items.save_risks(
            session, boreal, [RiskSpec("Other", 1, 1)], period_start=P1, now=P1
        )
        after = items.save_risks(
            session,
            atlas,
            [
                RiskSpec("Vendor late", 2, 4, "U0OWNER01", "Contract penalty", id=vendor.id),
                RiskSpec("Staff", 2, 3, status=ItemStatus.CLOSED, id=staff.id),
                RiskSpec("Hijack", 5, 5, status=ItemStatus.CLOSED, id=other[0].id),
                RiskSpec("Data quality", 3, 3),
            ],
            period_start=P2,
            now=P2,
        )
        assert [(r.title, r.score, r.opened_period) for r in after] == [
            ("Data quality", 9, P2),
            ("Vendor late", 8, P1),
        ]
        assert items.open_risks(session, [boreal])[boreal][0].title == "Other"


def test_blockers_open_and_resolve(engine: Engine) -> None:
    sessions = make_sessionmaker(engine)
    with sessions.begin() as session:
        portfolio.upsert_projects(session, [factories.project_spec("ATLAS")], now=P1)
        atlas = portfolio.list_projects(session)[0].id
        [blocker] = items.save_blockers(
            session,
            atlas,
            [BlockerSpec("Licence approval", "U0CFO0001", needs_leadership=True)],
            period_start=P1,
            now=P1,
        )
        assert blocker.needs_leadership and blocker.raised_at == P1
        left = items.save_blockers(
            session,
            atlas,
            [BlockerSpec("Licence approval", status=ItemStatus.CLOSED, id=blocker.id)],
            period_start=P2,
            now=P2,
        )
        assert left == []


def test_milestones_follow_the_file_and_keep_what_the_pm_marked(engine: Engine) -> None:
    sessions = make_sessionmaker(engine)
    text = """
projects:
  - key: ATLAS
    name: Atlas
    pm: U0PM00001
    milestones:
      - {name: Design, due: 2026-10-01, done: 2026-10-03}
      - {name: Build, due: 2026-12-01}
      - {name: Go-live, due: 2027-03-01}
"""
    with sessions.begin() as session:
        import_portfolio(session, text, now=P1)
        atlas = portfolio.list_projects(session)[0].id
        build = items.list_milestones(session, [atlas])[atlas][1]
        items.mark_milestones_done(session, atlas, [build.id], on=date(2026, 11, 30))
    with sessions.begin() as session:
        import_portfolio(
            session,
            text.replace("      - {name: Go-live, due: 2027-03-01}\n", "").replace(
                "due: 2026-12-01", "due: 2026-12-05"
            ),
            now=P2,
        )
        stored = items.list_milestones(session, [atlas])[atlas]
    assert [(m.name, m.due, m.done_on) for m in stored] == [
        ("Design", date(2026, 10, 1), date(2026, 10, 3)),
        ("Build", date(2026, 12, 5), date(2026, 11, 30)),
    ]
    assert MilestoneSpec("x", date(2026, 1, 1)).done_on is None


def test_a_forecast_is_kept_across_imports_with_its_history(engine: Engine) -> None:
    sessions = make_sessionmaker(engine)
    text = """
projects:
  - key: ATLAS
    name: Atlas
    pm: U0PM00001
    milestones:
      - {name: Build, due: 2026-12-01}
      - {name: Go-live, due: 2027-03-01}
      - {name: Pilot, due: 2027-01-15}
  - key: BOREAL
    name: Boreal
    pm: U0PM00002
    milestones:
      - {name: Launch, due: 2027-02-01}
"""
    with sessions.begin() as session:
        import_portfolio(session, text, now=P1)
        atlas, boreal = (p.id for p in portfolio.list_projects(session))
        build, pilot, golive = items.list_milestones(session, [atlas])[atlas]
        [launch] = items.list_milestones(session, [boreal])[boreal]
        report = reports.save_report(
            session,
            factories.draft(),
            project_id=atlas,
            period_start=P1,
            submitted_by="U0PM00001",
            submitted_at=P1,
        )
        changed = items.forecast_milestones(
            session,
            atlas,
            {
                build.id: date(2026, 12, 12),  # late
                golive.id: golive.due,  # the prefilled due date: no news
                pilot.id: date(2027, 1, 10),  # early
                launch.id: date(2027, 5, 1),  # another project's: ignored
            },
            report_id=report.id,
            now=P1,
        )
        assert [(m.name, m.forecast) for m in changed] == [
            ("Build", date(2026, 12, 12)),
            ("Pilot", date(2027, 1, 10)),
        ]
    with sessions.begin() as session:
        # The same forecasts again: nothing changes; then Pilot back on its due date (news).
        assert (
            items.forecast_milestones(
                session,
                atlas,
                {build.id: date(2026, 12, 12), golive.id: golive.due},
                report_id=None,
                now=P2,
            )
            == []
        )
        [back] = items.forecast_milestones(
            session, atlas, {pilot.id: pilot.due}, report_id=None, now=P2
        )
        assert back.forecast == pilot.due
        items.mark_milestones_done(session, atlas, [golive.id], on=P2.date())
        assert (
            items.forecast_milestones(
                session, atlas, {golive.id: date(2027, 4, 1)}, report_id=None, now=P2
            )
            == []
        )  # reached: a forecast is irrelevant
    with sessions.begin() as session:
        # The file moves Build's due date and drops Pilot: Build keeps its forecast.
        import_portfolio(
            session,
            text.replace("due: 2026-12-01", "due: 2026-12-03").replace(
                "      - {name: Pilot, due: 2027-01-15}\n", ""
            ),
            now=P2,
        )
        stored = items.list_milestones(session, [atlas, boreal])
        history = items.forecast_history(session, [build.id, pilot.id, golive.id, launch.id])
    assert [(m.name, m.due, m.forecast) for m in stored[atlas]] == [
        ("Build", date(2026, 12, 3), date(2026, 12, 12)),
        ("Go-live", date(2027, 3, 1), None),
    ]
    assert stored[boreal][0].forecast is None
    assert [(h.forecast, h.said_at, h.report_id) for h in history[build.id]] == [
        (date(2026, 12, 12), P1, report.id)
    ]
    assert history[pilot.id] == []  # gone with its milestone
    assert history[golive.id] == history[launch.id] == []


def _risky_portfolio(engine: Engine) -> tuple[list[int], list[tuple[Risk, Project]]]:
    """Twelve projects, some without a priority, with risks of every probability and impact
    (many ties at each score), a few closed; returns the ids of the nine in scope and every
    open risk of those nine with its project."""
    specs = [
        factories.project_spec(
            f"K{i:02d}" if i % 2 else f"J-{i:02d}", priority=None if i % 3 == 0 else 1 + i % 4
        )
        for i in range(12)
    ]
    with make_sessionmaker(engine).begin() as session:
        ids = portfolio.add_projects(session, [NewProject(s, P1, P1) for s in specs])
        items.add_risks(
            session,
            [
                Risk(
                    title=f"R{n}",
                    probability=1 + (n * 7 + i) % 5,
                    impact=1 + (n * 3 + i * 2) % 5,
                    status=ItemStatus.CLOSED if n % 6 == 5 else ItemStatus.OPEN,
                    project_id=ids[spec.key],
                    opened_period=P1,
                    opened_at=P1,
                    updated_at=P1,
                )
                for i, spec in enumerate(specs)
                for n in range(9)
            ],
        )
    with make_sessionmaker(engine).begin() as session:
        projects = {p.id: p for p in portfolio.list_projects(session)}
        scope = [ids[s.key] for s in specs if s.key not in ("K01", "J-06", "K11")]
        found = items.open_risks(session, scope)
    return scope, [(r, projects[pid]) for pid in scope for r in found[pid]]


@pytest.mark.parametrize("limit", [0, 1, 4, 11, 30, 70, 500])
def test_ranked_open_risks_are_the_first_of_every_open_risk_in_scope_ranked(
    engine: Engine, limit: int
) -> None:
    """Whatever the limit (within a score's ties, at a score's end, more than there are),
    the first risks of the ranking in Python (score, then the project's priority and key,
    then id), of the projects in scope only, and how many there are, in two statements."""
    scope, every = _risky_portfolio(engine)
    every.sort(key=lambda rp: (-rp[0].score, rp[1].priority or 9, rp[1].key, rp[0].id or 0))
    with make_sessionmaker(engine).begin() as session:
        everyone = {p.id for p in portfolio.list_projects(session)}
    hidden = everyone - set(scope)
    assert hidden
    # the projects in scope named, or (the smaller list) those out of it
    for ids, excluding in ((scope, set()), (None, hidden)):
        with make_sessionmaker(engine).begin() as session, count_statements(engine) as sql:
            shown, total = items.ranked_open_risks(session, ids, limit=limit, excluding=excluding)
        assert total == len(every) > 70
        assert [(r.id, r.title, r.score) for r in shown] == [
            (r.id, r.title, r.score) for r, _ in every[:limit]
        ]
        assert len(sql) == (2 if limit else 1)
