"""One scheduler cycle: send every prompt and digest due at `now`, each at most once.

For each kind: compute the current occurrence of every schedule, claim the ones not yet
claimed (an INSERT the unique constraint lets through once, committed before anything is sent),
then send what this call claimed and record the outcome. An occurrence missed while the bot was
down is still due while its period lasts, because the current period is computed at `now`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from bot import cadence, ids
from bot.digest import build_digest, digest_messages
from bot.gateway import Posted, SlackError, SlackGateway
from bot.people import dm_channel, refresh_profiles
from bot.render import Message, as_message
from bot.services import Services
from storage import deliveries, portfolio
from storage.deliveries import Claim
from storage.records import Delivery, DeliveryKind, Project, ProjectState

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TickResult:
    at: datetime
    prompts_sent: int
    digests_sent: int
    failures: tuple[str, ...]


def tick(services: Services, *, now: datetime) -> TickResult:
    """Run one cycle as if the time were `now` (aware)."""
    prompts, prompt_failures = _send_prompts(services, now)
    digests, digest_failures = _send_digests(services, now)
    return TickResult(now, prompts, digests, prompt_failures + digest_failures)


def _claim(
    services: Services, kind: DeliveryKind, claims: list[Claim], now: datetime
) -> list[Delivery]:
    if not claims:
        return []
    with services.sessions.begin() as session:
        seen = deliveries.existing_targets(session, kind, since=min(c.occurrence for c in claims))
        return deliveries.claim(
            session, [c for c in claims if (c.target, c.occurrence) not in seen], now=now
        )


def _record(
    services: Services, delivery: Delivery, posted: Posted | None, error: str | None, now: datetime
) -> None:
    with services.sessions.begin() as session:
        if posted is not None:
            deliveries.mark_sent(
                session, delivery.id, channel=posted.channel, ts=posted.ts, now=now
            )
        else:
            deliveries.mark_failed(session, delivery.id, error=error or "unknown error")


def _send_prompts(services: Services, now: datetime) -> tuple[int, tuple[str, ...]]:
    settings = services.settings
    with services.sessions.begin() as session:
        projects = portfolio.list_projects(session, states=[ProjectState.ACTIVE])
    if not projects:
        return 0, ()
    profiles = refresh_profiles(
        services.sessions, services.gateway, {p.pm for p in projects}, now=now
    )
    claims = []
    for project in projects:
        profile = profiles.get(project.pm)
        tz = cadence.zone(profile.tz if profile else None, settings.timezone)
        start = cadence.latest_occurrence(project.cadence, tz, at=now, anchor=project.start)
        if start is not None:
            claims.append(Claim(DeliveryKind.PROMPT, f"project:{project.id}", start, project.id))
    by_id = {p.id: p for p in projects}
    sent, failures = 0, []
    for delivery in _claim(services, DeliveryKind.PROMPT, claims, now):
        project = by_id[delivery.project_id or 0]
        try:
            profile = profiles.get(project.pm)
            channel = dm_channel(services.sessions, services.gateway, profile, project.pm, now=now)
            message = _prompt_message(
                services,
                project,
                delivery,
                profile.tz if profile else None,
                profile.locale if profile else None,
            )
            posted = services.gateway.post_message(
                channel=channel, text=message.text, blocks=message.blocks
            )
        except SlackError as exc:
            log.warning("prompt for %s failed: %s", project.key, exc)
            failures.append(f"prompt {project.key}: {exc.code}")
            _record(services, delivery, None, f"{exc.method}: {exc.code}", now)
            continue
        _record(services, delivery, posted, None, now)
        sent += 1
    return sent, tuple(failures)


def _prompt_message(
    services: Services,
    project: Project,
    delivery: Delivery,
    tz_name: str | None,
    locale: str | None,
) -> Message:
    tz = cadence.zone(tz_name, services.settings.timezone)
    end = cadence.next_occurrence(
        project.cadence, tz, after=delivery.occurrence, anchor=project.start
    )
    rendered = services.renderer.render(
        "prompt",
        (locale or "en")[:2],
        project=project,
        period_start=delivery.occurrence.astimezone(tz).date(),
        period_end=end.astimezone(tz).date() if end else None,
        delivery_id=delivery.id,
        action_id=ids.OPEN_REPORT,
    )
    return as_message(rendered)


def _send_digests(services: Services, now: datetime) -> tuple[int, tuple[str, ...]]:
    with services.sessions.begin() as session:
        subscriptions = portfolio.list_subscriptions(session)
    claims = []
    for sub in subscriptions:
        tz = cadence.zone(sub.timezone, services.settings.timezone)
        start = cadence.latest_occurrence(sub.schedule, tz, at=now)
        if start is not None:
            claims.append(
                Claim(DeliveryKind.DIGEST, f"channel:{sub.channel}", start, subscription_id=sub.id)
            )
    by_id = {s.id: s for s in subscriptions}
    sent, failures = 0, []
    for delivery in _claim(services, DeliveryKind.DIGEST, claims, now):
        subscription = by_id[delivery.subscription_id or 0]
        with services.sessions.begin() as session:
            digest = build_digest(
                session, subscription, at=delivery.occurrence, default_tz=services.settings.timezone
            )
        try:
            posted = post_messages(
                services.gateway, subscription.channel, digest_messages(services.renderer, digest)
            )
        except SlackError as exc:
            log.warning("digest for %s failed: %s", subscription.channel, exc)
            failures.append(f"digest {subscription.channel}: {exc.code}")
            _record(services, delivery, None, f"{exc.method}: {exc.code}", now)
            continue
        _record(services, delivery, posted, None, now)
        sent += 1
    return sent, tuple(failures)


def post_messages(gateway: SlackGateway, channel: str, messages: list[Message]) -> Posted:
    """Post the first message in the channel and the rest as replies in its thread."""
    first = gateway.post_message(channel=channel, text=messages[0].text, blocks=messages[0].blocks)
    for message in messages[1:]:
        gateway.post_message(
            channel=first.channel, text=message.text, blocks=message.blocks, thread_ts=first.ts
        )
    return first
