"""Loading what a digest needs in a fixed number of statements, whatever the portfolio size."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.access.audience import selects
from bot.capacity.load import DIGEST_MONTHS, PortfolioLoad, plan_today, portfolio_load
from bot.coordination.dependencies import DependencyState
from bot.coordination.facts import portfolio_dependencies
from bot.digest.chart import MAX_LOAD_ROWS
from bot.digest.compose import (
    chart_moments,
    chart_points,
    charted,
    compose_digest,
    overloaded_in,
)
from bot.digest.flags import HISTORY_NEEDED
from bot.digest.lines import chain_may_go_on, marks_kept
from bot.digest.model import Digest, Governance, PreviousDigest
from bot.digest.selection import digest_zone
from bot.digest.summary import read_summary
from bot.periods import cadence
from bot.periods.state import CurrentPeriod, periods_of
from bot.slack.people import person_zone
from bot.slack.user_ids import is_user_id
from storage import decisions, deliveries, items, portfolio, reports, stages, users
from storage.records import (
    OPEN_STATES,
    Action,
    ActionState,
    Calendar,
    CapacityPulse,
    DeliveryKind,
    Project,
    ProjectState,
    Report,
    ReportMark,
    StageRequest,
    Subscription,
)

MAX_HISTORY = 64  # reports loaded per project, at most (a daily cadence under a monthly digest)
WHOLE = 2  # reports read whole per project: the current one and the one before it


def history_window(
    subscription: Subscription,
    projects: Sequence[Project],
    zones: Mapping[str, ZoneInfo],
    *,
    at: datetime,
    default_tz: ZoneInfo,
) -> int:
    """How many reports per project a digest needs: enough for the flags' streaks, and to
    reach back to the chart's oldest moment (counted per cadence and zone, two spare for
    reports a timezone change put off the grid, and one for where a project's own start puts
    the periods of a rule that skips some: the count in a window moves by one at most), at
    most MAX_HISTORY. Per cadence and zone, not per project: a few counts, whatever the size."""
    tz = digest_zone(subscription, default_tz)
    oldest = chart_moments(subscription, tz, at=at)[0]
    needed = HISTORY_NEEDED
    done: set[tuple[str, ZoneInfo]] = set()
    for project in projects:
        key = (project.cadence, zones.get(project.pm, default_tz))
        if key in done:
            continue
        done.add(key)
        periods = cadence.occurrences(key[0], key[1], start=oldest, end=at)
        needed = max(needed, len(periods) + 3)
    return min(needed, MAX_HISTORY)


def lines_marks(
    session: Session, project_ids: Sequence[int], *, at: datetime, depth: int
) -> dict[int, Sequence[ReportMark]]:
    """What marks_kept keeps of each project's `depth` newest marks before `at`, read in two
    statements rather than all of them: the flags' HISTORY_NEEDED first, then as deep as
    `depth` only for the projects whose "No change" chain reaches the last of those (the
    chain, which `unchanged_since` names, may go on). Most chains end at once: a tenth of the
    marks, at 5,000 projects and a weekly digest's depth."""
    marks = reports.report_marks(
        session, project_ids, before=at, per_project=min(depth, HISTORY_NEEDED)
    )
    if depth <= HISTORY_NEEDED:
        return {pid: marks_kept(found) for pid, found in marks.items()}
    longer = [pid for pid, found in marks.items() if chain_may_go_on(found, HISTORY_NEEDED)]
    found_deeper = reports.report_marks(session, longer, before=at, per_project=depth)
    return {pid: marks_kept(found_deeper.get(pid, found)) for pid, found in marks.items()}


def whole_reports(
    session: Session, marks: Mapping[int, Sequence[ReportMark]]
) -> dict[int, list[Report]]:
    """Each project's reports read whole, newest first, of its marks (newest first): the
    current one and the one before it, in one statement, by id. (A report deleted by another
    transaction since its mark was read is left out.)"""
    whole = reports.find_reports(session, [m.id for found in marks.values() for m in found[:WHOLE]])
    return {
        pid: [whole[m.id] for m in found[:WHOLE] if m.id in whole] for pid, found in marks.items()
    }


