"""The prompt's buttons (Submit status, No change, Skip this period) and their modals."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any, Protocol

from slack_bolt import Ack, App, Respond

from bot import ids
from bot.render import Message
from bot.reporting import answers
from bot.reporting.modal import Submitted, open_modal, submit_modal
from bot.services import Services
from bot.slack.gateway import SlackError
from bot.slack.pacing import person_waiting
from bot.slack.people import send_dm
from handlers.forms import report_form, skip_form

log = logging.getLogger(__name__)
# The selects and checkboxes of the status modal's actions blocks (reviews of risks and
# blockers, new ones' ratings and people): Slack sends a block_actions for each change, which
# needs an ack (or the element shows a warning); their values are read on submission.
MODAL_REVIEW_ACTIONS = re.compile(r"^(risk|blocker)\.")


class Opener(Protocol):
    """What a prompt button asks of bot/: a modal view, or a refusal with "response_type"."""

    def __call__(self, services: Services, *, actor: str, delivery_id: int) -> dict[str, Any]: ...


def register(app: App, services: Services) -> None:
    def opens(opener: Opener) -> Callable[[Ack, dict[str, Any], dict[str, Any], Respond], None]:
        """A button listener that opens the modal `opener` returns, or shows its refusal."""

        @person_waiting()  # the clicker waits: the trigger_id lives 3 seconds
        def listener(
            ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
        ) -> None:
            ack()
            try:
                delivery_id = int(action.get("value") or "")
            except ValueError:
                delivery_id = 0
            view = opener(services, actor=body["user"]["id"], delivery_id=delivery_id)
            if "response_type" in view:  # a refusal, shown only to the one who clicked
                respond(**view, replace_original=False)
                return
            # trigger_id lives 3 seconds: open the modal before anything slow.
            services.gateway.open_view(trigger_id=body["trigger_id"], view=view)

        return listener

    @person_waiting()
    def submit_report(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        take_report(services, ack, body, view)

    @person_waiting()
    def confirm_no_change(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        actor = body["user"]["id"]
        result = answers.confirm_no_change(
            services, actor=actor, private_metadata=view.get("private_metadata") or ""
        )
        if not isinstance(result, answers.Answered):
            # The confirmation modal has no input to hang an inline error on: say why instead.
            ack(response_action="update", view=result)
            return
        ack()
        _confirm(services, actor, result.project.key, result.confirmation)

    @person_waiting()
    def submit_skip(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        actor = body["user"]["id"]
        result = answers.submit_skip(
            services,
            actor=actor,
            private_metadata=view.get("private_metadata") or "",
            form=skip_form(view),
        )
        if not isinstance(result, answers.Answered):
            ack(response_action="errors", errors=result)
            return
        ack()
        _confirm(services, actor, result.project.key, result.confirmation)

    def acknowledge(ack: Ack) -> None:
        ack()

    app.action(ids.OPEN_REPORT)(opens(open_modal))
    app.action(MODAL_REVIEW_ACTIONS)(acknowledge)
    app.action(ids.NO_CHANGE)(opens(answers.open_no_change))
    app.action(ids.SKIP_PERIOD)(opens(answers.open_skip))
    app.view(ids.SUBMIT_REPORT)(submit_report)
    app.view(ids.CONFIRM_NO_CHANGE)(confirm_no_change)
    app.view(ids.SUBMIT_SKIP)(submit_skip)


def take_report(
    services: Services, ack: Ack, body: dict[str, Any], view: dict[str, Any]
) -> Submitted | None:
    """A status modal's submission (from a prompt, the Home or `/pmo report`): the inline
    errors, or the stored report, acked, with the author's confirmation DM."""
    actor = body["user"]["id"]
    result = submit_modal(
        services,
        actor=actor,
        private_metadata=view.get("private_metadata") or "",
        form=report_form(view),
    )
    if not isinstance(result, Submitted):
        ack(response_action="errors", errors=result)
        return None
    ack()
    _confirm(services, actor, result.project.key, result.confirmation)
    return result


def _confirm(services: Services, actor: str, key: str, confirmation: Message) -> None:
    """Tell the author it worked, in their DM with the bot (after the ack: may be slow)."""
    try:
        send_dm(
            services.sessions,
            services.gateway,
            actor,
            text=confirmation.text,
            blocks=confirmation.blocks,
            now=services.clock(),
        )
    except SlackError as exc:
        log.warning("could not confirm %s's answer on %s: %s", actor, key, exc)
