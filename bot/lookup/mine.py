"""`/pmo mine`: the projects someone manages or reports for, and what each period asks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.access.audience import Audience
from bot.overview import standings as overview
from bot.periods.state import PeriodState, PeriodStatus
from storage import portfolio
from storage.records import OPEN_STATES, Project


@dataclass(frozen=True, slots=True)
class MineRow:
    project: Project
    role: str  # pm or delegate
    status: PeriodStatus  # this period's (bot.periods.state)


# What a PM owes first: late, then due, then not yet asked; then what is settled.
_ORDER = (
    PeriodState.LATE,
    PeriodState.DUE,
    PeriodState.NOT_ASKED,
    PeriodState.SKIPPED,
    PeriodState.DONE,
    PeriodState.NOT_STARTED,
    PeriodState.ON_HOLD,
    PeriodState.CLOSED,
)


def my_projects(
    session: Session, audience: Audience, *, now: datetime, default_tz: ZoneInfo
) -> list[MineRow]:
    """The open projects the actor manages or reports for, with what this period asks of them
    (a project on hold is not asked: ON_HOLD)."""
    projects = [
        p
        for p in portfolio.list_projects(session, states=OPEN_STATES)
        if (audience.actor == p.pm or audience.actor in p.delegates) and audience.sees(p)
    ]
    statuses = overview.statuses(session, projects, at=now, default=default_tz)
    rows = [
        MineRow(p, "pm" if audience.actor == p.pm else "delegate", statuses[p.id]) for p in projects
    ]
    rows.sort(key=lambda r: (_ORDER.index(r.status.state), r.project.key))
    return rows
