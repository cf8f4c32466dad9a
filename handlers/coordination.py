"""The dependency DM's *Add as a blocker* button (bot/coordination/blockers.py)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot import ids
from bot.coordination.blockers import add_as_blocker
from bot.services import Services
from bot.slack.pacing import person_waiting
from bot.slack.people import user_locale


def register(app: App, services: Services) -> None:
    @person_waiting()
    def add_blocker(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
    ) -> None:
        ack()
        actor = body["user"]["id"]
        added = add_as_blocker(services, actor=actor, value=str(action.get("value") or ""))
        locale = user_locale(services.sessions, services.gateway, actor, now=services.clock())
        answer = services.renderer.render("dependency_blocker", locale, added=added)
        respond(**answer, replace_original=False)

    app.action(ids.DEPENDENCY_BLOCKER)(add_blocker)
