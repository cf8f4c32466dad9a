"""Gates and change requests (issue 17): the modals of `/pmo gate KEY` and `/pmo change KEY`,
and an approver's Approve / Approve with conditions / Reject buttons with their decision
modal. Every click and submission is checked again on the server (bot/stages/surface.py): a
button carries only a request id, and one from someone who is not its approver changes
nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond

from bot import ids
from bot.governance.decisions import MAX_ACTIONS
from bot.governance.surface import Recorded
from bot.services import Services
from bot.slack.gateway import SlackError
from bot.slack.pacing import person_waiting
from bot.stages.surface import (
    BUTTONS,
    DecidedMessage,
    decided_message,
    open_stage_decision,
    submit_change,
    submit_decision,
    submit_gate,
    withdraw_clicked,
)
from handlers.forms import (
    button_number,
    change_form,
    clicked_message,
    decision_form,
    gate_form,
)

log = logging.getLogger(__name__)


def _message(body: dict[str, Any]) -> DecidedMessage | None:
    """The DM the button was on (to show it decided afterwards)."""
    found = clicked_message(body)
    return DecidedMessage(*found) if found is not None else None


def _answer(ack: Ack, result: Recorded | dict[str, str]) -> None:
    """A submission's ack: the modal replaced by its result, or its inline errors."""
    if isinstance(result, Recorded):
        ack(response_action="update", view=result.view)
    else:
        ack(response_action="errors", errors=result)


def register(app: App, services: Services) -> None:
    @person_waiting()
    def ask_gate(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        _answer(
            ack,
            submit_gate(
                services,
                actor=body["user"]["id"],
                private_metadata=view.get("private_metadata") or "",
                form=gate_form(view),
            ),
        )

    @person_waiting()
    def ask_change(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        _answer(
            ack,
            submit_change(
                services,
                actor=body["user"]["id"],
                private_metadata=view.get("private_metadata") or "",
                form=change_form(view),
            ),
        )

    @person_waiting()  # the clicker waits: the trigger_id lives 3 seconds
    def stage_button(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
    ) -> None:
        ack()
        actor = body["user"]["id"]
        view = open_stage_decision(
            services,
            actor=actor,
            request_id=button_number(action.get("value")),
            action_id=str(action.get("action_id") or ""),
            message=_message(body),
        )
        if "response_type" in view:  # a refusal, or who decided it: only to the clicker
            respond(**view, replace_original=False)
            return
        try:
            services.gateway.open_view(trigger_id=body["trigger_id"], view=view)
        except SlackError as exc:
            log.warning("could not open the stage decision modal for %s: %s", actor, exc)

    @person_waiting()
    def withdraw_button(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
    ) -> None:
        ack()
        answer = withdraw_clicked(
            services, actor=body["user"]["id"], request_id=button_number(action.get("value"))
        )
        respond(**answer, replace_original=True)  # the waiting answer, and its button, gone

    @person_waiting()
    def decide_stage(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        actor, metadata = body["user"]["id"], view.get("private_metadata") or ""
        result = submit_decision(
            services, actor=actor, private_metadata=metadata, form=decision_form(view, MAX_ACTIONS)
        )
        _answer(ack, result)
        if not isinstance(result, Recorded):
            return
        # After the ack: the approver's DM shows the decision in place of its buttons.
        decided = decided_message(services, actor=actor, private_metadata=metadata)
        if decided is None:
            return
        where, message = decided
        try:
            services.gateway.update_message(
                channel=where.channel, ts=where.ts, text=message.text, blocks=message.blocks
            )
        except SlackError as exc:
            log.warning("could not show %s's DM decided: %s", actor, exc)

    app.view(ids.GATE_SUBMIT)(ask_gate)
    app.view(ids.CHANGE_SUBMIT)(ask_change)
    for action_id in BUTTONS:
        app.action(action_id)(stage_button)
    app.view(ids.STAGE_DECIDE_SUBMIT)(decide_stage)
    app.action(ids.STAGE_WITHDRAW)(withdraw_button)
