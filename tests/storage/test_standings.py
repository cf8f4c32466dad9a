"""The read model (bot/overview/standings.py) is a cache of the one rule: after every kind of
write it rests on, and as time passes, what it serves equals what the rule computes from
scratch, on SQLite and PostgreSQL.

Each check reads the standings once (recomputing and storing those that do not hold), then
asserts that every stored one now holds (so the comparison that follows is served from the
cache, not recomputed), and compares the statuses served with `period_statuses` (the rule), the
ratings and reasons for attention with the digest's, and the App Home's counts with the
digest's. Time only moves forward, as in production."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.cli.sample import build_sample
from bot.digest.flags import FlagCode
from bot.digest.load import build_digest
from bot.digest.model import Attention
from bot.home.view import _ORDER as HOME_ORDER
from bot.home.view import HomeProject, missing_rows, portfolio_summary
from bot.lookup.status import status_view
from bot.overview import standings as overview
from bot.periods.state import PeriodState, period_statuses
from bot.portfolio.importing import import_portfolio
from storage import deliveries, items, portfolio, reports, stages, users
from storage import standings as stored
from storage.db import make_engine, make_sessionmaker
from storage.deliveries import Claim
from storage.records import (
    ChangeKind,
    DeliveryKind,
    Gate,
    ItemStatus,
    Process,
    ProjectState,
    RequestKind,
    RequestState,
    RiskSpec,
    SkipReason,
    SlackUser,
    Subscription,
    WorkingHours,
)
from tests import factories

PARIS = ZoneInfo("Europe/Paris")
START = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)  # a Friday afternoon, reports in
SHOWN = 3  # missing reports the admins' list shows here: fewer than are missing


class Clock:
    """The scenario's time: only moves forward."""

    def __init__(self) -> None:
        self.now = START

    def advance(self, delta: timedelta) -> datetime:
        self.now += delta
        return self.now


@pytest.fixture
def sessions(engine: Engine) -> Iterator[sessionmaker[Session]]:
    made = make_sessionmaker(engine)
    with made.begin() as session:
        build_sample(session, projects=24, weeks=5, now=START, default_tz=PARIS)
    yield made


def check(sessions: sessionmaker[Session], at: datetime) -> None:
    """The cache served at `at` equals the rule (see the module's docstring)."""
    with sessions.begin() as session:
        projects = portfolio.list_projects(session)
        first = overview.statuses(session, projects, at=at, default=PARIS)
    with sessions.begin() as session:
        rows = stored.find_standings(session, [p.id for p in projects])
        lapsed = [
            p.key for p in projects if not overview.holds(rows.get(p.id), at=at, default=PARIS)
        ]
        assert not lapsed, f"not served from the cache at {at}: {lapsed}"
        served = overview.statuses(session, projects, at=at, default=PARIS)
        rule = period_statuses(session, projects, at=at, default=PARIS)
        everything = Subscription(id=0, channel="home", keys=tuple(p.key for p in projects))
        digest = build_digest(session, everything, at=at, default_tz=PARIS, chart=False)
        held = overview.held_periods(session, at=at, default=PARIS)
        from_held = build_digest(
            session, everything, at=at, default_tz=PARIS, chart=False, periods=held
        )
        summary = portfolio_summary(session, projects, now=at, default_tz=PARIS)
        active = [p for p in projects if p.state is ProjectState.ACTIVE]
        missing = missing_rows(session, active, default_tz=PARIS, limit=SHOWN)
    wrong = {
        p.key: f"cached {served[p.id].state}, rule {rule[p.id].state}"
        for p in projects
        if served[p.id] != rule[p.id]
    }
    assert not wrong, f"the cache differs from the rule at {at}: {wrong}"
    assert first == rule
    # Every standing holds: the digest of a tick reads their periods instead of computing them.
    assert held == {p.id: rule[p.id].period for p in projects}
    assert from_held == digest
    rated = {p.id: rows[p.id].rating for p in projects if rows[p.id].rating}
    current = {pid: s.current_report for pid, s in rule.items()}
    assert rated == {pid: r.overall.value for pid, r in current.items() if r is not None}
    asking = {p.key: rows[p.id].attention for p in projects if rows[p.id].attention}
    assert asking == {
        line.project.key: line.attention.value for line in digest.attention if line.attention
    }
    assert summary is not None
    assert summary.counts == digest.counts
    assert summary.attention == digest.attention_list
    # The admins' missing reports, sorted and counted by the database, are the rule's.
    expected = sorted(
        (
            HomeProject(p, None, rule[p.id].state, rule[p.id].period.first_day)
            for p in active
            if rule[p.id].is_missing and rule[p.id].period is not None
        ),
        key=lambda row: (HOME_ORDER.index(row.state), row.project.priority or 6, row.project.key),
    )
    assert missing.shown == tuple(expected[:SHOWN])
    assert missing.more == max(0, len(expected) - SHOWN)
    # Viewers who see part of the portfolio: most of it (the others' ids left out of the
    # counts), or a third (only theirs counted).
    for part in (projects[2:], projects[::3]):
        with sessions.begin() as session:
            keys = tuple(p.key for p in part)
            theirs = Subscription(id=0, channel="home", keys=keys)
            digest = build_digest(session, theirs, at=at, default_tz=PARIS, chart=False)
            summary = portfolio_summary(session, part, now=at, default_tz=PARIS)
        assert summary is not None
        assert (summary.counts, summary.attention) == (digest.counts, digest.attention_list)


