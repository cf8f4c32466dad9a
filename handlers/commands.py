"""`/pmo`: ack at once (Slack waits 3 s at most), then answer through the response_url."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot.commands import answer
from bot.services import Services


def register(app: App, services: Services) -> None:
    def handle_pmo(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        ack()
        respond(**answer(services, user_id=command["user_id"], text=command.get("text") or ""))

    app.command("/pmo")(handle_pmo)
