"""App Home: what each user sees on the bot's Home tab, rebuilt from the database every time
they open it (and republished after they act through it), in their Slack language.

Sections, by role (one user may see several):

* **Your projects**: the active projects the user manages or is a delegate of, each with its
  last rating, the state of this period's report (bot.periods.state: not asked yet, due, late,
  skipped, done) and a Report button that opens the status modal for the current period.
* **Portfolio** (leadership): the digest's headline counts and "needs attention" list, computed
  by bot.digest over every project the user may see (confidential ones only for those allowed).
  Shown to PMO admins, to the sponsor of any project, and to everyone who manages no project:
  a PM who sponsors nothing sees only their own projects.
* **Your actions**: the open actions the user owns (set by decisions, and by the conditions of
  an approved gate or change), soonest due first, overdue ones marked, each with a Done button.
* **Waiting on other projects**: the dependencies of the user's projects (as PM or delegate)
  at risk (bot/coordination), the largest gap first.
* **Your load**: the user's own load over the next six months (bot/capacity/load.py), one
  square a month, and the months over 100 % with the projects that make them; shown when
  anything is allocated to them (or they manage projects), as `/pmo capacity @them` counts it.
* **PMO admins** also see the failed deliveries and this period's missing reports (not asked
  yet, due or late), each with a Remind button.

Slack takes at most 100 blocks in a Home view: the template shows at most SHOWN_* entries of
each list and says how many more there are. Buttons carry only a project id; what a click may
do is decided again on the server (handlers/home.py, bot/reporting/on_demand.py).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot import ids
from bot.access.admins import current_admins, is_admin
from bot.access.permissions import can_view
from bot.capacity.load import months_from, person_load
from bot.coordination.dependencies import DependencyState
from bot.coordination.facts import portfolio_dependencies
from bot.delivery.composers import FailureLine
from bot.digest.compose import Placement, Tallied, placement, tally
from bot.digest.lines import UNPRIORITISED
from bot.digest.load import build_digest
from bot.digest.model import ATTENTION_SHOWN, Attention, Counts, ProjectLine, Shortlist
from bot.governance.actions import is_overdue
from bot.overview.standings import refresh, statuses
from bot.periods.state import MISSING_STATES, PeriodState
from bot.priorities.ranking import rank_order
from bot.reporting.on_demand import Outcome
from bot.services import Services
from bot.slack.gateway import SlackError
from bot.slack.people import user_locale
from bot.timezones import zone
from storage import decisions, deliveries, portfolio
from storage import standings as stored
from storage.records import (
    OPEN_STATES,
    Action,
    ActionState,
    DeliveryStatus,
    Project,
    ProjectState,
    Rag,
    Report,
    Subscription,
)

log = logging.getLogger(__name__)

# Entries shown in each list (at most 2 + 22 + 4 + 3 + 22 blocks with the headers: under 100).
SHOWN_PROJECTS = 20
SHOWN_FAILED = 10  # lines in one section
SHOWN_MISSING = 20
SHOWN_ACTIONS = 10  # the viewer's open actions, each with its Done button


# The order of the PM's list, and the admins' missing reports: what needs doing first.
_ORDER = (
    PeriodState.LATE,
    PeriodState.DUE,
    PeriodState.NOT_ASKED,
    PeriodState.SKIPPED,
    PeriodState.DONE,
    PeriodState.NOT_STARTED,
)


@dataclass(frozen=True, slots=True)
class HomeAction:
    """An open action the viewer owns (bot/governance/actions.py), with its project."""

    action: Action
    project: Project
    overdue: bool


def home_actions(
    session: Session, user_id: str, projects: Sequence[Project], *, today: date
) -> list[HomeAction]:
    """The user's open actions, soonest due first."""
    by_id = {p.id: p for p in projects}
    return [
        HomeAction(action, by_id[action.project_id], is_overdue(action, today))
        for action in decisions.actions_of(session, owner=user_id, state=ActionState.OPEN)
        if action.project_id in by_id
    ]


@dataclass(frozen=True, slots=True)
class HomeProject:
    """A project on the Home: its latest report (any period) and this period's state."""

    project: Project
    report: Report | None
    state: PeriodState
    period_start: date | None  # the current period's first day, in the PM's timezone


@dataclass(frozen=True, slots=True)
class PortfolioSummary:
    counts: Counts
    attention: Shortlist[ProjectLine]


@dataclass(frozen=True, slots=True)
class AdminPanel:
    failed: tuple[FailureLine, ...]  # newest first
    missing: Shortlist[HomeProject]  # the first, late first, then due; how many more


