"""`/pmo project add|edit KEY|close KEY` and `/pmo admin add @user`: PMO admins only (others
get a polite, specific refusal). The modals' submissions are handled in handlers/projects.py,
which checks the rules again (see bot/portfolio/admin.py)."""

from __future__ import annotations

from typing import Any

from bot import ids
from bot.access.admins import add_admin, is_admin
from bot.portfolio.admin import (
    MAX_CLOSING_TEXT,
    MAX_INPUT,
    ask_waiting_approvers,
    find_for_close,
    find_for_edit,
    metadata,
    modal_texts,
)
from bot.slack.user_ids import mentioned_user
from bot.slash.request import OpenModal, Request, Result
from bot.slash.words import slack_unescape
from storage.records import DEFAULT_CADENCE, Project, ProjectState

SUBCOMMANDS = ("add", "edit", "close")


def _denied(request: Request, what: str) -> Result:
    admins = sorted(request.admins)
    return request.render(
        "project_answer", reason="denied", verb=what, admins=admins[:10], more=len(admins) > 10
    )


def modal(view: dict[str, Any]) -> OpenModal:
    """A rendered modal template without its `text` (a description for tests and logs, not a
    field of Slack's views)."""
    return OpenModal({name: value for name, value in view.items() if name != "text"})


def project_modal(request: Request, project: Project | None) -> OpenModal:
    return modal(
        request.render(
            "project_modal",
            project=project,
            metadata=metadata(project.id if project else None, request.language),
            callback_id=ids.PROJECT_SAVE,
            states=[state.value for state in ProjectState],
            default_cadence=DEFAULT_CADENCE,
            texts=modal_texts(project),
            max_input=MAX_INPUT,
        )
    )


def answer_project(request: Request) -> Result:
    what = request.args[0].lower() if request.args else ""
    key = request.args[1] if len(request.args) > 1 else ""
    if what not in SUBCOMMANDS or (what != "add" and not key):
        return request.render("project_answer", reason="usage")
    if not is_admin(request.user_id, request.admins):
        return _denied(request, what)
    if what == "add":
        return project_modal(request, None)
    if what == "edit":
        project = find_for_edit(request.services, key)
        if project is None:
            return request.render("project_answer", reason="not_found", key=slack_unescape(key))
        return project_modal(request, project)
    project, archived = find_for_close(request.services, key)
    if project is None:
        return request.render("project_answer", reason="not_found", key=slack_unescape(key))
    if archived:
        return request.render("project_answer", reason="archived", project=project)
    return modal(
        request.render(
            "close_modal",
            project=project,
            metadata=metadata(project.id, request.language),
            callback_id=ids.PROJECT_CLOSE,
            max_text=MAX_CLOSING_TEXT,
        )
    )


def answer_admin(request: Request) -> Result:
    what = request.args[0].lower() if request.args else ""
    if what != "add":
        return request.render("project_answer", reason="admin_usage")
    if not is_admin(request.user_id, request.admins):
        return _denied(request, "admin")
    named = " ".join(request.args[1:])
    user_id = mentioned_user(named)
    if user_id is None and named.startswith("@"):
        # Slack sent the mention as the text typed: the app's /pmo does not escape mentions
        # (an app made from an older manifest, should_escape: false). Say how to fix it.
        return request.render("project_answer", reason="admin_plain_mention", typed=named)
    if user_id is None:
        return request.render("project_answer", reason="admin_usage")
    if user_id in request.admins:
        return request.render("project_answer", reason="admin_already", user=user_id)
    added = add_admin(request.services, actor=request.user_id, user_id=user_id)
    if added:  # what waits on the admins waits on them too
        ask_waiting_approvers(request.services)
    return request.render(
        "project_answer", reason="admin_added" if added else "admin_already", user=user_id
    )
