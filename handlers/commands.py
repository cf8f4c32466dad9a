"""`/pmo`: ack at once (Slack waits 3 s at most), then answer through the response_url, in the
asker's language; `subscribe`/`unsubscribe` act on the channel the command was typed in."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot.commands import answer
from bot.services import Services


def register(app: App, services: Services) -> None:
    def handle_pmo(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        ack()  # at once: the answer (which may ask Slack for the asker's locale) follows
        respond(
            **answer(
                services,
                user_id=command["user_id"],
                text=command.get("text") or "",
                channel_id=command.get("channel_id") or "",
            )
        )

    app.command("/pmo")(handle_pmo)
