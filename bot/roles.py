"""Who is a PMO admin right now: PMO_ADMINS, plus those granted with `/pmo admin add`.

Read from the database on every check (one small query), so a grant takes effect at once in
every replica. Every rule of bot/permissions.py takes this set.
"""

from __future__ import annotations

from bot.services import Services
from storage import audit


def current_admins(services: Services) -> frozenset[str]:
    with services.sessions.begin() as session:
        return services.settings.admins | audit.granted_admins(session)
