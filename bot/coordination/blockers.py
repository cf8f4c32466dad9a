"""The dependency DM's *Add as a blocker* button (bot/delivery/slips.py): the slipped
dependency becomes one of the downstream project's open blockers, raised in its current
period, so that the PM's next report reviews it (and the digest shows it). Checked on the
server whatever the click claims: the PM, a delegate or a PMO admin of the downstream
project; the dependency must still be at risk; a blocker of the same title already open is not
added twice."""

from __future__ import annotations

from dataclasses import dataclass

from bot.access.admins import current_admins
from bot.access.permissions import can_submit
from bot.coordination.facts import portfolio_dependencies
from bot.periods.state import period_statuses
from bot.services import Services
from storage import items, portfolio
from storage.records import OPEN_STATES, BlockerSpec, Project

MAX_TITLE = 500  # a blocker's title (bot.reporting.form.MAX_ITEM_LENGTH)


@dataclass(frozen=True, slots=True)
class BlockerAdded:
    outcome: str  # added, already, not_allowed, gone (no longer at risk, or unknown)
    project: Project | None = None
    title: str | None = None


def add_as_blocker(services: Services, *, actor: str, value: str) -> BlockerAdded:
    """What the click comes to (see the module's docstring)."""
    project_id, _, subject = value.partition(":")
    now = services.clock()
    with services.sessions.begin() as session:
        project = (
            portfolio.find_project_by_id(session, int(project_id or 0))
            if project_id.isdigit()
            else None
        )
        if project is None:
            return BlockerAdded("gone")
        if not can_submit(actor, project, current_admins(services)):
            return BlockerAdded("not_allowed", project)
        everyone = portfolio.list_projects(session, states=OPEN_STATES)
        states = portfolio_dependencies(
            session, everyone, at=now, default=services.settings.timezone
        )
        state = next((s for s in states if s.subject == subject and s.at_risk), None)
        if state is None or state.downstream != project.key:
            return BlockerAdded("gone", project)
        upstream = next((p for p in everyone if p.key == state.dependency.project), None)
        title = blocker_title(state.dependency.project, state.dependency.milestone)
        if any(b.title == title for b in items.open_blockers(session, [project.id])[project.id]):
            return BlockerAdded("already", project, title)
        status = period_statuses(session, [project], at=now, default=services.settings.timezone)[
            project.id
        ]
        period = status.period.start if status.period is not None else now
        spec = BlockerSpec(title, unblocker=upstream.pm if upstream is not None else None)
        items.save_blockers(session, project.id, [spec], period_start=period, now=now)
    return BlockerAdded("added", project, title)


def blocker_title(upstream: str, milestone: str | None) -> str:
    """`Waiting for ATLAS: Data migrated` (or its end): one title per dependency, so that a
    second click finds the first blocker."""
    what = f"{upstream}: {milestone}" if milestone else f"{upstream} (its end)"
    return f"Waiting for {what}"[:MAX_TITLE]
