"""The Decide… button (digest, `/pmo status`), the decision modal, and the Done button of an
action (its DM, the App Home). Every click is checked again on the server
(bot/governance/surface.py): a button carries only an id, and a click or a submission from
someone who may not decide changes nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond

from bot import ids
from bot.governance.decisions import MAX_ACTIONS, DigestThread
from bot.governance.surface import Recorded, done_clicked, open_decide, submit_decide
from bot.home.view import publish_home
from bot.services import Services
from bot.slack.gateway import SlackError
from bot.slack.pacing import person_waiting
from handlers.forms import button_number, clicked_message, decision_form

log = logging.getLogger(__name__)


def _thread(body: dict[str, Any]) -> DigestThread | None:
    """The message the button was on, when it was a channel message (a digest)."""
    found = clicked_message(body)
    return DigestThread(*found) if found is not None else None


def register(app: App, services: Services) -> None:
    @person_waiting()  # the clicker waits: the trigger_id lives 3 seconds
    def open_decision(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
    ) -> None:
        ack()
        actor = body["user"]["id"]
        view = open_decide(
            services,
            actor=actor,
            decision_id=button_number(action.get("value")),
            thread=_thread(body),
        )
        if "response_type" in view:  # a refusal, or who decided it: only to the clicker
            respond(**view, replace_original=False)
            return
        try:
            services.gateway.open_view(trigger_id=body["trigger_id"], view=view)
        except SlackError as exc:
            log.warning("could not open the decision modal for %s: %s", actor, exc)

    @person_waiting()
    def take_decision(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        result = submit_decide(
            services,
            actor=body["user"]["id"],
            private_metadata=view.get("private_metadata") or "",
            form=decision_form(view, MAX_ACTIONS),
        )
        if isinstance(result, Recorded):
            ack(response_action="update", view=result.view)
            return
        ack(response_action="errors", errors=result)

    @person_waiting()
    def action_done(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
    ) -> None:
        ack()
        actor = body["user"]["id"]
        answer = done_clicked(services, actor=actor, action_id=button_number(action.get("value")))
        if (body.get("container") or {}).get("type") == "view":  # the App Home
            publish_home(services, actor)
            return
        # In the owner's DM, a settled action's message is replaced by the answer (no Done
        # button left to click); a refusal is shown to the clicker only.
        respond(**answer.message, replace_original=answer.settled)

    app.action(ids.DECIDE)(open_decision)
    app.view(ids.SUBMIT_DECISION)(take_decision)
    app.action(ids.ACTION_DONE)(action_done)