def build_digest(
    session: Session,
    subscription: Subscription,
    *,
    at: datetime,
    default_tz: ZoneInfo,
    previous: Mapping[str, Any] | None = None,
    chart: bool = True,
    projects: Sequence[Project] | None = None,
    deep: bool | None = None,
    periods: Mapping[int, CurrentPeriod | None] | None = None,
    dependencies: Sequence[DependencyState] | None = None,
) -> Digest:
    """Load what a digest needs in a fixed number of statements (projects, open risks, open
    blockers, milestones, the people it names, the two latest reports and the marks of older
    ones, prompts, the calendar, skips, the delivery process and, with one, the projects'
    stage requests) and compose it.
    Closed projects are loaded too: compose_digest keeps those closed this period. `previous`
    is the summary (`digest_summary`) of the digest leadership last saw on this subscription.
    Without the `chart` (the App Home's summary, the preview, which does not show it), the chart
    has no points, and unless `deep`, each project's history is read only as deep as the flags
    need, not back to the chart's oldest moment (a "No change" streak is then counted no
    further: the preview reads deep, to show exactly what is posted).
    `projects`: those to choose from, when the caller has them (else every stored one).
    `periods`: the current periods at `at` the caller knows (the read model's, for those whose
    standing holds: bot.overview.standings.held_periods); the others are computed."""
    projects = [
        p
        for p in (portfolio.list_projects(session) if projects is None else projects)
        if selects(subscription, p)
        and (p.state is not ProjectState.CLOSED or p.closed_at is not None)
    ]
    ids = [p.id for p in projects]
    risks = items.open_risks(session, ids)
    blockers = items.open_blockers(session, ids)
    milestones = items.list_milestones(session, ids)
    named = {r.owner for found in risks.values() for r in found if is_user_id(r.owner)}
    named |= {b.unblocker for found in blockers.values() for b in found if is_user_id(b.unblocker)}
    governance = load_governance(
        session,
        ids,
        at=at,
        since=read_summary(previous),
        today=at.astimezone(digest_zone(subscription, default_tz)).date(),
    )
    named |= {d.decided_by for d in governance.decided if is_user_id(d.decided_by)}
    named |= {a.owner for found in governance.overdue_actions.values() for a in found}
    calendar = portfolio.load_calendar(session)
    today = plan_today(at, default_tz)  # the plan's months: the portfolio's today
    # People's load, for the capacity line and panel (a digest as posted: with its chart, or
    # previewed `deep`) and the capacity flag; otherwise (the App Home's summary) read below
    # only if a report says the team is short (the flag is all it would serve).
    load = _people_load(session, calendar, today=today) if chart or deep else None
    if load is not None:
        over = overloaded_in(load, ids)[:MAX_LOAD_ROWS]  # those the chart's panel names
        named |= {row.who for row in over if is_user_id(row.who)}
    # the delivery process, and with one the projects' gate and change requests (bot/stages),
    # whose approvers a waiting request names: the sponsors and the people the gates name
    process = portfolio.load_process(session)
    requests = _requests_by_project(session, ids) if process.phases else {}
    if requests:
        named |= {p.sponsor for p in projects if p.sponsor and is_user_id(p.sponsor)}
        named |= {a for g in process.gates for a in g.approvers if is_user_id(a)}
    cached = users.find_users(session, {p.pm for p in projects} | {n for n in named if n})
    zones = {uid: person_zone(u, default_tz) for uid, u in cached.items()}
    names = {uid: u.name for uid, u in cached.items() if u.name}
    window = (
        history_window(subscription, projects, zones, at=at, default_tz=default_tz)
        if (chart if deep is None else deep)
        else HISTORY_NEEDED
    )
    # The marks (rating, percent complete, what it copies) of each project's newest reports,
    # as deep as the window: the chart is counted from them first, then only those the lines
    # read are kept (marks_kept), so that the deep ones are not held while the digest is
    # composed (its peak of memory, at 5,000 projects). Without the chart, only those.
    marks: Mapping[int, Sequence[ReportMark]] = (
        reports.report_marks(session, ids, before=at, per_project=max(window, WHOLE))
        if chart
        else lines_marks(session, ids, at=at, depth=max(window, WHOLE))
    )
    # the latest prompt before `at` places each project's period; the chart's moments go back
    prompts = deliveries.recent_per_project(
        session, DeliveryKind.PROMPT, ids, per_project=window if chart else 1, before=at
    )
    known = periods or {}
    todo = [p for p in projects if p.id not in known]
    current = periods_of(todo, zones=zones, prompts=prompts, at=at, default=default_tz)
    current.update((p.id, known[p.id]) for p in projects if p.id in known)
    points = (
        chart_points(
            subscription,
            charted(projects, current),
            marks,
            zones,
            prompts,
            current,
            at=at,
            default_tz=default_tz,
        )
        if chart
        else None
    )
    marks = {pid: marks_kept(found) for pid, found in marks.items()}
    if load is None and any(
        found and found[0].capacity_pulse is CapacityPulse.SHORT for found in marks.values()
    ):
        load = _people_load(session, calendar, today=today, months=1)
    history = whole_reports(session, marks)
    # the portfolio's dependencies (none declared: nothing read), for the digest's section
    everyone = portfolio.list_projects(session, states=OPEN_STATES)
    if dependencies is None:  # unless the caller read them already (the App Home)
        dependencies = portfolio_dependencies(session, everyone, at=at, default=default_tz)
    active = {p.id for p in projects if p.state is ProjectState.ACTIVE}
    skips = reports.find_skips(
        session,
        [
            (pid, period.start)
            for pid, period in current.items()
            if period is not None and pid in active
        ],
    )
    return compose_digest(
        subscription,
        projects,
        history,
        zones,
        names,
        at=at,
        default_tz=default_tz,
        skips=skips,
        risks=risks,
        blockers=blockers,
        milestones=milestones,
        previous=previous,
        prompts=prompts,
        calendar=calendar,
        chart=chart,
        marks=marks,
        periods=current,
        points=points,
        governance=governance,
        money=portfolio.load_money(session),
        load=load,
        dependencies=dependencies,
        upstreams={p.key: p for p in everyone},
        process=process if process.phases else None,
        requests=requests,
    )


