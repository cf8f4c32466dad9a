"""`pmo-bot digest preview`: what each subscription's digest would post, printed, not posted.

For each subscription (or the one of `--channel`), the digest a tick at `--at` (default: now)
would send: that of the latest occurrence of its schedule, compared with the digest last posted
before it, rendered exactly as the sender renders it. Needs the database, not Slack.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TextIO

from sqlalchemy import Engine

from bot.cli.arguments import UsageError, parse_at
from bot.cli.textview import DEFAULT_WIDTH, RULE, messages_to_text
from bot.config import Settings
from bot.digest.load import build_digest
from bot.digest.messages import digest_messages
from bot.digest.model import Digest
from bot.digest.selection import digest_zone
from bot.digest.summary import find_previous_summary
from bot.overview.standings import held_periods
from bot.periods import cadence
from bot.render import Message, Renderer
from storage import portfolio
from storage.db import check_schema, make_sessionmaker

FORMATS = ("text", "json")


@dataclass(frozen=True, slots=True)
class Preview:
    digest: Digest
    messages: list[Message]  # the first in the channel, the others in its thread


def preview_digests(
    engine: Engine,
    settings: Settings,
    *,
    channel: str | None,
    at: str | None,
    fmt: str,
    out: TextIO,
    now: datetime,
) -> int:
    """Print the digests (`fmt` text or json); a bad `--at` or an unknown channel is a
    UsageError."""
    moment = parse_at(at, settings) if at is not None else now
    check_schema(engine)
    renderer = Renderer(settings.templates_dir)
    renderer.check_all()
    previews = [
        Preview(digest, digest_messages(renderer, digest))
        for digest in _digests(engine, settings, channel=channel, moment=moment)
    ]
    if fmt == "json":
        out.write(json.dumps([_as_json(p) for p in previews], ensure_ascii=False, indent=2) + "\n")
    else:
        out.write(_as_text(previews, dim=out.isatty()))
    return 0


def _digests(
    engine: Engine, settings: Settings, *, channel: str | None, moment: datetime
) -> list[Digest]:
    with make_sessionmaker(engine).begin() as session:
        subscriptions = portfolio.list_subscriptions(session)
        if channel is not None:
            subscriptions = [s for s in subscriptions if s.channel == channel]
            if not subscriptions:
                raise UsageError(
                    f"--channel {channel}: no digest goes to that channel "
                    "(see `digests:` in the portfolio file)"
                )
        if not subscriptions:
            raise UsageError(
                "no digest to preview: list its channel under `digests:` in the portfolio file "
                "and `pmo-bot import` it"
            )
        digests = []
        for subscription in subscriptions:  # a few subscriptions, each its own digest
            tz = digest_zone(subscription, settings.timezone)
            occurrence = cadence.latest_occurrence(subscription.schedule, tz, at=moment) or moment
            previous = find_previous_summary(session, subscription, before=occurrence)
            digests.append(
                build_digest(
                    session,
                    subscription,
                    at=occurrence,
                    default_tz=settings.timezone,
                    previous=previous,
                    chart=False,  # the chart is uploaded beside the messages: not shown here
                    deep=True,  # but the messages are exactly those posted
                    periods=held_periods(session, at=occurrence, default=settings.timezone),
                )
            )
        return digests


def _as_json(preview: Preview) -> dict[str, Any]:
    digest = preview.digest
    first, *thread = preview.messages
    return {
        "channel": digest.subscription.channel,
        "occurrence": digest.at.isoformat(),
        "language": digest.subscription.language,
        "message": {"text": first.text, "blocks": first.blocks},
        "thread": [{"text": m.text, "blocks": m.blocks} for m in thread],
    }


def _as_text(previews: Sequence[Preview], *, dim: bool) -> str:
    parts: list[str] = []
    for preview in previews:
        digest = preview.digest
        local = digest.at.astimezone(digest.tz)
        replies = len(preview.messages) - 1
        if parts:
            parts.append(RULE * DEFAULT_WIDTH)
        parts += [
            f"Digest for {digest.subscription.channel} of {local:%a} {local.day} {local:%b %Y} "
            f"at {local:%H:%M} ({digest.tz}, {digest.subscription.language}): one message in "
            f"the channel and {replies} in its thread. Not posted.",
            "",
            messages_to_text(preview.messages, names=digest.people, dim=dim),
            "",
        ]
    return "\n".join(parts)
