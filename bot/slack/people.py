"""What we know of the people we write to: timezone, locale, name, DM channel (cached).

The timezone a person is addressed in is `person_zone`: their Slack timezone (`users.info` →
`tz`, cached for a day), or PMO_TIMEZONE when Slack does not say or names a zone we do not
know. Prompts, periods, reminders, lookups and the digest all ask it.

A lookup made while a person waits (the locale of whoever clicked or typed, inside a Bolt
listener, which runs in `bot.slack.pacing.person_waiting()`) goes in that person's lane: it is
not queued behind a fan-out's lookups (see bot/slack/pacing.py).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from bot.languages import DEFAULT_LANGUAGE
from bot.slack.access import is_refusal
from bot.slack.gateway import SlackError, SlackGateway, UserProfile
from bot.slack.user_ids import is_user_id
from bot.timezones import zone
from storage import coordination, users
from storage.records import SlackUser

log = logging.getLogger(__name__)
PROFILE_TTL = timedelta(hours=24)
# Past this many profiles to refresh, one paginated users.list (Tier 2, 200 a page) is cheaper
# than a users.info (Tier 4) each: 5,000 PMs are 25 calls instead of 5,000.
BULK_REFRESH_AT = 40
LISTING = "users.list"  # the lease on listing users for every replica
LISTING_LEASE = timedelta(minutes=2)  # renewed after each page (one every 3 s at Tier 2)


@dataclass(frozen=True, slots=True)
class UserListing:
    """Who lists Slack's users for everyone: one replica at a time holds the lease `users.list`
    (renewed after each page, handed back at the end), so three replicas starting cold page
    through users.list once, not three times into its limit of 20 calls a minute."""

    sessions: sessionmaker[Session]
    holder: str  # this replica (Services.replica)
    clock: Callable[[], datetime]  # the process's time (a lease is about who is alive)

    def take(self) -> bool:
        with self.sessions.begin() as session:
            return coordination.take_lease(
                session, LISTING, self.holder, now=self.clock(), lease_for=LISTING_LEASE
            )

    def renew(self) -> None:
        self.take()

    def release(self) -> None:
        with self.sessions.begin() as session:
            coordination.release_lease(session, LISTING, self.holder)


@dataclass(frozen=True, slots=True)
class Profiles:
    known: dict[str, SlackUser]  # cached or just fetched
    # Users not known yet whom another replica is listing right now: their profiles (their
    # timezone) come with its list; a planner waits for them rather than guess.
    pending: frozenset[str] = frozenset()


def refresh_profiles(
    sessions: sessionmaker[Session],
    gateway: SlackGateway,
    user_ids: Collection[str],
    *,
    now: datetime,
) -> dict[str, SlackUser]:
    """Every user's cached profile, asking Slack (users.info) only for those unknown or older
    than a day. A user Slack cannot describe keeps the old entry, or none (default timezone);
    so does everyone when Slack refuses the bot token (a person waiting for an answer still
    gets one, from the cache)."""
    return gather_profiles(sessions, gateway, user_ids, now=now).known


def stale_managers(session: Session, *, now: datetime) -> list[str]:
    """The managers of active projects whose cached profile is missing or older than
    PROFILE_TTL at `now`: whom a tick refreshes, whatever is due."""
    return users.managers_fetched_before(session, now - PROFILE_TTL)


def gather_profiles(
    sessions: sessionmaker[Session],
    gateway: SlackGateway,
    user_ids: Collection[str],
    *,
    now: datetime,
    listing: UserListing | None = None,
    raise_refusal: bool = False,
) -> Profiles:
    """`refresh_profiles` for many users: past BULK_REFRESH_AT stale ones, one users.list,
    made by the replica that holds the `listing` lease. When another replica holds it, no
    call is made: the cached profiles are used as they are, and the users not cached at all
    are `pending`."""
    with sessions.begin() as session:
        cached = users.find_users(session, user_ids)
    stale = sorted(
        u for u in user_ids if u not in cached or now - cached[u].fetched_at >= PROFILE_TTL
    )
    if not stale:
        return Profiles(cached)
    bulk = len(stale) >= BULK_REFRESH_AT
    if bulk and listing is not None and not listing.take():
        pending = frozenset(u for u in stale if u not in cached)
        log.info("another replica is listing users: %d unknown users wait", len(pending))
        return Profiles(cached, pending)
    try:
        fresh = _fetch(
            sessions,
            gateway,
            stale,
            cached,
            bulk=bulk,
            listing=listing,
            now=now,
            raise_refusal=raise_refusal,
        )
    finally:
        if bulk and listing is not None:
            listing.release()
    cached.update(fresh)
    return Profiles(cached)


def _fetch(
    sessions: sessionmaker[Session],
    gateway: SlackGateway,
    stale: list[str],
    cached: dict[str, SlackUser],
    *,
    bulk: bool,
    listing: UserListing | None,
    now: datetime,
    raise_refusal: bool = False,
) -> dict[str, SlackUser]:
    """Ask Slack for the `stale` profiles (one users.list when `bulk`, else or then a
    users.info each) and cache what it says. When Slack refuses the bot token, no more is
    asked: the refusal is raised with `raise_refusal` (planning pauses, bot.slack.access),
    else what was fetched so far is kept."""
    fetched: dict[str, UserProfile] = {}
    if bulk:
        try:
            wanted = set(stale)
            renew = listing.renew if listing is not None else None
            fetched = {p.user_id: p for p in gateway.list_users(renew) if p.user_id in wanted}
        except SlackError as exc:
            if is_refusal(exc) and raise_refusal:  # so would every users.info be
                raise
            log.warning("users.list failed: %s; asking for each user instead", exc.code)
    for user_id in stale:
        if user_id in fetched:
            continue
        try:
            fetched[user_id] = gateway.lookup_user(user_id)
        except SlackError as exc:
            if is_refusal(exc):
                if raise_refusal:
                    raise
                log.warning("users.info refused: %s; the cached profiles are used", exc.code)
                break
            log.warning("users.info failed for %s: %s", user_id, exc.code)
    fresh = {
        user_id: SlackUser(
            user_id=user_id,
            tz=profile.tz,
            locale=profile.locale,
            name=profile.name,
            dm_channel=cached[user_id].dm_channel if user_id in cached else None,
            fetched_at=now,
        )
        for user_id, profile in fetched.items()
    }
    with sessions.begin() as session:
        users.save_users(session, list(fresh.values()))
    return fresh


_AWAY_EMOJI = {
    ":palm_tree:",
    ":desert_island:",
    ":beach_with_umbrella:",
    ":airplane:",
    ":face_with_thermometer:",
    ":thermometer:",
    ":mask:",
    ":baby:",
}
_AWAY_WORDS = re.compile(
    r"\b(ooo|out of (the )?office|on leave|annual leave|parental leave|sick|vacation|vacances|"
    r"holidays?|pto|away until|back on|off until|congés?|absent)\b",
    re.IGNORECASE,
)


def is_out_of_office(profile: UserProfile, *, now: datetime) -> bool:
    """Whether the user's Slack status says they are away (an expired status does not count)."""
    if profile.status_expiration and profile.status_expiration <= now.timestamp():
        return False
    return profile.status_emoji in _AWAY_EMOJI or bool(_AWAY_WORDS.search(profile.status_text))


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


