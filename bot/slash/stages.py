"""`/pmo gate KEY` and `/pmo change KEY` (issue 17): the project named, then the modal that
asks its approvers, or a polite, specific refusal for the asker only (bot/stages/surface.py)."""

from __future__ import annotations

from bot.access.audience import Audience
from bot.lookup.matching import find_visible
from bot.slash.request import OpenModal, Private, Request, Result
from bot.stages.surface import open_request
from storage.records import RequestKind


def _ask(request: Request, kind: RequestKind) -> Result:
    query = " ".join(request.args)
    if not query:
        return Private(
            request.render(
                "stage_answer",
                step="ask",
                reason="usage",
                kind=kind.value,
                project=None,
                request=None,
                approvers=[],
                decision=None,
                tz=request.services.settings.timezone,
            )
        )
    with request.services.sessions.begin() as session:
        found = find_visible(session, Audience(request.user_id, request.admins), query)
    if found.one is None:
        return request.render("not_found", key=query, suggestions=found.found or found.suggestions)
    opened = open_request(
        request.services,
        actor=request.user_id,
        project=found.one,
        kind=kind,
        language=request.language,
        admins=request.admins,
    )
    return Private(opened) if "response_type" in opened else OpenModal(opened)


def answer_gate(request: Request) -> Result:
    return _ask(request, RequestKind.GATE)


def answer_change(request: Request) -> Result:
    return _ask(request, RequestKind.CHANGE)
