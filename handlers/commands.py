"""`/pmo`: ack at once (Slack waits 3 s at most), then answer through the response_url, in the
asker's language, or open a modal with the command's trigger_id; `subscribe`/`unsubscribe`
act on the channel the command was typed in. A long answer (a large `/pmo export`) may first
tell the asker, through the same response_url, what is coming."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.services import Services
from bot.slack.gateway import SlackError
from bot.slack.pacing import person_waiting
from bot.slash.dispatch import answer
from bot.slash.request import OpenModal

log = logging.getLogger(__name__)


def register(app: App, services: Services) -> None:
    @person_waiting()  # the asker waits: their lookups are not queued behind a fan-out
    def handle_pmo(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        ack()  # at once: the answer (which may ask Slack for the asker's locale) follows
        result = answer(
            services,
            user_id=command["user_id"],
            text=command.get("text") or "",
            channel_id=command.get("channel_id") or "",
            trigger_id=command.get("trigger_id") or "",
            tell=lambda message: respond(**message),  # ahead of a long answer: ephemeral
        )
        if isinstance(result, OpenModal):
            try:
                services.gateway.open_view(
                    trigger_id=command.get("trigger_id") or "", view=result.view
                )
            except SlackError as exc:
                log.warning("could not open the modal for /pmo %s: %s", command.get("text"), exc)
            return
        respond(**result)

    app.command("/pmo")(handle_pmo)