def home_rows(
    session: Session, projects: Sequence[Project], *, now: datetime, default_tz: ZoneInfo
) -> list[HomeProject]:
    """Each project's state this period (bot.periods.state, through the read model), with
    its latest report."""
    found = statuses(session, projects, at=now, default=default_tz)
    rows = []
    for project in projects:
        status = found[project.id]
        first_day = status.period.first_day if status.period is not None else None
        rows.append(HomeProject(project, status.report, status.state, first_day))
    return rows


def missing_rows(
    session: Session,
    projects: Sequence[Project],
    *,
    default_tz: ZoneInfo,
    limit: int = SHOWN_MISSING,
) -> Shortlist[HomeProject]:
    """The first `limit` of the projects missing this period's report, late first, and
    how many more, from their standings in the read model (which must hold:
    overview.refresh), sorted and counted by the database (the admins' list names no
    report)."""
    wanted = {p.id: p for p in projects}
    count, first = stored.states_first(
        session,
        states=[s.value for s in _ORDER if s in MISSING_STATES],
        unprioritised=UNPRIORITISED,
        limit=limit,
        among_ids=wanted.keys(),
    )
    rows = []
    for standing in first:
        assert standing.period_start is not None  # states_first reads those naming a period
        tz = zone(standing.period_tz, default_tz)
        first_day = standing.period_start.astimezone(tz).date()
        state = PeriodState(standing.state or PeriodState.NOT_STARTED)
        rows.append(HomeProject(wanted[standing.project_id], None, state, first_day))
    return Shortlist(tuple(rows), count - len(rows))


def _order(row: HomeProject) -> tuple[int, int, str]:
    return (_ORDER.index(row.state), row.project.priority or UNPRIORITISED, row.project.key)


def portfolio_summary(
    session: Session,
    visible: Collection[Project],
    *,
    now: datetime,
    default_tz: ZoneInfo,
    dependencies: Sequence[DependencyState] | None = None,
) -> PortfolioSummary | None:
    """The digest's headline over the projects the viewer may see (None: there are none): its
    counts and the first of the projects that need attention, in the digest's order, from the
    read model: the standings counted by kind in the database, the first of those needing
    attention sorted there too, and read one by one only where they are closed; only the
    lines shown are composed (as the digest composes them). `dependencies`: the portfolio's
    (bot/coordination), when the caller read them already."""
    if not visible:
        return None
    refresh(session, list(visible), at=now, default=default_tz)
    shown = {p.id: p for p in visible}
    hidden = {p.id for p in portfolio.list_projects(session)} - shown.keys()
    closed = PeriodState.CLOSED.value
    # the smaller list of ids goes to the database
    scope: dict[str, Any] = (
        {"excluding": hidden} if len(hidden) <= len(shown) else {"among_ids": shown.keys()}
    )
    kinds = stored.groups(session, states_left_out=[closed], **scope)
    entries: list[Tallied] = []
    for kind in kinds:
        state = PeriodState(kind.state or PeriodState.NOT_STARTED)
        # not closed: only whether a period began matters to placement, not when
        place = placement(state, now if kind.started else None)
        if place is not None:
            entries += [_tallied(place, state, kind.rating, kind.stale)] * kind.count
    for standing in stored.standings_where(session, states=[closed]):
        project = shown.get(standing.project_id)
        if project is None:
            continue
        if placement(PeriodState.CLOSED, standing.period_start, project.closed_at):
            stale = standing.stale_since is not None
            entries.append(_tallied(Placement.CLOSED, PeriodState.CLOSED, None, stale))
    # The first of those asking, in the digest's order (attention_key), sorted by the database.
    asking, first_ids = stored.attention_first(
        session,
        groups=[why.value for why in Attention],
        dated=Attention.HELP.value,
        unprioritised=UNPRIORITISED,
        limit=ATTENTION_SHOWN,
        **scope,
    )
    # Last, those that need attention only through a dependency at risk: read when asked, as
    # the digest reads them (they rest on other projects' data, which no standing holds).
    if dependencies is None:
        everyone = portfolio.list_projects(session, states=OPEN_STATES)
        dependencies = portfolio_dependencies(session, everyone, at=now, default=default_tz)
    extra = _waiting(session, shown, dependencies)
    asking += len(extra)
    first_ids = (list(first_ids) + [p.id for p in extra])[:ATTENTION_SHOWN]
    first = [shown[pid] for pid in first_ids if pid in shown]
    lines: tuple[ProjectLine, ...] = ()
    if first:
        # A digest of exactly these projects: listing the keys also lets in the confidential
        # ones the viewer may see (a digest shows a confidential project only where its key
        # is listed). No chart, and history only as deep as the consistency flags need.
        keys = tuple(sorted(p.key for p in first))
        everything = Subscription(id=0, channel="home", keys=keys)
        lines = build_digest(
            session,
            everything,
            at=now,
            default_tz=default_tz,
            chart=False,
            projects=first,
            dependencies=dependencies,
        ).attention
    return PortfolioSummary(tally(entries), Shortlist(lines, asking - len(lines)))


