"""Risks, blockers and milestones on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine

from bot.portfolio.importing import import_portfolio
from storage import items, portfolio
from storage.db import make_sessionmaker
from storage.records import BlockerSpec, ItemStatus, MilestoneSpec, RiskSpec
from tests import factories

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
