"""`/pmo report KEY` and `/pmo remind KEY`: the project named, then bot/reporting/on_demand.py."""

from __future__ import annotations

from typing import Any

from bot.access.audience import Audience
from bot.lookup.matching import find_visible
from bot.reporting.on_demand import Outcome, open_report, remind
from bot.slash.request import OpenModal, Request, Result
from storage.records import Project


def _project(request: Request) -> Project | dict[str, Any]:
    """The project the command names, matched forgivingly among those the asker may see
    (bot.lookup.matching.find_visible: case, accents, a typo, a prefix), or the "not found" answer,
    which lists the candidates when several match and the closest ones when none does."""
    query = " ".join(request.args)
    with request.services.sessions.begin() as session:
        found = find_visible(session, Audience(request.user_id, request.admins), query)
    if found.one is not None:
        return found.one
    return request.render("not_found", key=query, suggestions=found.found or found.suggestions)


def answer_report(request: Request) -> Result:
    project = _project(request)
    if isinstance(project, dict):
        return project
    result = open_report(
        request.services, actor=request.user_id, project=project, admins=request.admins
    )
    if isinstance(result, Outcome):
        return request.render("action_result", outcome=result)
    return OpenModal(result)


def answer_remind(request: Request) -> Result:
    project = _project(request)
    if isinstance(project, dict):
        return project
    outcome = remind(
        request.services, actor=request.user_id, project=project, admins=request.admins
    )
    return request.render("action_result", outcome=outcome)
