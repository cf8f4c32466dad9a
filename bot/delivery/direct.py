"""A direct message composed for the outbox: in the person's language, and only in their
working hours (else it waits for their next working morning). The one rule every DM's
composer shares (bot.delivery.governance, bot.delivery.watch)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime
from typing import Any

from bot.delivery.outbox import Defer, Outgoing
from bot.periods.hours import is_working_time, next_working_time
from bot.render import as_message
from bot.services import Services
from bot.slack.people import person_zone, user_locale
from storage import users
from storage.records import Calendar


def direct_message(
    services: Services,
    user: str,
    now: datetime,
    calendar: Calendar,
    template: str,
    *,
    holidays: Collection[date] = (),
    **context: Any,
) -> Outgoing | Defer:
    """`template` rendered for `user` (with `tz`, their zone, in its context), once it is
    working time where they are (the portfolio's working week and holidays, and `holidays`)."""
    locale = user_locale(services.sessions, services.gateway, user, now=now)
    with services.sessions.begin() as session:
        cached = users.find_users(session, [user]).get(user)
    zone = person_zone(cached, services.settings.timezone)
    if not is_working_time(now, zone, calendar, holidays):
        return Defer(next_working_time(now, zone, calendar, holidays), "outside working hours")
    rendered = services.renderer.render(template, locale, tz=zone, **context)
    return Outgoing(
        [as_message(rendered)], user=user, channel=cached.dm_channel if cached else None
    )
