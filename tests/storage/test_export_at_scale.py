"""`/pmo export` over a generated portfolio, on both backends: the file read from the read model
(each project's standing), the open risks and blockers counted by the database and the reports
read by id is, byte for byte, the one built the slow way from every record (each project's
latest report ranked among all its reports, every open risk and blocker read, each period's
state asked of the rule itself), for every filter and audience; and it costs the same SQL
statements whatever the size of the portfolio."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bot.access.audience import channel_audience, visible_projects
from bot.cli.sample import Sample, build_sample
from bot.config import load_settings
from bot.periods.state import period_statuses
from bot.portfolio.admin import spec_of
from bot.portfolio.export import (
    COLOURS,
    MISSING,
    StatusExport,
    StatusLine,
    is_dm,
    project_status,
    status_csv,
    status_names,
)
from bot.render import Renderer
from bot.services import Services
from bot.slash.dispatch import answer
from storage import decisions, items, portfolio, reports, stages, users
from storage import standings as stored
from storage.db import make_sessionmaker
from storage.records import (
    Blocker,
    DecisionKind,
    ItemStatus,
    NewProject,
    NewReport,
    Project,
    RequestKind,
    RequestState,
    Risk,
    RiskSpec,
    SlackUser,
)
from tests import factories
from tests.fakes.fake_gateway import FakeGateway
from tests.storage.test_storage import count_statements

NOW = datetime(2026, 11, 27, 17, 0, tzinfo=UTC)  # Friday, after the sample's digest
UTC_ZONE = ZoneInfo("UTC")
ADMIN, OUTSIDER = "U0EXPADM01", "U0EXPOUT01"


@dataclass(frozen=True)
class Asked:
    """Who asks for the export, where."""

    actor: str
    channel: str


def _status_the_slow_way(
    session: Session, *, actor: str, admins: Collection[str], channel: str, wanted: str
) -> StatusExport:
    """`project_status` as it was computed before it read the read model: every visible
    project's latest report ranked among all its reports, every open risk and blocker read
    whole, and each period's state asked of the rule (bot.periods.state), not of a standing."""
    audience = channel_audience(
        session, actor=actor, admins=admins, channel=None if is_dm(channel) else channel
    )
    visible = visible_projects(session, audience.privately)
    shown = [p for p in visible if audience.sees(p)]
    ids = [p.id for p in shown]
    latest = reports.latest_reports(session, ids, per_project=1)
    risks = items.open_risks(session, ids)
    blockers = items.open_blockers(session, ids)
    statuses = period_statuses(session, shown, at=NOW, default=UTC_ZONE)
    lines = [
        StatusLine(
            project=p,
            report=latest[p.id][0] if latest[p.id] else None,
            missing=statuses[p.id].is_missing,
            open_risks=len(risks[p.id]),
            top_risk_score=max((r.score for r in risks[p.id]), default=None),
            open_blockers=len(blockers[p.id]),
        )
        for p in shown
    ]
    folded = wanted.strip().casefold()

    def kept(line: StatusLine) -> bool:
        project = line.project
        if folded == MISSING:
            return line.missing
        if folded in COLOURS:
            return line.report is not None and line.report.overall.value == folded
        return (project.portfolio or "").casefold() == folded or any(
            t.casefold() == folded for t in project.tags
        )

    return StatusExport(
        lines=tuple(line for line in lines if not folded or kept(line)),
        withheld=len(visible) - len(shown),
        portfolios=tuple(sorted({p.portfolio for p in shown if p.portfolio}, key=str.casefold)),
        tags=tuple(sorted({t for p in shown for t in p.tags}, key=str.casefold)),
    )


def _both_ways(
    engine: Engine, asked: Asked, wanted: str
) -> tuple[StatusExport, bytes, StatusExport, bytes]:
    """The export and its CSV as `/pmo export` reads them, then as the slow way does."""
    sessions = make_sessionmaker(engine)
    with sessions.begin() as session:
        fast = project_status(
            session,
            actor=asked.actor,
            admins={ADMIN},
            channel=asked.channel,
            wanted=wanted,
            now=NOW,
            default_tz=UTC_ZONE,
        )
        fast_csv = status_csv(fast.lines, status_names(session, fast.lines))
    with sessions.begin() as session:
        slow = _status_the_slow_way(
            session, actor=asked.actor, admins={ADMIN}, channel=asked.channel, wanted=wanted
        )
        slow_csv = status_csv(slow.lines, status_names(session, slow.lines))
    return fast, fast_csv, slow, slow_csv


