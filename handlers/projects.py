"""Bolt listeners for project administration: the add/edit modal and the closing modal.

Each submission is checked and stored before the ack (database work only, well within Slack's
3 seconds), so problems come back inline (`response_action="errors"`) and nothing is stored;
after the ack come the slow parts: uploading the record, confirming in the admin's DM.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App

from bot import ids
from bot.portfolio.admin import (
    FLAGS_BLOCK,
    LINE_FIELDS,
    MANDATORY_BLOCK,
    MODAL_FIELDS,
    ROLE_BLOCKS,
    Closed,
    ProjectForm,
    ProjectSaved,
    close_project,
    error_texts,
    save_project,
    send_record,
)
from bot.render import as_message
from bot.services import Services
from bot.slack.gateway import SlackError
from bot.slack.pacing import person_waiting
from bot.slack.people import send_dm
from handlers.forms import field_value

log = logging.getLogger(__name__)


def _state(view: dict[str, Any]) -> dict[str, Any]:
    values = (view.get("state") or {}).get("values") or {}
    return values if isinstance(values, dict) else {}


def _element(state: dict[str, Any], block_id: str) -> dict[str, Any]:
    block = state.get(block_id) or {}
    element = next(iter(block.values()), None) if isinstance(block, dict) else None
    return element if isinstance(element, dict) else {}


def project_form(view: dict[str, Any]) -> ProjectForm:
    """The project modal's values: text for each input (None when empty), the chosen
    delegates, responsible, consulted and informed and the ticked options as tuples."""
    state = _state(view)
    form: dict[str, str | tuple[str, ...] | None] = {}
    for name in (*MODAL_FIELDS, "cost", *ROLE_BLOCKS):
        if name in ("delegates", *ROLE_BLOCKS[1:]):
            chosen = _element(state, name).get("selected_users") or []
            form[name] = tuple(str(user) for user in chosen)
        else:
            form[name] = field_value(state, name)
    for name in LINE_FIELDS:  # a text the modal did not show is left out (kept)
        if name in state:
            form[name] = field_value(state, name)
    for name in (FLAGS_BLOCK, MANDATORY_BLOCK):
        ticked = _element(state, name).get("selected_options") or []
        form[name] = tuple(str(option.get("value")) for option in ticked)
    return form


def register(app: App, services: Services) -> None:
    @person_waiting()
    def save(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        actor = body["user"]["id"]
        result = save_project(
            services,
            actor=actor,
            private_metadata=view.get("private_metadata") or "",
            form=project_form(view),
        )
        if not isinstance(result, ProjectSaved):
            errors, language = result
            words = services.renderer.words(language)
            ack(response_action="errors", errors=error_texts(words, errors))
            return
        ack()
        _tell(
            services,
            actor,
            "project_saved",
            result.language,
            project=result.project,
            action=result.action,
            changes=result.changes,
        )

    @person_waiting()
    def close(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        actor = body["user"]["id"]
        state = _state(view)
        result = close_project(
            services,
            actor=actor,
            private_metadata=view.get("private_metadata") or "",
            summary=field_value(state, "summary"),
            lessons=field_value(state, "lessons"),
        )
        if not isinstance(result, Closed):
            errors, language = result
            words = services.renderer.words(language)
            ack(response_action="errors", errors=error_texts(words, errors))
            return
        ack()
        sent, failed = send_record(services, result)
        _tell(
            services,
            actor,
            "project_closed",
            result.language,
            project=result.project,
            filename=result.filename,
            sent=sent,
            failed=failed,
            informed=result.informed,
        )

    app.view(ids.PROJECT_SAVE)(save)
    app.view(ids.PROJECT_CLOSE)(close)


def _tell(services: Services, actor: str, template: str, language: str, **context: Any) -> None:
    """Confirm to the admin in their DM with the bot (after the ack: may be slow)."""
    message = as_message(services.renderer.render(template, language, **context))
    try:
        send_dm(
            services.sessions,
            services.gateway,
            actor,
            text=message.text,
            blocks=message.blocks,
            now=services.clock(),
        )
    except SlackError as exc:
        log.warning("could not confirm %s's change to %s: %s", actor, template, exc)
