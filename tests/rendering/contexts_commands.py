"""Contexts for the `/pmo subscribe` and `/pmo unsubscribe` answers (and `/pmo help` with the
installed languages), merged into tests/rendering/test_render.py's checks: every template, in every
language folder, is rendered with each context below and checked for escaping and Slack limits.
French templates share their English names, so test_render.py's contexts cover them too; the
extra contexts here exercise the branches the French wording adds."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.delivery.composers import FailureLine
from bot.slash.subscriptions import OPTIONS, Problem
from storage.records import DEFAULT_DIGEST_SCHEDULE
from tests import factories

PARIS = ZoneInfo("Europe/Paris")
MAX_KEYS = tuple(f"K{i:03d}-" + "X" * 14 for i in range(200))  # 200 keys of 20 characters


def contexts(text: str) -> dict[str, list[dict[str, Any]]]:
    key = text.strip()[:20] or "ATLAS"
    tags = tuple(f"{text[:45]}{i}" for i in range(60))  # 60 tags of up to 50 characters
    hostile_sub = factories.subscription(
        channel=text[:32],
        schedule=text,  # checked as an RRULE in real life; shown clipped in any case
        timezone="Europe/Paris",
        language="fr",
        mention_pms=False,
        portfolio=text[:100],
        tags=tags,
        keys=MAX_KEYS,
        deciders=tuple(f"U0DECIDER{i:02d}" for i in range(30)),  # more than the answer names
    )
    plain_sub = factories.subscription(schedule=DEFAULT_DIGEST_SCHEDULE)
    subscribed = {
        "subscription": hostile_sub,
        "created": True,
        "tz_name": "Europe/Paris",
        "language_name": text[:100],
        "first_at": datetime(2026, 11, 13, 16, 0, tzinfo=PARIS),
        "next_at": datetime(2026, 11, 20, 16, 0, tzinfo=PARIS),
        "covered": 1234,
    }
    every_problem = [
        Problem("quotes"),
        Problem("not_a_channel", text),
        Problem("not_an_option", text),
        Problem("unknown_option", f"{text}=1", text),
        Problem("repeated", f"timezone={text}", "timezone"),
        Problem("invalid", f"schedule={text}", "schedule", detail=f"{text!r}: not a valid RRULE"),
        Problem("invalid", f"timezone={text}", "timezone", detail="not an IANA timezone"),
        Problem("invalid", f"language={text}", "language", detail="not one of en, fr"),
        Problem("invalid", f"mention={text}", "mention_pms", detail="must be true or false"),
        Problem("invalid", f"portfolio={text}", "portfolio", detail="at most 100 characters"),
        Problem("invalid", f"tags={text}", "tags", bad=(text,) * 12),
        Problem("invalid", f"keys={text}", "keys", bad=(text,)),
        Problem("invalid", f"deciders={text}", "deciders", bad=(text,) * 3),
        Problem("unknown_key", option="keys", bad=MAX_KEYS),
        Problem("unknown_key", option="keys", bad=(key,)),
    ]
    problems = {
        "verb": "subscribe",
        "options": sorted(OPTIONS),
        "languages": ["en", "fr", text[:2]],
    }
    return {
        "subscribed": [
            subscribed,
            {
                **subscribed,
                "subscription": plain_sub,
                "created": False,
                "tz_name": "UTC",
                "language_name": "English",
                "first_at": None,
                "next_at": None,
                "covered": 0,
            },
            {
                **subscribed,
                "subscription": factories.subscription(portfolio=text[:100]),
                "covered": 1,
            },
            {**subscribed, "subscription": factories.subscription(keys=(key,), tags=("x",))},
        ],
        "subscribe_problems": [
            {**problems, "problems": every_problem},
            {**problems, "problems": every_problem * 3},  # more than are shown
            {**problems, "problems": every_problem[:1]},
            {
                "verb": "unsubscribe",
                "problems": [Problem("no_options", text)],
                "options": [],
                "languages": [],
            },
        ],
        "subscription_denied": [
            {"verb": "subscribe", "admins": ["U0ADMIN001", text[:30]], "more": False},
            {"verb": "unsubscribe", "admins": [f"U0ADMIN{i:03d}" for i in range(10)], "more": True},
            {"verb": "subscribe", "admins": ["U0ADMIN001"], "more": False},
            {"verb": "unsubscribe", "admins": [], "more": False},
        ],
        "unsubscribed": [
            {"removed": True},
            {"removed": False},
        ],
        "help": [
            {"unknown": text, "languages": ["de", "en", "fr"], "staged": True},
            {"unknown": None, "languages": ["en"], "staged": False},
        ],
        # Branches the French wording adds: a period with no end, three periods, one failure.
        "prompt": [
            {
                "project": factories.project(key=key, name=text[:200]),
                "period_start": date(2026, 11, 19),
                "period_end": None,
                "delivery_id": 7,
                "action_id": "open_report",
            }
        ],
        "escalation": [
            {
                "project": factories.project(key=key, name=text[:200]),
                "periods": [date(2026, 10, 29), date(2026, 11, 5), date(2026, 11, 12)],
            }
        ],
        "failure_summary": [
            {
                "failures": [FailureLine("escalation", key, text[:2000])],
                "since": datetime(2026, 11, 19, 9, 0, tzinfo=UTC),
            },
            {
                # labels are keys or Slack ids; a kind the catalogue does not name yet
                "failures": [FailureLine("failure_summary", key, text[:2000])] * 8
                + [FailureLine("some_new_kind", key, text[:2000])] * 8,
                "since": datetime(2026, 11, 19, 9, 0, tzinfo=UTC),
            },
        ],
    }
