"""`/pmo subscribe [name=value …]` and `/pmo unsubscribe`: the digest subscription of the
channel where they are typed, for PMO admins only. Options follow the portfolio file's
`digests` entries and are checked by the same functions (`bot.portfolio.file.DIGEST_FIELDS`),
so a subscription made in Slack is exactly one the file could have made.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from sqlalchemy.exc import IntegrityError

from bot.access.admins import is_admin
from bot.digest.selection import covers, digest_zone, still_due
from bot.languages import DEFAULT_LANGUAGE
from bot.periods import cadence
from bot.portfolio.file import DIGEST_FIELDS
from bot.render import available_languages
from bot.services import Services
from bot.slack.user_ids import mentioned_user
from bot.slash.request import Request, Result
from bot.slash.words import slack_unescape, split_words
from storage import deliveries, portfolio
from storage.records import (
    DEFAULT_DIGEST_GRACE_HOURS,
    DEFAULT_DIGEST_SCHEDULE,
    OPEN_STATES,
    DeliveryKind,
    Subscription,
    SubscriptionSpec,
)

MAX_LISTED = 675  # 45 sections of 15 lines: the list stays inside Slack's 50 blocks

# What an admin types → the subscription field it sets (the portfolio file's name).
OPTIONS: dict[str, str] = {
    "schedule": "schedule",
    "timezone": "timezone",
    "language": "language",
    "mention": "mention_pms",
    "mention_pms": "mention_pms",
    "portfolio": "portfolio",
    "tags": "tags",
    "keys": "keys",
    "grace": "grace_hours",
    "grace_hours": "grace_hours",
    "deciders": "deciders",
}
# An empty value (`portfolio=`) puts an option back to the portfolio file's default.
DEFAULTS: dict[str, Any] = {
    "schedule": DEFAULT_DIGEST_SCHEDULE,
    "timezone": None,
    "language": DEFAULT_LANGUAGE,
    "mention_pms": True,
    "portfolio": None,
    "tags": (),
    "keys": (),
    "grace_hours": DEFAULT_DIGEST_GRACE_HOURS,
    "deciders": (),
}
# `mention=on|off` (or yes/no), as well as the file's true/false.
_SWITCH = {"on": "true", "yes": "true", "off": "false", "no": "false"}
# Double quotes group a value that has spaces; Slack clients may turn " into typographic ones.
_QUOTES = frozenset('"“”„‟«»')


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong in a `/pmo subscribe` (or `unsubscribe`) command; `code` is one of
    not_an_option, unknown_option, repeated, invalid, unknown_key, quotes, not_a_channel,
    no_options."""

    code: str
    word: str = ""  # what was typed, as typed
    option: str = ""  # the subscription field concerned (schedule, timezone, …)
    bad: tuple[str, ...] = ()  # the items of a list option that are not valid
    detail: str = ""  # the portfolio file's own explanation (for a schedule: why the RRULE fails)


def answer_subscription(request: Request) -> Result:
    services, admins = request.services, request.admins
    if not is_admin(request.user_id, admins):
        return request.render(
            "subscription_denied",
            verb=request.verb,
            admins=sorted(admins)[:10],
            more=len(admins) > 10,
        )
    if request.verb == "subscribe":
        return subscribe(
            services,
            request.render,
            channel=request.channel_id,
            text=request.text,
            language=request.language,
        )
    return unsubscribe(services, request.render, channel=request.channel_id, text=request.text)


