"""Answers to `/pmo` questions: a project's latest status, the list of active projects."""

from __future__ import annotations

import difflib
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy.orm import Session

from bot.permissions import can_view
from storage import portfolio, reports
from storage.records import Project, ProjectState, Report


@dataclass(frozen=True, slots=True)
class ProjectRow:
    project: Project
    report: Report | None  # the latest report, whatever its period


@dataclass(frozen=True, slots=True)
class NotFound:
    key: str
    suggestions: tuple[Project, ...]


def _visible(session: Session, actor: str, admins: Collection[str]) -> list[Project]:
    return [p for p in portfolio.list_projects(session) if can_view(actor, p, admins)]


def suggest(query: str, projects: Collection[Project], *, limit: int = 3) -> tuple[Project, ...]:
    """The projects whose key or name is closest to what was typed (case-insensitive)."""
    wanted = query.casefold()
    scored = []
    for project in projects:
        key, name = project.key.casefold(), project.name.casefold()
        score = max(
            difflib.SequenceMatcher(None, wanted, key).ratio(),
            difflib.SequenceMatcher(None, wanted, name).ratio(),
            0.9 if key.startswith(wanted) or wanted in name else 0.0,
        )
        if score >= 0.5:
            scored.append((-score, project.key, project))
    return tuple(project for _, _, project in sorted(scored)[:limit])


def project_status(
    session: Session, *, actor: str, key: str, admins: Collection[str]
) -> ProjectRow | NotFound:
    """The latest report of a project the actor may see; otherwise the closest matches.
    A confidential project is answered as unknown to those who may not see it."""
    project = portfolio.find_project(session, key) if key else None
    if project is None or not can_view(actor, project, admins):
        return NotFound(key, suggest(key, _visible(session, actor, admins)) if key else ())
    latest = reports.latest_reports(session, [project.id], per_project=1)[project.id]
    return ProjectRow(project, latest[0] if latest else None)


def active_projects(
    session: Session,
    *,
    actor: str,
    admins: Collection[str],
    pm: str | None = None,
) -> list[ProjectRow]:
    """Active projects the actor may see (optionally only those `pm` manages), each with its
    latest report, in two queries."""
    projects = [
        p
        for p in portfolio.list_projects(session, states=[ProjectState.ACTIVE])
        if can_view(actor, p, admins) and (pm is None or pm == p.pm)
    ]
    latest = reports.latest_reports(session, [p.id for p in projects], per_project=1)
    return [ProjectRow(p, latest[p.id][0] if latest[p.id] else None) for p in projects]
