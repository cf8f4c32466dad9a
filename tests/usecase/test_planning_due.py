"""Planning looks only at the projects the read model says are due (storage.standings
.due_projects, from each standing's `due_at`) and at the subscriptions due (storage.portfolio
.due_subscriptions, from each subscription's `due_at`), and records exactly what planning over
every project and every subscription records: two identical portfolios tick side by side for
three weeks, one planned from `due_at`, the other with every active project and every
subscription handed to planning, and their outboxes stay equal after every tick, whatever
happens in between (reports, skips, holidays, a PM who moves to another continent, projects
that are never answered and escalate once an admin asks for it, readers recomputing standings
between ticks, digests whose schedule or timezone changes, a new daily digest, one whose
schedule ends, the bot down at times)."""

from __future__ import annotations

from collections import Counter
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
from storage.records import ProjectState, SkipReason, SubscriptionSpec
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

    due_subscriptions = portfolio.due_subscriptions
    subscriptions_looked_at: Counter[str] = Counter()

    def counted_subscriptions(session, *, at):  # type: ignore[no-untyped-def]
        found = due_subscriptions(session, at=at)
        subscriptions_looked_at.update(s.channel for s in found)
        return found

    def every_subscription(session, *, at):  # type: ignore[no-untyped-def]
        return portfolio.list_subscriptions(session)

    moved = escalating = False
    _escalations_on(due_only, everyone, clock.now, on=False)
    # the digests' changes, each made in both portfolios at the first step at or after its time
    changes = [
        (BUILT, _END_A_DIGEST),
        (BUILT + timedelta(days=3, hours=1), _MOVE_LEADERSHIP_TO_TUESDAY_AND_THURSDAY),
        (BUILT + timedelta(days=6, hours=2), _MOVE_COMEX_TO_TOKYO),
        (BUILT + timedelta(days=8, hours=4), _ADD_A_DAILY_DIGEST),
    ]
    end = BUILT + timedelta(days=20, hours=12)  # three Thursdays: escalations
    step = ticks = 0
    while clock.now < end:
        clock.now += timedelta(hours=3)  # 09:00 UTC among them: exactly at many occurrences
        step += 1
        _read_by_someone(due_only, clock.now - timedelta(minutes=1))
        while changes and changes[0][0] <= clock.now:
            for services in (due_only, everyone):
                with services.sessions.begin() as session:
                    portfolio.upsert_subscriptions(session, [changes[0][1]], now=clock.now)
            changes.pop(0)
        if step % 3 == 2:  # every ninth hour, so at every hour of the day in turn
            continue  # the bot is down: the readers alone see time pass
        ticks += 1
        monkeypatch.setattr(planning.stored_standings, "due_projects", counted)
        monkeypatch.setattr(planning.portfolio, "due_subscriptions", counted_subscriptions)
        tick(due_only, now=clock.now)
        monkeypatch.setattr(planning.stored_standings, "due_projects", all_active)
        monkeypatch.setattr(planning.portfolio, "due_subscriptions", every_subscription)
        tick(everyone, now=clock.now)
        assert _outbox(due_only) == _outbox(everyone), f"the outboxes differ at {clock.now}"
        _answer_some(due_only, everyone, clock.now)
        if not moved and clock.now >= BUILT + timedelta(days=6):
            _move_a_pm(due_only, everyone, clock.now)
            moved = True
        if not escalating and clock.now >= BUILT + timedelta(days=20):
            _escalations_on(due_only, everyone, clock.now, on=True)
            escalating = True

    assert not changes
    recorded = _outbox(due_only)
    kinds = {kind for kind, _, _ in recorded}
    assert {"prompt", "reminder", "escalation", "digest"} <= kinds, kinds
    digests = Counter(target for kind, target, _ in recorded if kind == "digest")
    # each change showed: leadership's first Tuesday, the committee's Fridays in Tokyo, the
    # new daily digest, and the ending one stopped
    assert ("digest", "channel:C0LEADERS", datetime(2026, 11, 24, 9, tzinfo=UTC)) in recorded
    assert ("digest", "channel:C0COMEXFR", datetime(2026, 11, 27, 0, tzinfo=UTC)) in recorded
    assert digests["channel:C0DAILY"] >= 10, digests
    assert digests["channel:C0ENDING"] == 2, digests  # 20 and 21 November, then no more
    # planning looked at what was due, not at the portfolio
    assert sum(looked_at) < len(looked_at) * 18 / 5, looked_at
    # a subscription after each of its occurrences and each write, the ending one twice only
    assert subscriptions_looked_at["C0ENDING"] == 2, subscriptions_looked_at
    assert sum(subscriptions_looked_at.values()) < ticks / 2, (ticks, subscriptions_looked_at)