@pytest.fixture
def sample(engine: Engine) -> Iterator[Sample]:
    """The demo's portfolio of 300 projects with four weeks of history, where the busiest PM's
    projects and every 23rd are confidential (the generator draws few at this size)."""
    with make_sessionmaker(engine).begin() as session:
        built = build_sample(session, projects=300, weeks=4, now=NOW, default_tz=UTC_ZONE)
        projects = portfolio.list_projects(session)
        busiest = Counter(p.pm for p in projects).most_common(1)[0][0]
        secret = [p for n, p in enumerate(projects) if p.pm == busiest or n % 23 == 5]
        portfolio.upsert_projects(
            session, [replace(spec_of(p), confidential=True) for p in secret], now=NOW
        )
    yield built


def _filters(projects: list[Project]) -> list[str]:
    """Every kind of filter: none, colours, missing, the commonest tag and portfolio (in
    another case than stored), one matching nothing."""
    tag = Counter(t for p in projects for t in p.tags).most_common(1)[0][0]
    group = Counter(p.portfolio for p in projects if p.portfolio).most_common(1)[0][0]
    return ["", "red", "Amber", "green", "missing", tag.upper(), group.lower(), "nowhere"]


def _ahead_and_unheld(engine: Engine) -> None:
    """What the read model alone does not answer: reports stored ahead of now (one exactly at
    now), which the export shows as the latest whatever their period; and standings that no
    longer hold (a report arriving, a risk opened), recomputed as they are read."""
    with make_sessionmaker(engine).begin() as session:
        projects = portfolio.list_projects(session)
        first, second, third, fourth = projects[3], projects[7], projects[11], projects[13]
        reports.add_reports(
            session,
            [
                NewReport(factories.draft("red"), first.id, NOW + timedelta(days=2), first.pm, NOW),
                NewReport(factories.draft("amber"), second.id, NOW, second.pm, NOW),
                NewReport(factories.draft("green"), third.id, NOW - timedelta(hours=1), "U0X", NOW),
            ],
        )
        items.save_risks(
            session, fourth.id, [RiskSpec("Late vendor", 5, 5)], period_start=NOW, now=NOW
        )
        stored.invalidate(session, [p.id for p in projects[20:40]])


def _keys(found: StatusExport) -> list[str]:
    return [line.project.key for line in found.lines]


def test_the_export_is_the_one_built_from_every_record(engine: Engine, sample: Sample) -> None:
    with make_sessionmaker(engine).begin() as session:
        projects = portfolio.list_projects(session)
    pm = Counter(p.pm for p in projects if p.confidential).most_common(1)[0][0]
    askers = [
        Asked(ADMIN, "D0ADMIN001"),  # every project
        Asked(pm, "C0GENERAL1"),  # their confidential projects withheld from a channel
        Asked(OUTSIDER, sample.subscription.channel),  # the leadership channel's
    ]
    seen: Counter[str] = Counter()
    for round_ in ("cold", "warm", "after writes"):
        if round_ == "after writes":
            _ahead_and_unheld(engine)
        for asked in askers:
            for wanted in _filters(projects):
                fast, fast_csv, slow, slow_csv = _both_ways(engine, asked, wanted)
                where = (round_, asked, wanted)
                assert _keys(fast) == _keys(slow), where
                assert [
                    a.project.key for a, b in zip(fast.lines, slow.lines, strict=True) if a != b
                ] == []
                assert fast == slow, where  # the withheld, the portfolios and tags too
                assert fast_csv == slow_csv, where
                seen[wanted.casefold() if wanted in ("", "red", "missing") else "other"] += len(
                    fast.lines
                )
                seen["withheld"] += fast.withheld
    # what the comparison stands on: every filter kept projects, and so did the audiences
    assert all(seen[k] for k in ("", "red", "missing", "other", "withheld")), seen
    with make_sessionmaker(engine).begin() as session:
        every = _status_the_slow_way(session, actor=ADMIN, admins={ADMIN}, channel="D0", wanted="")
    assert any(line.open_blockers for line in every.lines)
    assert len({line.top_risk_score for line in every.lines}) > 3
    assert len({line.report.period_start for line in every.lines if line.report}) > 3


# --- SQL statements whatever the size ------------------------------------------------------


