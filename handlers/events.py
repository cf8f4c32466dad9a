"""Events: App Home (`app_home_opened`): the user's Home, rebuilt for their role each time they
open the tab (bot/home/view.py); the app uninstalled or its tokens revoked (`app_uninstalled`,
`tokens_revoked`): the bot pauses until its token works again (bot/slack/access.py)."""

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

    def app_uninstalled() -> None:
        services.access.refused("app_uninstalled: the app was removed from the workspace")

    def tokens_revoked(event: dict[str, Any]) -> None:
        # `tokens.bot` lists the bot users whose tokens were revoked (`oauth`: user tokens,
        # which the bot holds none of). Rather than trust that it is ours, ask Slack.
        if (event.get("tokens") or {}).get("bot"):
            services.access.verify("tokens_revoked")

    app.event("app_home_opened")(app_home_opened)
    app.event("app_uninstalled")(app_uninstalled)
    app.event("tokens_revoked")(tokens_revoked)