def _waiting(
    session: Session, shown: Mapping[int, Project], dependencies: Sequence[DependencyState]
) -> list[Project]:
    """The projects the viewer may see that have this period's report, no reason of their own
    for attention, and a dependency at risk (Attention.DEPENDENCY), in the ranking's order."""
    at_risk = {s.downstream for s in dependencies if s.at_risk}
    if not at_risk:
        return []
    asking = {s.project_id for s in stored.standings_where(session, attention=True)}
    done = {s.project_id for s in stored.standings_where(session, states=[PeriodState.DONE])}
    found = [p for p in shown.values() if p.key in at_risk and p.id in done and p.id not in asking]
    return sorted(found, key=lambda p: rank_order(p, p.rank_score))


def _tallied(place: Placement, state: PeriodState, rating: str | None, stale: bool) -> Tallied:
    """What a standing adds to the counts (compose_digest's own Tallied)."""
    return Tallied(
        place,
        Rag(rating) if rating and place is Placement.ACTIVE else None,
        state is PeriodState.SKIPPED,
        stale,
    )


def _failures(session: Session, projects: Sequence[Project]) -> tuple[FailureLine, ...]:
    keys = {p.id: p.key for p in projects}
    failed = deliveries.list_deliveries(session, statuses=[DeliveryStatus.FAILED])
    return tuple(
        FailureLine(
            d.kind.value,
            keys.get(d.project_id, d.target) if d.project_id else d.target.split(":", 1)[-1],
            d.error or "unknown",
        )
        for d in reversed(failed)
    )


def home_view(services: Services, *, user_id: str, notice: Outcome | None = None) -> dict[str, Any]:
    """The user's Home view (see the module's docstring); `notice`: what their last click on
    it came to, shown at the top."""
    now, default_tz = services.clock(), services.settings.timezone
    admins = current_admins(services)
    admin = is_admin(user_id, admins)
    locale = user_locale(services.sessions, services.gateway, user_id, now=now)
    with services.sessions.begin() as session:
        projects = portfolio.list_projects(session)
        active = [p for p in projects if p.state is ProjectState.ACTIVE]
        mine = [p for p in active if user_id == p.pm or user_id in p.delegates]
        rows = sorted(home_rows(session, mine, now=now, default_tz=default_tz), key=_order)
        today = now.astimezone(default_tz).date()
        actions = home_actions(session, user_id, projects, today=today)
        dependencies = portfolio_dependencies(  # read once: the summary and its lines too
            session, [p for p in projects if p.state in OPEN_STATES], at=now, default=default_tz
        )
        keys = {p.key for p in mine}
        waiting = [s for s in dependencies if s.at_risk and s.downstream in keys]
        load = person_load(
            [p for p in projects if p.state in OPEN_STATES],
            portfolio.load_staffing(session),
            portfolio.load_calendar(session),
            months_from(today),
            user_id,
        )
        leadership = admin or not mine or any(p.sponsor == user_id for p in projects)
        visible = [p for p in projects if can_view(user_id, p, admins)] if leadership else []
        # The standings of the summary and of the admins' list of missing reports hold.
        wanted = {p.id: p for p in visible + (active if admin else [])}
        refresh(session, list(wanted.values()), at=now, default=default_tz)
        summary = (
            portfolio_summary(
                session, visible, now=now, default_tz=default_tz, dependencies=dependencies
            )
            if leadership
            else None
        )
        panel = (
            AdminPanel(
                _failures(session, projects), missing_rows(session, active, default_tz=default_tz)
            )
            if admin
            else None
        )
    return dict(
        services.renderer.render(
            "home",
            locale,
            rows=rows,
            actions=actions,
            shown_actions=SHOWN_ACTIONS,
            done_action=ids.ACTION_DONE,
            summary=summary,
            load=load,
            waiting=sorted(waiting, key=lambda s: (-(s.gap_days or 0), s.dependency.needed_by)),
            visible={p.key for p in projects if can_view(user_id, p, admins)},
            shown={p.id for p in projects if can_view(user_id, p, admins)} if load else set(),
            admin=panel,
            notice=notice,
            shown_projects=SHOWN_PROJECTS,
            shown_failed=SHOWN_FAILED,
            report_action=ids.HOME_OPEN_REPORT,
            remind_action=ids.HOME_REMIND,
        )
    )


def publish_home(services: Services, user_id: str, *, notice: Outcome | None = None) -> None:
    """Build and publish the user's Home (views.publish); a refusal from Slack is logged."""
    view = home_view(services, user_id=user_id, notice=notice)
    try:
        services.gateway.publish_home(user_id=user_id, view=view)
    except SlackError as exc:
        log.warning("could not publish the Home of %s: %s", user_id, exc)
