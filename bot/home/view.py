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
* **PMO admins** also see the failed deliveries and this period's missing reports (not asked
  yet, due or late), each with a Remind button.

Slack takes at most 100 blocks in a Home view: the template shows at most SHOWN_* entries of
each list and says how many more there are. Buttons carry only a project id; what a click may
do is decided again on the server (handlers/home.py, bot/reporting/on_demand.py).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot import ids
from bot.access.admins import current_admins, is_admin
from bot.access.permissions import can_view
from bot.delivery.composers import FailureLine
from bot.digest.load import build_digest
from bot.digest.model import Counts, ProjectLine, Shortlist
from bot.periods.state import MISSING_STATES, PeriodState, period_statuses
from bot.reporting.on_demand import Outcome
from bot.services import Services
from bot.slack.gateway import SlackError
from bot.slack.people import user_locale
from storage import deliveries, portfolio
from storage.records import (
    DeliveryStatus,
    Project,
    ProjectState,
    Report,
    Subscription,
)

log = logging.getLogger(__name__)

# Entries shown in each list (at most 2 + 22 + 4 + 3 + 22 blocks with the headers: under 100).
SHOWN_PROJECTS = 20
SHOWN_FAILED = 10  # lines in one section
SHOWN_MISSING = 20


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
    missing: tuple[HomeProject, ...]  # late first, then due


def home_rows(
    session: Session, projects: Sequence[Project], *, now: datetime, default_tz: ZoneInfo
) -> list[HomeProject]:
    """Each active project's state this period (bot.periods.state), in five statements
    whatever their number."""
    statuses = period_statuses(session, projects, at=now, default=default_tz)
    rows = []
    for project in projects:
        status = statuses[project.id]
        first_day = status.period.first_day if status.period is not None else None
        rows.append(HomeProject(project, status.report, status.state, first_day))
    return rows


def _order(row: HomeProject) -> tuple[int, int, str]:
    return (_ORDER.index(row.state), row.project.priority or 6, row.project.key)


def portfolio_summary(
    session: Session, visible: Collection[Project], *, now: datetime, default_tz: ZoneInfo
) -> PortfolioSummary | None:
    """The digest's headline over the projects the viewer may see (None: there are none)."""
    if not visible:
        return None
    # A digest of exactly these projects: listing the keys also lets in the confidential ones
    # the viewer may see (a digest shows a confidential project only where its key is listed).
    everything = Subscription(id=0, channel="home", keys=tuple(sorted(p.key for p in visible)))
    # Counts and attention only: no chart, and each project's history only as deep as the
    # consistency flags need.
    digest = build_digest(session, everything, at=now, default_tz=default_tz, chart=False)
    return PortfolioSummary(digest.counts, digest.attention_list)


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
        states = home_rows(session, active if admin else mine, now=now, default_tz=default_tz)
        mine_ids = {p.id for p in mine}
        rows = sorted((r for r in states if r.project.id in mine_ids), key=_order)
        leadership = admin or not mine or any(p.sponsor == user_id for p in projects)
        summary = (
            portfolio_summary(
                session,
                [p for p in projects if can_view(user_id, p, admins)],
                now=now,
                default_tz=default_tz,
            )
            if leadership
            else None
        )
        panel = (
            AdminPanel(
                _failures(session, projects),
                tuple(
                    sorted(
                        (r for r in states if r.state in MISSING_STATES),
                        key=_order,
                    )
                ),
            )
            if admin
            else None
        )
    return dict(
        services.renderer.render(
            "home",
            locale,
            rows=rows,
            summary=summary,
            admin=panel,
            notice=notice,
            shown_projects=SHOWN_PROJECTS,
            shown_failed=SHOWN_FAILED,
            shown_missing=SHOWN_MISSING,
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