def send_dm(
    sessions: sessionmaker[Session],
    gateway: SlackGateway,
    user_id: str,
    *,
    text: str,
    blocks: list[dict[str, Any]],
    now: datetime,
) -> None:
    """Post a message in the user's DM with the bot (opened once, then cached); SlackError
    when Slack refuses."""
    with sessions.begin() as session:
        cached = users.find_users(session, [user_id]).get(user_id)
    channel = dm_channel(sessions, gateway, cached, user_id, now=now)
    gateway.post_message(channel=channel, text=text, blocks=blocks)


def remember_dm(
    sessions: sessionmaker[Session], user_id: str, channel: str, *, now: datetime
) -> None:
    """Cache the DM channel Slack reported for a user."""
    with sessions.begin() as session:
        users.set_dm_channel(session, user_id, channel, stale_since=now - PROFILE_TTL)


def user_locale(
    sessions: sessionmaker[Session],
    gateway: SlackGateway,
    user_id: str,
    *,
    now: datetime,
) -> str:
    """The user's Slack locale ("fr-FR"), to address them in their language: from the cache,
    asking Slack (users.info) only when the user is unknown or their entry is older than a day,
    and caching the answer. English when Slack cannot say."""
    if not user_id:
        return DEFAULT_LANGUAGE
    profile = refresh_profiles(sessions, gateway, [user_id], now=now).get(user_id)
    return (profile.locale if profile is not None else None) or DEFAULT_LANGUAGE


def known_names(session: Session, people: Iterable[str | None]) -> dict[str, str]:
    """The cached Slack display names of the users among `people` (texts are skipped)."""
    wanted = {p for p in people if is_user_id(p)}
    return {uid: u.name for uid, u in users.find_users(session, wanted).items() if u.name}


def person_zone(profile: SlackUser | None, default: ZoneInfo) -> ZoneInfo:
    """The timezone a person is addressed in: their cached Slack timezone, else `default`."""
    return zone(profile.tz if profile is not None else None, default)


def user_zone(sessions: sessionmaker[Session], user_id: str, default: ZoneInfo) -> ZoneInfo:
    """`person_zone` of one user, from the cache: the zone dates are written in for them."""
    with sessions.begin() as session:
        return person_zone(users.find_users(session, [user_id]).get(user_id), default)


def cached_zones(
    session: Session, people: Collection[str], default: ZoneInfo
) -> dict[str, ZoneInfo]:
    """`person_zone` of each of `people`, from the cache (one statement; no call to Slack)."""
    cached = users.find_users(session, people)
    return {uid: person_zone(cached.get(uid), default) for uid in people}
