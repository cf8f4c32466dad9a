"""`/pmo` subcommands: parse the text, answer with a rendered (ephemeral) response."""

from __future__ import annotations

from typing import Any

from bot.lookup import NotFound, active_projects, project_status
from bot.services import Services

MAX_LISTED = 675  # 45 sections of 15 lines: the list stays inside Slack's 50 blocks


def answer(services: Services, *, user_id: str, text: str) -> dict[str, Any]:
    """The response to `/pmo <text>` from `user_id`: a dict for Bolt's respond()."""
    words = text.split()
    verb = words[0].lower() if words else "help"
    args = words[1:]
    render = services.renderer.render
    admins = services.settings.admins
    if verb == "help":
        return dict(render("help", unknown=None))
    with services.sessions.begin() as session:
        if verb == "status":
            found = project_status(session, actor=user_id, key=" ".join(args), admins=admins)
            if isinstance(found, NotFound):
                return dict(render("not_found", key=found.key, suggestions=found.suggestions))
            return dict(render("status", project=found.project, report=found.report))
        if verb == "list":
            rows = active_projects(session, actor=user_id, admins=admins)
            return dict(render("list", rows=rows, shown=MAX_LISTED))
    return dict(render("help", unknown=verb))
