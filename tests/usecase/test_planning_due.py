"""Planning looks only at the projects the read model says are due (storage.standings
.due_projects, from each standing's `due_at`), and records exactly what planning over every
project records: two identical portfolios tick side by side for three weeks, one planned from
`due_at`, the other with every active project handed to planning, and their outboxes stay
equal after every tick, whatever happens in between (reports, skips, holidays, a PM who moves
to another continent, projects that are never answered and escalate once an admin asks for it,
readers recomputing standings between ticks, the bot down at times)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event

from bot.cli.sample import build_sample
from bot.config import load_settings
from bot.delivery import composers, planning
from bot.delivery.tick import tick
from bot.overview import standings as overview
from bot.periods.state import PeriodState, period_statuses
from bot.portfolio.admin import spec_of
from bot.render import Renderer
from bot.services import Services
from storage import deliveries, portfolio, reports, users
from storage import standings as stored
from storage.db import make_engine, make_sessionmaker, upgrade
from storage.records import ProjectState, SkipReason
from tests import factories
from tests.fakes.fake_gateway import FakeGateway

PARIS = ZoneInfo("Europe/Paris")
BUILT = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)  # a Friday afternoon: the sample's last digest
ADMIN = "U0BENCHADM"


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


def _services(path: Path, clock: Clock, projects: int) -> Services:
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    with sessions.begin() as session:
        build_sample(session, projects=projects, weeks=3, now=BUILT, default_tz=PARIS)
        known = users.find_users(session, {p.pm for p in portfolio.list_projects(session)})
        # holidays ahead: a whole week (periods with no prompt at all) and single days
        ahead = [date(2026, 11, 30), date(2026, 12, 3), *(date(2026, 12, d) for d in range(14, 19))]
        portfolio.replace_holidays(session, [*portfolio.list_holidays(session), *ahead])
    gateway = FakeGateway()
    gateway.add_user(ADMIN, tz="Europe/Paris", locale="en-GB")
    for user in known.values():
        gateway.add_user(user.user_id, tz=user.tz, locale=user.locale)
    settings = load_settings({"PMO_ADMINS": ADMIN, "PMO_TIMEZONE": "Europe/Paris"})
    return Services(settings, sessions, gateway, Renderer(), clock)


def _outbox(services: Services) -> set[tuple[str, str, datetime]]:
    with services.sessions.begin() as session:
        return {
            (d.kind.value, d.target, d.occurrence)
            for d in deliveries.list_deliveries(session, limit=100_000)
        }


def test_planning_from_due_at_records_what_planning_every_project_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(composers, "_chart", lambda *_: None)  # pictures are not planning's
    clock = Clock(BUILT)
    due_only = _services(tmp_path / "due.sqlite", clock, projects=18)
    everyone = _services(tmp_path / "all.sqlite", clock, projects=18)
    real = stored.due_projects
    looked_at: list[int] = []

    def counted(session, *, at):  # type: ignore[no-untyped-def]
        found = real(session, at=at)
        looked_at.append(len(found))
        return found

    def all_active(session, *, at):  # type: ignore[no-untyped-def]
        generations = real(session, at=at)  # the same statement, then every active project
        rows = stored.find_standings(session, [p.id for p in portfolio.list_projects(session)])
        active = portfolio.list_projects(session, states=[ProjectState.ACTIVE])
        return {**generations, **{p.id: rows[p.id].generation for p in active}}

    moved = escalating = False
    _escalations_on(due_only, everyone, clock.now, on=False)
    end = BUILT + timedelta(days=20, hours=12)  # three Thursdays: escalations
    step = 0
    while clock.now < end:
        clock.now += timedelta(hours=3)  # 09:00 UTC among them: exactly at many occurrences
        step += 1
        _read_by_someone(due_only, clock.now - timedelta(minutes=1))
        if step % 3 == 2:  # every ninth hour, so at every hour of the day in turn
            continue  # the bot is down: the readers alone see time pass
        monkeypatch.setattr(planning.stored_standings, "due_projects", counted)
        tick(due_only, now=clock.now)
        monkeypatch.setattr(planning.stored_standings, "due_projects", all_active)
        tick(everyone, now=clock.now)
        assert _outbox(due_only) == _outbox(everyone), f"the outboxes differ at {clock.now}"
        _answer_some(due_only, everyone, clock.now)
        if not moved and clock.now >= BUILT + timedelta(days=6):
            _move_a_pm(due_only, everyone, clock.now)
            moved = True
        if not escalating and clock.now >= BUILT + timedelta(days=20):
            _escalations_on(due_only, everyone, clock.now, on=True)
            escalating = True

    recorded = _outbox(due_only)
    kinds = {kind for kind, _, _ in recorded}
    assert {"prompt", "reminder", "escalation", "digest"} <= kinds, kinds
    # planning looked at what was due, not at the portfolio
    assert sum(looked_at) < len(looked_at) * 18 / 5, looked_at


def _read_by_someone(services: Services, at: datetime) -> None:
    """Someone opens the App Home between two ticks: the standings whose time came are
    recomputed and stored by the reader, not by the tick."""
    with services.sessions.begin() as session:
        projects = portfolio.list_projects(session)
        overview.standings(session, projects, at=at, default=PARIS)


def _answer_some(a: Services, b: Services, at: datetime) -> None:
    """The same PMs answer in both portfolios: a third report when asked, a ninth skip;
    the rest never answer (reminders, escalations)."""
    with a.sessions.begin() as session:
        projects = portfolio.list_projects(session, states=[ProjectState.ACTIVE])
        found = period_statuses(session, projects, at=at, default=PARIS)
    for project in projects:
        status = found[project.id]
        if status.state not in (PeriodState.DUE, PeriodState.LATE) or status.period is None:
            continue
        for services in (a, b):
            with services.sessions.begin() as session:
                if project.id % 3 == 0:
                    reports.save_report(
                        session,
                        factories.draft("amber"),
                        project_id=project.id,
                        period_start=status.period.start,
                        submitted_by=project.pm,
                        submitted_at=at,
                    )
                elif project.id % 9 == 1:
                    reports.save_skip(
                        session,
                        project_id=project.id,
                        period_start=status.period.start,
                        reason=SkipReason.ON_LEAVE,
                        note=None,
                        skipped_by=project.pm,
                        skipped_at=at,
                    )


def _escalations_on(a: Services, b: Services, at: datetime, *, on: bool) -> None:
    """An admin turns escalations on (or off) for every project. Turned on mid-period, those
    whose two previous periods went unanswered escalate at the next tick, though a reader
    recomputes their standings in between."""
    for services in (a, b):
        with services.sessions.begin() as session:
            projects = portfolio.list_projects(session)
            specs = [replace(spec_of(p), escalate_to_sponsor=on) for p in projects]
            portfolio.upsert_projects(session, specs, now=at)
    _read_by_someone(a, at)


def _move_a_pm(a: Services, b: Services, at: datetime) -> None:
    """A PM moves from Europe to Tokyo: Slack says so when their profile is next fetched."""
    with a.sessions.begin() as session:
        project = portfolio.list_projects(session, states=[ProjectState.ACTIVE])[4]
    for services in (a, b):
        services.gateway.add_user(project.pm, tz="Asia/Tokyo", locale="en-GB")  # type: ignore[attr-defined]


def test_an_idle_tick_costs_the_same_statements_at_any_size(tmp_path: Path) -> None:
    costs = []
    for size in (6, 60):
        clock = Clock(BUILT)
        services = _services(tmp_path / f"{size}.sqlite", clock, projects=size)
        tick(services, now=clock.now)  # what is due is recorded and sent
        clock.now += timedelta(minutes=1)
        tick(services, now=clock.now)  # the standings the first one recorded are refreshed
        engine = services.sessions.kw["bind"]
        counted = [0]

        def count(*_: object, counter: list[int] = counted) -> None:
            counter[0] += 1

        event.listen(engine, "before_cursor_execute", count)
        clock.now += timedelta(minutes=1)
        result = tick(services, now=clock.now)
        event.remove(engine, "before_cursor_execute", count)
        assert result.recorded == 0 and not result.sent
        with services.sessions.begin() as session:  # on hold and closed ones included
            assert stored.due_projects(session, at=clock.now) == {}
        costs.append(counted[0])
    assert costs[0] == costs[1], costs
