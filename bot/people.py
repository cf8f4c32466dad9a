"""What we know of the people we write to: timezone, locale, name, DM channel (cached)."""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from bot.gateway import SlackError, SlackGateway
from storage import users
from storage.records import SlackUser

log = logging.getLogger(__name__)
PROFILE_TTL = timedelta(hours=24)


def refresh_profiles(
    sessions: sessionmaker[Session],
    gateway: SlackGateway,
    user_ids: Collection[str],
    *,
    now: datetime,
) -> dict[str, SlackUser]:
    """Every user's cached profile, asking Slack (users.info) only for those unknown or older
    than a day. A user Slack cannot describe keeps the old entry, or none (default timezone)."""
    with sessions.begin() as session:
        cached = users.find_users(session, user_ids)
    for user_id in sorted(user_ids):
        known = cached.get(user_id)
        if known is not None and now - known.fetched_at < PROFILE_TTL:
            continue
        try:
            profile = gateway.lookup_user(user_id)
        except SlackError as exc:
            log.warning("users.info failed for %s: %s", user_id, exc.code)
            continue
        fresh = SlackUser(
            user_id=user_id,
            tz=profile.tz,
            locale=profile.locale,
            name=profile.name,
            dm_channel=known.dm_channel if known else None,
            fetched_at=now,
        )
        with sessions.begin() as session:
            users.save_user(session, fresh)
        cached[user_id] = fresh
    return cached


def dm_channel(
    sessions: sessionmaker[Session],
    gateway: SlackGateway,
    user: SlackUser | None,
    user_id: str,
    *,
    now: datetime,
) -> str:
    """The user's DM channel id, opened once (conversations.open) and then cached."""
    if user is not None and user.dm_channel:
        return user.dm_channel
    channel = gateway.open_dm(user_id)
    with sessions.begin() as session:
        users.save_user(
            session,
            SlackUser(
                user_id=user_id,
                tz=user.tz if user else None,
                locale=user.locale if user else None,
                name=user.name if user else None,
                dm_channel=channel,
                fetched_at=user.fetched_at if user else now - PROFILE_TTL,
            ),
        )
    return channel
