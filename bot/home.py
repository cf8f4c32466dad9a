"""App Home: what the user sees on the bot's Home tab."""

from __future__ import annotations

from typing import Any

from bot.lookup import active_projects
from bot.people import user_locale
from bot.roles import current_admins
from bot.services import Services


def home_view(services: Services, *, user_id: str) -> dict[str, Any]:
    """A welcome and the user's own projects with their latest rating, in the viewer's
    language (their Slack locale)."""
    with services.sessions.begin() as session:
        rows = active_projects(
            session,
            actor=user_id,
            admins=current_admins(services),
            pm=user_id,
        )
    locale = user_locale(services.sessions, services.gateway, user_id, now=services.clock())
    return dict(services.renderer.render("home", locale, rows=rows))