# The digests' changes in the side by side test (imports or `/pmo subscribe` in production).
# Leadership's digest moves from Friday 16:00 to Tuesday and Thursday 10:00 (Paris, the default
# zone) on a Monday: its Tuesday comes before the Friday it was due at.
_MOVE_LEADERSHIP_TO_TUESDAY_AND_THURSDAY = SubscriptionSpec(
    "C0LEADERS", "FREQ=WEEKLY;BYDAY=TU,TH;BYHOUR=10;BYMINUTE=0"
)
# The French committee's Friday 09:00 moves from Paris to Tokyo on a Thursday: eight hours
# earlier on the UTC line than the Friday it was due at.
_MOVE_COMEX_TO_TOKYO = SubscriptionSpec(
    "C0COMEXFR",
    "FREQ=WEEKLY;BYDAY=FR;BYHOUR=9;BYMINUTE=0",
    timezone="Asia/Tokyo",
    language="fr",
    mention_pms=False,
    tags=("cloud",),
)
# A new channel gets a digest every morning at 07:00 (the default zone).
_ADD_A_DAILY_DIGEST = SubscriptionSpec("C0DAILY", "FREQ=DAILY;BYHOUR=7;BYMINUTE=0")
# A digest from the start whose schedule ends (UNTIL): daily at 12:00 in Paris, the last on 21
# November; it is not looked at every tick once it has no occurrence left.
_END_A_DIGEST = SubscriptionSpec(
    "C0ENDING", "FREQ=DAILY;BYHOUR=12;BYMINUTE=0;UNTIL=20261121T235959", timezone="Europe/Paris"
)


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
            assert portfolio.due_subscriptions(session, at=clock.now) == []
        costs.append(counted[0])
    assert costs[0] == costs[1], costs


def test_a_new_default_zone_makes_every_subscription_due(tmp_path: Path) -> None:
    """A digest without a zone of its own is read in PMO_TIMEZONE: when that changes, every
    subscription is due at the next tick, though the instant stored in the old zone (next
    Friday 16:00 in Paris) has not come; Friday 16:00 in New York is recorded that day."""
    friday = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)  # 16:00 in Paris
    engine = make_engine(f"sqlite:///{tmp_path / 'zone.sqlite'}")
    upgrade(engine)
    settings = load_settings({"PMO_ADMINS": ADMIN, "PMO_TIMEZONE": "Europe/Paris"})
    in_paris = Services(
        settings, make_sessionmaker(engine), FakeGateway(), Renderer(), Clock(friday)
    )
    with in_paris.sessions.begin() as session:
        portfolio.upsert_subscriptions(
            session, [SubscriptionSpec("C0LEADERS")], now=friday - timedelta(days=4)
        )
    planning.plan(in_paris, friday)
    in_new_york = replace(
        in_paris, settings=replace(settings, timezone=ZoneInfo("America/New_York"))
    )
    planning.plan(in_new_york, friday + timedelta(hours=6, minutes=30))  # 16:30 in New York
    assert sorted(occurrence for kind, _, occurrence in _outbox(in_paris) if kind == "digest") == [
        friday,
        friday + timedelta(hours=6),
    ]
    engine.dispose()


def test_planning_writes_subscriptions_then_deliveries_then_standings(tmp_path: Path) -> None:
    """Every replica's planning takes its locks in one order, or two recording the same claims
    deadlock on PostgreSQL (one holding standings the other's recording invalidates, the
    other the deliveries the first inserts): within the transaction that records, the
    subscriptions are written first, then the deliveries, and the standings last."""
    clock = Clock(BUILT)
    services = _services(tmp_path / "order.sqlite", clock, projects=12)
    engine = services.sessions.kw["bind"]
    writes: list[str] = []

    def written(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        words = statement.split()
        verb = words[0].upper()
        if verb in ("INSERT", "UPDATE"):
            table = words[2] if verb == "INSERT" else words[1]
            if table in ("digest_subscriptions", "deliveries", "project_standings"):
                writes.append(table)

    with services.sessions.begin() as session:  # a week on: every prompt and the digest due
        stored.invalidate_all(session)
    event.listen(engine, "before_cursor_execute", written)
    event.listen(engine, "commit", lambda _conn: writes.append("COMMIT"))
    recorded = planning.plan(services, BUILT + timedelta(days=7))
    event.remove(engine, "before_cursor_execute", written)
    assert recorded > 12
    # the transaction that records the deliveries
    (writes,) = [t for t in " ".join(writes).split("COMMIT") if "deliveries" in t]
    writes = writes.split()
    order = ["digest_subscriptions", "deliveries", "project_standings"]
    firsts = [writes.index(table) for table in order]
    lasts = [len(writes) - 1 - writes[::-1].index(table) for table in order]
    assert lasts[0] < firsts[1] and lasts[1] < firsts[2], writes
