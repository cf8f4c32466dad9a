"""App Home: what the user sees on the bot's Home tab."""

from __future__ import annotations

from typing import Any

from bot.lookup import active_projects
from bot.services import Services


def home_view(services: Services, *, user_id: str) -> dict[str, Any]:
    """A welcome and the user's own projects with their latest rating."""
    with services.sessions.begin() as session:
        rows = active_projects(
            session,
            actor=user_id,
            admins=services.settings.admins,
            pm=user_id,
        )
    return dict(services.renderer.render("home", rows=rows))
