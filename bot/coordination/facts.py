"""What the dependency rule (bot/coordination/dependencies.py) needs to know of projects, read
from the database: each project's planned end, its latest report's forecast end and rating,
whether it missed two reports in a row (bot.periods.state, the one rule), and its milestones
with their forecasts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.coordination.dependencies import (
    DependencyState,
    MilestoneFacts,
    ProjectFacts,
    dependency_states,
)
from bot.periods.state import period_statuses
from storage import coordination, items
from storage.records import Project

WATCH_TURN = "planning-watch"  # the hourly planning watch's turn (bot/delivery/watch.py)


def report_written(session: Session, *, now: datetime) -> None:
    """A report (and its milestones' forecasts) was saved: the planning watch looks at the
    dependencies at the next tick rather than within the hour, so that a slip it makes is
    told soon (one replica still does it, under its turn)."""
    coordination.hasten_turn(session, WATCH_TURN, now=now)


def project_facts(
    session: Session, projects: Sequence[Project], *, at: datetime, default: ZoneInfo
) -> dict[str, ProjectFacts]:
    """The facts of each of `projects`, by key, at `at`."""
    found = period_statuses(session, projects, at=at, default=default)
    milestones = items.list_milestones(session, [p.id for p in projects])
    facts = {}
    for project in projects:
        status = found.get(project.id)
        report = status.report if status is not None else None
        facts[project.key] = ProjectFacts(
            end=project.end,
            forecast_end=report.forecast_end if report is not None else None,
            rating=report.overall if report is not None else None,
            silent=status.silent if status is not None else False,
            milestones={
                m.name: MilestoneFacts(m.due, m.done_on, m.forecast)
                for m in milestones.get(project.id, ())
            },
        )
    return facts


def portfolio_dependencies(
    session: Session, projects: Sequence[Project], *, at: datetime, default: ZoneInfo
) -> list[DependencyState]:
    """Every dependency of the open `projects` (the whole portfolio's), as the rule reads it
    at `at`: the facts are read only for the projects a dependency names, up its chains."""
    by_key = {p.key: p for p in projects}
    needs = {p.key: p.depends_on for p in projects if p.depends_on}
    if not needs:
        return []  # none declared: nothing read
    involved = set(needs) | {d.project for deps in needs.values() for d in deps}
    facts = project_facts(
        session, [by_key[k] for k in sorted(involved) if k in by_key], at=at, default=default
    )
    return dependency_states(needs, facts)
