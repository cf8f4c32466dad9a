"""The prompt's button (open the status modal) and the modal's submission."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond

from bot import ids
from bot.gateway import SlackError
from bot.people import dm_channel
from bot.report_modal import Submitted, open_modal, submit_modal
from bot.services import Services
from handlers.forms import report_form
from storage import users

log = logging.getLogger(__name__)


def register(app: App, services: Services) -> None:
    def open_report(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
    ) -> None:
        ack()
        try:
            delivery_id = int(action.get("value") or "")
        except ValueError:
            delivery_id = 0
        view = open_modal(services, actor=body["user"]["id"], delivery_id=delivery_id)
        if "response_type" in view:  # a refusal, shown only to the one who clicked
            respond(**view, replace_original=False)
            return
        # trigger_id lives 3 seconds: open the modal before anything slow.
        services.gateway.open_view(trigger_id=body["trigger_id"], view=view)

    def submit_report(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        actor = body["user"]["id"]
        result = submit_modal(
            services,
            actor=actor,
            private_metadata=view.get("private_metadata") or "",
            form=report_form(view),
        )
        if not isinstance(result, Submitted):
            ack(response_action="errors", errors=result)
            return
        ack()
        _confirm(services, actor, result)

    app.action(ids.OPEN_REPORT)(open_report)
    app.view(ids.SUBMIT_REPORT)(submit_report)


def _confirm(services: Services, actor: str, result: Submitted) -> None:
    """Tell the author it worked, in their DM with the bot (after the ack: may be slow)."""
    try:
        with services.sessions.begin() as session:
            cached = users.find_users(session, [actor]).get(actor)
        channel = dm_channel(
            services.sessions, services.gateway, cached, actor, now=services.clock()
        )
        services.gateway.post_message(
            channel=channel, text=result.confirmation.text, blocks=result.confirmation.blocks
        )
    except SlackError as exc:
        log.warning("could not confirm %s's report on %s: %s", actor, result.project.key, exc)