def _requests_by_project(
    session: Session, project_ids: Sequence[int]
) -> dict[int, list[StageRequest]]:
    """The projects' gate and change requests (every state), by project, oldest first."""
    found: dict[int, list[StageRequest]] = {}
    for request in stages.requests_of(session, project_ids):
        found.setdefault(request.project_id, []).append(request)
    return found


def _people_load(
    session: Session, calendar: Calendar, *, today: date, months: int = DIGEST_MONTHS
) -> PortfolioLoad:
    """Everyone's load over the `months` from today's, every open project counting."""
    everyone = portfolio.list_projects(session, states=OPEN_STATES)
    staffing = portfolio.load_staffing(session)
    return portfolio_load(everyone, staffing, calendar, today=today, months=months)


DECIDED_REACH = timedelta(days=7)  # without a previous digest: the decisions of the last week


def load_governance(
    session: Session,
    project_ids: Sequence[int],
    *,
    at: datetime,
    since: PreviousDigest | None,
    today: date,
) -> Governance:
    """The projects' newest decisions, their open actions past due on `today`, and the
    decisions taken since the previous digest (the last week, for a first one), in three
    statements."""
    overdue: dict[int, list[Action]] = {}
    for action in decisions.actions_of(
        session, project_ids=project_ids, state=ActionState.OPEN, due_before=today
    ):
        overdue.setdefault(action.project_id, []).append(action)
    return Governance(
        latest=decisions.latest_of_projects(session, project_ids),
        overdue_actions=overdue,
        decided=decisions.decided_since(
            session, project_ids, since=since.at if since else at - DECIDED_REACH, until=at
        ),
    )
