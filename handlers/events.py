"""Events: App Home (`app_home_opened`): the user's Home, rebuilt for their role each time they
open the tab (bot/home/view.py)."""

from __future__ import annotations

from typing import Any

from slack_bolt import App

from bot.home.view import publish_home
from bot.services import Services
from bot.slack.pacing import person_waiting


def register(app: App, services: Services) -> None:
    @person_waiting()  # the user is looking at their Home
    def app_home_opened(event: dict[str, Any]) -> None:
        if event.get("tab", "home") != "home":
            return
        publish_home(services, event["user"])

    app.event("app_home_opened")(app_home_opened)