def _grow(engine: Engine, first: int, count: int) -> None:
    """`count` more projects X0000..., in portfolios Ops and Lab, every tenth confidential,
    most with a report (red, amber or green in turn, this week's or last week's), an open and
    a closed risk, an open blocker every other one, the PMs' names known; every third with a
    gate approved with a condition and the baseline it recorded (issue 17's records)."""
    specs = [
        factories.project_spec(
            f"X{i:04d}",
            pm=f"U0XPM{i:05d}",
            portfolio="Ops" if i % 2 else "Lab",
            confidential=i % 10 == 9,
        )
        for i in range(first, first + count)
    ]
    with make_sessionmaker(engine).begin() as session:
        ids = portfolio.add_projects(session, [NewProject(s, NOW, NOW) for s in specs])
        batch, risks, blockers = [], [], []
        for i, spec in enumerate(specs, start=first):
            pid = ids[spec.key]
            if i % 5 != 4:
                start = NOW - timedelta(days=1 if i % 3 else 8)
                rating = ("red", "amber", "green")[i % 3]
                batch.append(NewReport(factories.draft(rating), pid, start, spec.pm, NOW))
            for n, status in enumerate((ItemStatus.OPEN, ItemStatus.CLOSED)):
                risks.append(
                    Risk(
                        title=f"Risk {spec.key}/{n}",
                        probability=1 + i % 5,
                        impact=3,
                        status=status,
                        project_id=pid,
                        opened_period=NOW - timedelta(days=1),
                        opened_at=NOW - timedelta(days=1),
                        updated_at=NOW - timedelta(days=1),
                    )
                )
            if i % 2:
                blockers.append(
                    Blocker(
                        title=f"Blocker {spec.key}",
                        project_id=pid,
                        raised_period=NOW - timedelta(days=1),
                        raised_at=NOW - timedelta(days=1),
                        updated_at=NOW - timedelta(days=1),
                    )
                )
            if i % 3 == 0:
                _gate_passed(session, pid, spec.pm)
        reports.add_reports(session, batch)
        items.add_risks(session, risks)
        items.add_blockers(session, blockers)
        users.save_users(
            session, [SlackUser(s.pm, "UTC", None, f"Person {s.key}", None, NOW) for s in specs]
        )


def _gate_passed(session: Session, project_id: int, pm: str) -> None:
    """A gate asked by the PM, approved with a condition, and the baseline it recorded."""
    asked = stages.add_request(
        session,
        project_id=project_id,
        kind=RequestKind.GATE,
        requested_by=pm,
        at=NOW - timedelta(days=3),
        from_phase="planning",
        to_phase="execution",
    )
    decision = decisions.record_decided(
        session,
        project_id=project_id,
        kind=DecisionKind.GATE,
        question="planning → execution",
        outcome="approved_with_conditions",
        rationale=None,
        by=ADMIN,
        at=NOW - timedelta(days=2),
    )
    stages.settle(
        session,
        asked.id,
        state=RequestState.DECIDED,
        at=NOW - timedelta(days=2),
        outcome="approved_with_conditions",
        by=ADMIN,
        decision_id=decision.id,
    )
    decisions.add_actions(session, decision, [("Review risks", pm, NOW.date())], now=NOW)
    stages.add_baseline(
        session,
        project_id=project_id,
        budget=None,
        end=None,
        milestones=[],
        source="gate",
        by=ADMIN,
        at=NOW - timedelta(days=2),
        request_id=asked.id,
    )


WORDS = ("export", "export red", "export missing", "export ops")


def _statements(engine: Engine, words: str) -> int:
    gateway = FakeGateway()
    gateway.add_user(ADMIN, tz="UTC", locale="en-GB")
    settings = load_settings({"PMO_ADMINS": ADMIN, "PMO_TIMEZONE": "UTC"})
    services = Services(settings, make_sessionmaker(engine), gateway, Renderer(), lambda: NOW)

    def ask() -> None:
        result = answer(services, user_id=ADMIN, text=words, channel_id="C0ASKED")
        assert isinstance(result, dict), result
        assert "Exported" in result["text"] or "steering pack" in result["text"], result

    ask()  # the standings the answer reads are computed and stored; the profile cached
    with count_statements(engine) as statements:
        ask()
    return len(statements)


def test_the_export_costs_the_same_statements_whatever_the_size(engine: Engine) -> None:
    _grow(engine, 0, 12)
    small = {words: _statements(engine, words) for words in WORDS}
    _grow(engine, 12, 400)
    large = {words: _statements(engine, words) for words in WORDS}
    assert large == small
    # the asker's cached profile; the admins; whether to tell the asker first (the projects'
    # version, the channel's subscription); then the file's own: the projects' version and
    # the subscription again, the standings that hold, the reports stored ahead of now, the
    # latest reports by id, the open risks and the open blockers counted, the names
    assert small == dict.fromkeys(WORDS, 12)


PACKS = ("export xlsx", "export xlsx ops", "export xlsx red")


def test_the_steering_pack_costs_the_same_statements_whatever_the_size(engine: Engine) -> None:
    _grow(engine, 0, 12)
    small = {words: _statements(engine, words) for words in PACKS}
    _grow(engine, 12, 400)
    large = {words: _statements(engine, words) for words in PACKS}
    assert large == small
    # the status export's choice of projects (above, less the names: 11), then the pack's
    # own (bot.steering.pack.steering_pack): the money settings, the ranking's criteria and
    # capacity, the latest reports, the last reports' ratings, the PMs' zones, the open risks,
    # the open blockers, the milestones, the capacity sheet's projects, people and calendar,
    # the delivery process, the gates and change requests, the baselines, the decisions of
    # those decided and their conditions, and the names
    assert small == dict.fromkeys(PACKS, 28)  # 11 + 17