def period_of(sessions: sessionmaker[Session], key: str, at: datetime) -> tuple[int, datetime]:
    with sessions.begin() as session:
        project = portfolio.find_project(session, key)
        assert project is not None
        status = period_statuses(session, [project], at=at, default=PARIS)[project.id]
    assert status.period is not None, key
    return project.id, status.period.start


def active_keys(sessions: sessionmaker[Session], at: datetime, state: PeriodState) -> list[str]:
    with sessions.begin() as session:
        projects = portfolio.list_projects(session, states=[ProjectState.ACTIVE])
        found = period_statuses(session, projects, at=at, default=PARIS)
    return [p.key for p in projects if found[p.id].state is state]


def test_the_read_model_equals_the_rule_after_every_kind_of_write(
    sessions: sessionmaker[Session],
) -> None:
    clock = Clock()
    check(sessions, clock.now)
    check(sessions, clock.advance(timedelta(hours=3)))  # time alone, served from the cache

    # A report, and a "No change" copy of one.
    missing = active_keys(sessions, clock.now, PeriodState.NOT_ASKED) + active_keys(
        sessions, clock.now, PeriodState.LATE
    )
    assert len(missing) >= 3, missing
    pid, start = period_of(sessions, missing[0], clock.now)
    with sessions.begin() as session:
        reports.save_report(
            session,
            factories.draft("red", help_needed="Steering decision on scope"),
            project_id=pid,
            period_start=start,
            submitted_by="U0PM",
            submitted_at=clock.now,
        )
    with sessions.begin() as session:  # the write let its standing go: no period is read from it
        held = overview.held_periods(session, at=clock.now, default=PARIS)
        assert pid not in held and len(held) == len(portfolio.list_projects(session)) - 1
        assert not overview.held_periods(session, at=clock.now - timedelta(days=1), default=PARIS)
    check(sessions, clock.advance(timedelta(minutes=5)))
    pid, start = period_of(sessions, missing[1], clock.now)
    with sessions.begin() as session:
        before = reports.latest_reports(session, [pid], per_project=1)[pid]
        source = before[0] if before else None
        reports.save_report(
            session,
            factories.draft("amber"),
            project_id=pid,
            period_start=start,
            submitted_by="U0PM",
            submitted_at=clock.now,
            copied_from_id=source.id if source else None,
        )
    check(sessions, clock.advance(timedelta(minutes=5)))

    # A skip.
    pid, start = period_of(sessions, missing[2], clock.now)
    with sessions.begin() as session:
        reports.save_skip(
            session,
            project_id=pid,
            period_start=start,
            reason=SkipReason.ON_LEAVE,
            note=None,
            skipped_by="U0PM",
            skipped_at=clock.now,
        )
    check(sessions, clock.advance(timedelta(minutes=5)))

    # A risk scored 20 on a project rated green: a consistency flag.
    green = next(k for k in active_keys(sessions, clock.now, PeriodState.DONE))
    with sessions.begin() as session:
        project = portfolio.find_project(session, green)
        assert project is not None
        items.save_risks(
            session,
            project.id,
            [RiskSpec("Vendor insolvency", 4, 5, status=ItemStatus.OPEN)],
            period_start=clock.now,
            now=clock.now,
        )
    check(sessions, clock.advance(timedelta(minutes=5)))

    # An admin edit (the cadence), a project put on hold, one closed.
    with sessions.begin() as session:
        projects = portfolio.list_projects(session, states=[ProjectState.ACTIVE])
        edited, held, closed = projects[3], projects[4], projects[5]
        portfolio.upsert_projects(
            session,
            [
                factories.project_spec(
                    edited.key, **_spec(edited) | {"cadence": "FREQ=DAILY;BYHOUR=9"}
                ),
                factories.project_spec(held.key, **_spec(held) | {"state": ProjectState.ON_HOLD}),
                factories.project_spec(
                    closed.key, **_spec(closed) | {"state": ProjectState.CLOSED}
                ),
            ],
            now=clock.now,
        )
    check(sessions, clock.advance(timedelta(minutes=5)))

    # A PM's timezone changes (their profile is refreshed).
    with sessions.begin() as session:
        pm = portfolio.list_projects(session, states=[ProjectState.ACTIVE])[6].pm
        users.save_users(
            session, [SlackUser(pm, "Asia/Tokyo", "en-US", "Moved PM", None, clock.now)]
        )
    check(sessions, clock.advance(timedelta(minutes=5)))

    # Holidays and working hours (an import that only changes those), then a whole import.
    with sessions.begin() as session:
        portfolio.replace_holidays(session, [clock.now.date() + timedelta(days=3)])
        portfolio.replace_working_hours(
            session, WorkingHours(frozenset(range(5)), time(8, 0), time(17, 0))
        )
    check(sessions, clock.advance(timedelta(minutes=5)))
    with sessions.begin() as session:
        import_portfolio(
            session,
            "projects:\n  - key: NEWONE\n    name: A new project\n    pm: U0NEWPM\n"
            "    cadence: FREQ=WEEKLY;BYDAY=MO;BYHOUR=9\n",
            now=clock.now,
        )
    check(sessions, clock.advance(timedelta(minutes=5)))

    # The next period: prompts recorded, some sent, then the reminders' time.
    monday = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    check(sessions, clock.advance(monday - clock.now))
    due = active_keys(sessions, clock.now, PeriodState.NOT_ASKED)
    assert due
    with sessions.begin() as session:
        claims = []
        for key in due:
            project = portfolio.find_project(session, key)
            assert project is not None
            _, start = period_of(sessions, key, clock.now)
            claims.append(
                Claim(
                    DeliveryKind.PROMPT,
                    f"project:{project.id}",
                    start,
                    project.id,
                    None,
                    {"tz": "Europe/Paris"},
                )
            )
        created = deliveries.enqueue(session, claims, now=clock.now)
    check(sessions, clock.advance(timedelta(minutes=1)))
    with sessions.begin() as session:
        for delivery_id in created[: len(created) // 2 + 1]:
            deliveries.mark_sent(session, delivery_id, channel="D0PM", ts="1.1", now=clock.now)
    check(sessions, clock.advance(timedelta(minutes=1)))
    check(sessions, clock.advance(timedelta(hours=30)))  # due becomes late
    check(sessions, clock.advance(timedelta(days=10)))  # later periods, end dates passed


def _spec(project: object) -> dict[str, object]:
    fields = factories.project_spec("X").__dataclass_fields__
    return {name: getattr(project, name) for name in fields if name != "key"}


def test_a_write_invalidates_in_its_own_transaction_and_a_late_store_does_not_undo_it(
    sessions: sessionmaker[Session],
) -> None:
    """A reader that computed a standing before a write committed does not store it over the
    write's invalidation (compare-and-set on the generation it read first)."""
    with sessions.begin() as session:
        projects = portfolio.list_projects(session)
        overview.standings(session, projects, at=START, default=PARIS)
        target = projects[0]
        seen = stored.find_standings(session, [target.id])[target.id]
    with sessions() as reader:  # the reader computes from what it reads
        computed = overview.compute(
            reader, [target], at=START, default=PARIS, generations={target.id: seen.generation}
        )[target.id]
    with sessions.begin() as session:
        stored.invalidate(session, [target.id])  # a write lands meanwhile
    with sessions.begin() as session:
        stored.store_standings(session, [computed.standing])  # the reader, late
        after = stored.find_standings(session, [target.id])[target.id]
    assert after.valid_until is None and after.generation == seen.generation + 1
    assert not overview.holds(after, at=START, default=PARIS)


def test_the_tick_refreshes_only_what_is_due(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        projects = portfolio.list_projects(session)
        overview.standings(session, projects, at=START, default=PARIS)
        assert overview.refresh_expired(session, at=START, default=PARIS) == 0
        stored.invalidate(session, [projects[0].id, projects[1].id])
        assert overview.refresh_expired(session, at=START, default=PARIS) == 2
        assert overview.refresh_expired(session, at=START, default=PARIS) == 0
        rows = stored.find_standings(session, [p.id for p in projects])
        soonest = min(r.valid_until for r in rows.values() if r.valid_until)
        due = sum(1 for r in rows.values() if r.valid_until and r.valid_until <= soonest)
        assert overview.refresh_expired(session, at=soonest, default=PARIS) == due


def test_a_standing_read_in_another_default_zone_is_recomputed(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        projects = portfolio.list_projects(session)
        overview.standings(session, projects, at=START, default=PARIS)
        rows = stored.find_standings(session, [p.id for p in projects])
    assert all(overview.holds(r, at=START, default=PARIS) for r in rows.values())
    assert not any(overview.holds(r, at=START, default=ZoneInfo("UTC")) for r in rows.values())
    assert not any(
        overview.holds(r, at=START - timedelta(seconds=1), default=PARIS) for r in rows.values()
    )


def test_a_process_copy_of_the_projects_lapses_with_any_write_even_another_replicas(
    engine: Engine,
) -> None:
    """storage.portfolio.list_projects keeps a copy per engine while the projects' version
    token holds: a write through another engine (another replica) or a rolled-back one is
    seen at once."""
    other = make_engine(engine.url.render_as_string(hide_password=False))  # another replica
    ours, theirs = make_sessionmaker(engine), make_sessionmaker(other)
    with ours.begin() as session:
        portfolio.upsert_projects(session, [factories.project_spec("ATLAS")], now=START)
    with ours.begin() as session:
        assert [p.name for p in portfolio.list_projects(session)] == ["Atlas project"]
    with theirs.begin() as session:
        portfolio.upsert_projects(
            session, [factories.project_spec("ATLAS", name="Renamed")], now=START
        )
    with ours.begin() as session:
        assert [p.name for p in portfolio.list_projects(session)] == ["Renamed"]
    with ours() as session:  # a write rolled back: its token is never seen again
        portfolio.upsert_projects(
            session,
            [factories.project_spec("BOREAS"), factories.project_spec("ATLAS")],
            now=START,
        )
        assert [p.key for p in portfolio.list_projects(session)] == ["ATLAS", "BOREAS"]
        session.rollback()
    with ours.begin() as session:
        assert [p.key for p in portfolio.list_projects(session)] == ["ATLAS"]
        assert [p.key for p in portfolio.list_projects(session, states=[ProjectState.CLOSED])] == []
    other.dispose()


def test_standings_read_by_id_or_as_the_whole_table_are_the_same(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    with sessions.begin() as session:
        projects = portfolio.list_projects(session)
        overview.standings(session, projects, at=START, default=PARIS)
        some = [p.id for p in projects[:5]]
        by_id = stored.find_standings(session, some)
        monkeypatch.setattr(stored, "WHOLE_TABLE_AT", 2)
        whole = stored.find_standings(session, some)
    assert sorted(by_id) == sorted(some)
    assert whole == by_id
    assert all(s.valid_until is not None and s.valid_until.tzinfo for s in whole.values())


def test_a_cold_read_recomputed_in_batches_equals_the_rule(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(overview, "COMPUTE_BATCH", 5)  # 24 projects: five batches
    check(sessions, START)


def test_a_new_basis_makes_every_standing_recompute_once(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        projects = portfolio.list_projects(session)
        assert stored.ensure_basis(session, overview.basis(PARIS))  # first time: recorded
        overview.standings(session, projects, at=START, default=PARIS)
        assert not stored.ensure_basis(session, overview.basis(PARIS))
        assert overview.refresh_expired(session, at=START, default=PARIS) == 0
        assert stored.ensure_basis(session, overview.basis(ZoneInfo("Asia/Tokyo")))
        expired = stored.expired_standings(session, at=START, limit=1000)
        assert sorted(expired) == sorted(p.id for p in projects)


def test_the_home_sorts_and_counts_more_asking_than_it_shows_as_the_digest_does(
    engine: Engine,
) -> None:
    """More projects ask for attention than the summary shows: the database picks the first
    (storage.standings.attention_first) in the digest's order, and counts the others."""
    made = make_sessionmaker(engine)
    with made.begin() as session:
        build_sample(session, projects=90, weeks=3, now=START, default_tz=PARIS)
    with made.begin() as session:
        projects = portfolio.list_projects(session)
        everything = Subscription(id=0, channel="home", keys=tuple(p.key for p in projects))
        digest = build_digest(session, everything, at=START, default_tz=PARIS, chart=False)
        summary = portfolio_summary(session, projects, now=START, default_tz=PARIS)
    assert digest.attention_list.more > 0
    assert summary is not None
    assert summary.attention == digest.attention_list


def test_the_home_and_the_digest_rank_those_asking_by_score_alike(engine: Engine) -> None:
    """With criteria, each group of projects needing attention is in the ranking's order
    (mandatory first, the highest score first, the unscored last): the digest sorts by the
    stored score, the database the App Home's first by the same terms."""
    made = make_sessionmaker(engine)
    with made.begin() as session:
        build_sample(session, projects=90, weeks=3, now=START, default_tz=PARIS)
    with made.begin() as session:
        projects = portfolio.list_projects(session)
        criteria = "criteria: [{name: value, weight: 100, scale: [0, 100]}]\nprojects:\n"
        lines = [
            f"  - {{key: {p.key}, name: x, pm: {p.pm}, mandatory: {str(i % 11 == 0).lower()}"
            + (f", scores: {{value: {(i * 37) % 101}}}}}" if i % 4 else "}")
            for i, p in enumerate(projects)
        ]
        import_portfolio(session, criteria + "\n".join(lines) + "\n", now=START)
    with made.begin() as session:
        projects = portfolio.list_projects(session)
        assert sum(p.rank_score is not None for p in projects) > 50
        everything = Subscription(id=0, channel="home", keys=tuple(p.key for p in projects))
        digest = build_digest(session, everything, at=START, default_tz=PARIS, chart=False)
        summary = portfolio_summary(session, projects, now=START, default_tz=PARIS)
    assert summary is not None
    assert summary.attention == digest.attention_list
    # within a group (but asks for help, by needed-by date first), the ranking's order
    undated = [line for line in digest.attention if line.attention is not Attention.HELP]
    ranked = [
        (
            list(Attention).index(line.attention),  # type: ignore[arg-type]
            not line.project.mandatory,
            line.project.rank_score is None,
            -(line.project.rank_score or 0),
        )
        for line in undated
    ]
    assert ranked == sorted(ranked) and len({r[3] for r in ranked}) > 3


def test_the_chart_names_the_people_over_among_those_of_its_projects(engine: Engine) -> None:
    """The capacity panel names the digest's own people, however many others are over."""
    heavy = [f"U0HEAVY{i:03d}" for i in range(9)]
    light, pm = "U0LIGHT001", "U0PMXXXX01"
    people = "\n".join(f"  - {{id: {u}, fte: 1}}" for u in [*heavy, light])
    other = ", ".join(f"{{person: {u}, share: 2, from: 2026-11, to: 2027-01}}" for u in heavy)
    text = (
        f"people:\n{people}\nprojects:\n"
        f"  - {{key: OTHER, name: Other, pm: {pm}, allocations: [{other}]}}\n"
        f"  - {{key: ATLAS, name: Atlas, pm: {pm}, allocations: "
        f"[{{person: {light}, share: 1.5, from: 2026-11, to: 2027-01}}]}}\n"
    )
    made = make_sessionmaker(engine)
    with made.begin() as session:
        import_portfolio(session, text, now=START)
        users.save_users(
            session,
            [
                SlackUser(u, "Europe/Paris", "en", f"Name of {u}", None, START)
                for u in [*heavy, light]
            ],
        )
    with made.begin() as session:
        subscription = Subscription(id=0, channel="C0ATLAS", keys=("ATLAS",))
        digest = build_digest(session, subscription, at=START, default_tz=PARIS)
    assert [row.who for row in digest.overloaded] == [light]
    assert [strip.label for strip in digest.chart.loads] == [f"Name of {light}"]


def test_the_home_and_the_digest_list_those_waiting_on_a_dependency_alike(engine: Engine) -> None:
    """Projects that need attention only because a dependency is at risk come last, in the
    digest (computed when it is made) and in the App Home (read when it is opened, not
    stored in the read model): the same lines, the same count."""
    made = make_sessionmaker(engine)
    with made.begin() as session:
        build_sample(session, projects=60, weeks=3, now=START, default_tz=PARIS)
    with made.begin() as session:
        projects = portfolio.list_projects(session)
        everything = Subscription(id=0, channel="home", keys=tuple(p.key for p in projects))
        plain = build_digest(session, everything, at=START, default_tz=PARIS, chart=False)
        calm = [ln.project for ln in plain.lines if ln.report and not ln.attention]
        upstream = next(p for p in projects if p.end is not None)
        needing = [p for p in calm if p.key != upstream.key][:3]
        assert len(needing) == 3
        lines = "\n".join(
            f"  - {{key: {p.key}, name: x, pm: {p.pm}, "
            f"depends_on: [{{project: {upstream.key}, needed_by: 2000-01-03}}]}}"
            for p in needing
        )
        import_portfolio(session, f"projects:\n{lines}\n", now=START)
    with made.begin() as session:
        projects = portfolio.list_projects(session)
        digest = build_digest(session, everything, at=START, default_tz=PARIS, chart=False)
        summary = portfolio_summary(session, projects, now=START, default_tz=PARIS)
    waiting = [ln.project.key for ln in digest.attention if ln.attention is Attention.DEPENDENCY]
    assert sorted(waiting) == sorted(p.key for p in needing)
    assert digest.attention[-3:] == tuple(
        ln for ln in digest.attention if ln.attention is Attention.DEPENDENCY
    )  # last
    assert summary is not None
    assert summary.attention == digest.attention_list


def test_the_read_model_follows_the_delivery_process_and_the_requests_waiting(
    sessions: sessionmaker[Session],
) -> None:
    """With a process, a project past its planning gate without an approved one is flagged,
    and one whose gate or change request waits on its approvers more than a week needs
    attention (Attention.WAITING): as a process is set, a request asked, time passes and a
    request is decided, the read model stays the rule (and the App Home the digest)."""
    clock = Clock()
    check(sessions, clock.now)
    done = active_keys(sessions, clock.now, PeriodState.DONE)
    assert len(done) >= 4, done
    with sessions.begin() as session:
        portfolio.replace_process(session, STAGED)
        past = [portfolio.find_project(session, key) for key in done[:2]]
        portfolio.upsert_projects(
            session,
            [
                factories.project_spec(p.key, **_spec(p) | {"phase": "execution"})
                for p in past
                if p is not None
            ],
            now=clock.now,
        )
    check(sessions, clock.advance(timedelta(minutes=5)))
    with sessions.begin() as session:
        rows = stored.find_standings(session, [p.id for p in past if p is not None])
    assert {r.attention for r in rows.values()} <= {"help", "red", "exception", "worse", "flagged"}
    assert all(r.attention is not None for r in rows.values())  # at the least, flagged

    # A gate and a change asked a little under a week ago: not yet waiting too long.
    with sessions.begin() as session:
        ids = {key: _id(session, key) for key in done}
        gate = stages.add_request(
            session,
            project_id=ids[done[2]],
            kind=RequestKind.GATE,
            requested_by="U0PM",
            at=clock.now - timedelta(days=7) + timedelta(minutes=30),
            from_phase="planning",
            to_phase="execution",
        )
        stages.add_request(
            session,
            project_id=ids[done[3]],
            kind=RequestKind.CHANGE,
            requested_by="U0PM",
            at=clock.now - timedelta(days=7) + timedelta(minutes=50),
            changes=(ChangeKind.COST,),
        )
    check(sessions, clock.advance(timedelta(minutes=1)))
    assert _attention(sessions, done[2]) != Attention.WAITING.value
    check(sessions, clock.advance(timedelta(minutes=40)))  # time alone: the gate's week is out
    assert _attention(sessions, done[2]) == Attention.WAITING.value
    check(sessions, clock.advance(timedelta(minutes=20)))  # and the change's
    assert _attention(sessions, done[3]) == Attention.WAITING.value

    # Decided: it waits no more.
    with sessions.begin() as session:
        assert stages.settle(
            session, gate.id, state=RequestState.DECIDED, at=clock.now, outcome="rejected", by="U0X"
        )
    check(sessions, clock.advance(timedelta(minutes=1)))
    assert _attention(sessions, done[2]) != Attention.WAITING.value

    # The process removed: nothing of it counts any more.
    with sessions.begin() as session:
        portfolio.replace_process(session, Process())
    check(sessions, clock.advance(timedelta(minutes=1)))
    assert _attention(sessions, done[3]) != Attention.WAITING.value


def test_the_read_model_asks_for_attention_whatever_the_projects_report(
    sessions: sessionmaker[Session],
) -> None:
    """A gate waiting on its approvers more than a week, and the "no approved plan" flag, need
    attention whatever the project's report: not started, skipped, on hold, missing. The read
    model stays the rule (and the App Home the digest) as gates are asked, time passes, a gate
    is decided and a plan approved."""
    clock = Clock()
    missing = active_keys(sessions, clock.now, PeriodState.NOT_ASKED) + active_keys(
        sessions, clock.now, PeriodState.LATE
    )
    assert len(missing) >= 3, missing
    skipped, silent, planless = missing[:3]
    held = active_keys(sessions, clock.now, PeriodState.DONE)[0]  # its report set aside
    _, start = period_of(sessions, skipped, clock.now)
    with sessions.begin() as session:
        portfolio.replace_process(session, STAGED)
        ids = {key: _id(session, key) for key in (skipped, silent, held, planless)}
        reports.save_skip(
            session,
            project_id=ids[skipped],
            period_start=start,
            reason=SkipReason.ON_LEAVE,
            note=None,
            skipped_by="U0PM",
            skipped_at=clock.now,
        )
        found = {key: portfolio.find_project(session, key) for key in (held, planless)}
        portfolio.upsert_projects(
            session,
            [
                factories.project_spec("LATER", start=date(2027, 1, 4), phase="planning"),
                factories.project_spec(
                    held, **_spec(found[held]) | {"state": ProjectState.ON_HOLD}
                ),
                factories.project_spec(planless, **_spec(found[planless]) | {"phase": "execution"}),
            ],
            now=clock.now,
        )
        ids["LATER"] = _id(session, "LATER")
        gates = {
            key: stages.add_request(
                session,
                project_id=ids[key],
                kind=RequestKind.GATE,
                requested_by="U0PM",
                # LATER's a little under a week ago: it waits too long from 30 minutes on
                at=clock.now - timedelta(days=7 if key == "LATER" else 8) + timedelta(minutes=30),
                from_phase="planning",
                to_phase="execution",
            )
            for key in (skipped, silent, held, "LATER")
        }
    check(sessions, clock.advance(timedelta(minutes=5)))
    assert {key: _attention(sessions, key) for key in (skipped, silent, held, planless)} == {
        skipped: Attention.WAITING.value,
        silent: Attention.WAITING.value,
        held: Attention.WAITING.value,
        planless: Attention.FLAGGED.value,
    }
    assert _attention(sessions, "LATER") is None
    assert _plan_said(sessions, planless, clock.now)  # `/pmo status` says it too
    check(sessions, clock.advance(timedelta(minutes=40)))  # time alone: LATER's week is out
    assert _attention(sessions, "LATER") == Attention.WAITING.value

    # The gate of the one on hold decided, the plan of the other approved: nothing asks.
    with sessions.begin() as session:
        assert stages.settle(
            session,
            gates[held].id,
            state=RequestState.DECIDED,
            at=clock.now,
            outcome="rejected",
            by="U0X",
        )
        plan = stages.add_request(
            session,
            project_id=ids[planless],
            kind=RequestKind.GATE,
            requested_by="U0PM",
            at=clock.now - timedelta(days=1),
            from_phase="planning",
            to_phase="execution",
        )
        assert stages.settle(
            session, plan.id, state=RequestState.DECIDED, at=clock.now, outcome="approved", by="U0X"
        )
    check(sessions, clock.advance(timedelta(minutes=1)))
    assert _attention(sessions, held) is None and _attention(sessions, planless) is None
    assert not _plan_said(sessions, planless, clock.now)


def _plan_said(sessions: sessionmaker[Session], key: str, at: datetime) -> bool:
    """Whether `/pmo status` of the project says "no approved plan", and its line in a digest
    too (the one rule, whatever its report)."""
    with sessions.begin() as session:
        project = portfolio.find_project(session, key)
        assert project is not None
        view = status_view(session, project, now=at, default_tz=PARIS)
        assert view.state is not PeriodState.DONE  # no report this period
        theirs = Subscription(id=0, channel="home", keys=(key,))
        (line,) = build_digest(session, theirs, at=at, default_tz=PARIS, chart=False).lines
    flagged = FlagCode.NO_APPROVED_PLAN in {f.code for f in line.flags}
    assert (view.plan is not None) == flagged
    return flagged


STAGED = Process(
    ("initiation", "planning", "execution", "closing"),
    (Gate("planning", "execution", approvers=("sponsor", "admins")),),
)


def _id(session: Session, key: str) -> int:
    project = portfolio.find_project(session, key)
    assert project is not None
    return project.id


def _attention(sessions: sessionmaker[Session], key: str) -> str | None:
    with sessions.begin() as session:
        pid = _id(session, key)
        return stored.find_standings(session, [pid])[pid].attention
