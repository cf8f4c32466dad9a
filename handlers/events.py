"""Events: App Home (a short welcome with the user's projects, in the viewer's language)."""

from __future__ import annotations

from typing import Any

from slack_bolt import App

from bot.home import home_view
from bot.services import Services


def register(app: App, services: Services) -> None:
    def app_home_opened(event: dict[str, Any]) -> None:
        if event.get("tab", "home") != "home":
            return
        user_id = event["user"]
        services.gateway.publish_home(user_id=user_id, view=home_view(services, user_id=user_id))

    app.event("app_home_opened")(app_home_opened)