def _items(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _check(field: str, value: str, languages: Collection[str]) -> Any:
    """The value of one option, checked by the portfolio file's own rule (ValueError if bad).
    A language is also accepted when a custom templates folder adds it."""
    check = DIGEST_FIELDS[field][1]
    if field == "mention_pms":
        return check(_SWITCH.get(value.lower(), value))
    if field == "language":
        value = value.lower()
        if value in languages:
            return value
    return check(value)


def _check_list(field: str, value: str) -> tuple[tuple[Any, ...], tuple[str, ...]]:
    """A comma-separated list option: its checked items (once each) and the bad ones."""
    check = DIGEST_FIELDS[field][1]
    good: list[Any] = []
    bad: list[str] = []
    for item in _items(value):
        try:
            # a decider is typed as a mention (`@name`, sent as <@U…|name>) or a user id
            checked = check([mentioned_user(item) or item if field == "deciders" else item])[0]
        except ValueError:
            bad.append(item)
            continue
        if checked not in good:
            good.append(checked)
    return tuple(good), tuple(bad)


def parse_options(text: str, languages: Collection[str]) -> tuple[dict[str, Any], list[Problem]]:
    """The options typed after `/pmo subscribe` (`name=value` words) as subscription fields,
    and every problem found (all of them, so the admin fixes the command in one go)."""
    words, closed = split_words(slack_unescape(text))
    problems = [] if closed else [Problem("quotes")]
    values: dict[str, Any] = {}
    for word in words:
        name, sep, raw = word.partition("=")
        field = OPTIONS.get(name.strip().lower())
        if not sep or not name.strip():
            problems.append(Problem("not_an_option", word))
            continue
        if field is None:
            problems.append(Problem("unknown_option", word, name.strip().lower()))
            continue
        if field in values or any(p.option == field and p.code == "invalid" for p in problems):
            problems.append(Problem("repeated", word, field))
            continue
        raw = raw.strip()
        if not raw:
            values[field] = DEFAULTS[field]
        elif field in ("tags", "keys", "deciders"):
            good, bad = _check_list(field, raw)
            if bad:
                problems.append(Problem("invalid", word, field, bad))
            values[field] = good
        else:
            try:
                values[field] = _check(field, raw, languages)
            except ValueError as exc:
                problems.append(Problem("invalid", word, field, detail=str(exc)))
    return values, problems


def _language_name(code: str, language: str) -> str:
    """A language's own name, in the reader's language ("French", "français")."""
    try:
        name = Locale.parse(code).get_display_name(Locale.parse(language))
    except (UnknownLocaleError, ValueError, TypeError):
        return code
    return str(name) if name else code


def _spec(current: Subscription | None, channel: str, values: dict[str, Any]) -> SubscriptionSpec:
    """The subscription after the command: a new one starts from the portfolio file's
    defaults; an existing one keeps every option the command does not name."""
    if current is None:
        base = SubscriptionSpec(channel=channel)
    else:
        base = SubscriptionSpec(
            **{name: getattr(current, name) for name in SubscriptionSpec.__dataclass_fields__}
        )
    return replace(base, **values)


def subscribe(
    services: Services,
    render: Callable[..., dict[str, Any]],
    *,
    channel: str,
    text: str,
    language: str,
) -> dict[str, Any]:
    """Create or update the channel's digest subscription, or list every problem and change
    nothing. The answer says what the channel will get, and when."""
    languages = available_languages(services.settings.templates_dir)
    values, problems = parse_options(text, languages)
    try:
        DIGEST_FIELDS["channel"][1](channel)
    except ValueError:
        problems.insert(0, Problem("not_a_channel", channel))
    with services.sessions.begin() as session:
        known = set(portfolio.list_project_keys(session))
    # As on import: a digest may only name the keys of projects in the portfolio.
    unknown = tuple(key for key in values.get("keys", ()) if key not in known)
    if unknown:
        problems.append(Problem("unknown_key", option="keys", bad=unknown))
    if problems:
        return render(
            "subscribe_problems",
            verb="subscribe",
            problems=problems,
            options=sorted(set(OPTIONS) - {"mention_pms", "grace_hours"}),
            languages=languages,
        )
    now = services.clock()
    for attempt in (1, 2):  # two admins subscribing the same channel at once: one retry
        try:
            with services.sessions.begin() as session:
                current = portfolio.find_subscription(session, channel)
                sub = portfolio.upsert_subscription(
                    session, _spec(current, channel, values), now=now
                )
                projects = portfolio.list_projects(session, states=OPEN_STATES)
                tz = digest_zone(sub, services.settings.timezone)
                latest = cadence.latest_occurrence(sub.schedule, tz, at=now)
                sent = (
                    deliveries.existing_targets(session, DeliveryKind.DIGEST, since=latest)
                    if latest is not None
                    else set()
                )
            break
        except IntegrityError:
            if attempt == 2:
                raise
    upcoming = cadence.next_occurrence(sub.schedule, tz, after=now)
    # The scheduler posts the latest occurrence's digest when this channel has not had it yet
    # (a new channel or a new schedule) and it is still within its grace window: say so,
    # rather than let it surprise the channel.
    first = (
        latest
        if latest is not None
        and (f"channel:{channel}", latest) not in sent
        and still_due(sub, latest, now)
        else None
    )
    return render(
        "subscribed",
        subscription=sub,
        created=current is None,
        tz_name=tz.key,
        language_name=_language_name(sub.language, language),
        first_at=_local(first, tz),
        next_at=_local(upcoming, tz),
        covered=sum(1 for p in projects if covers(sub, p)),
    )


def _local(moment: datetime | None, tz: ZoneInfo) -> datetime | None:
    return moment.astimezone(tz) if moment is not None else None


def unsubscribe(
    services: Services, render: Callable[..., dict[str, Any]], *, channel: str, text: str
) -> dict[str, Any]:
    """Remove the channel's digest subscription (a digest already due is not posted)."""
    if text.strip():  # `unsubscribe C0OTHER` must not quietly unsubscribe this channel
        return render(
            "subscribe_problems",
            verb="unsubscribe",
            problems=[Problem("no_options", slack_unescape(text.strip()))],
            options=[],
            languages=[],
        )
    with services.sessions.begin() as session:
        removed = portfolio.delete_subscription(session, channel)
    return render("unsubscribed", removed=removed)
