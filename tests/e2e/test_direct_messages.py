"""Someone writes to the bot in its Messages tab (issue 12, point 8): a signed `message.im`
event, in the shape Slack sends (bolt-python's captured message payload, in a DM), reaches the
real Bolt app over HTTP; the bot answers once, in the writer's language, with their projects and
what they owe. And `/pmo admin add @someone` as Slack really sends it, whichever way the app's
`should_escape` is set. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from storage import audit
from tests.e2e.conftest import ADMIN, OUTSIDER, PM_NEW_YORK, PM_PARIS, Harness

ROOT = Path(__file__).resolve().parents[2]
THU_19_NYC = datetime(2026, 11, 19, 15, 1, tzinfo=UTC)  # both PMs' prompts have gone out


def _written(harness: Harness, user: str, text: str, **extra: Any) -> dict[str, Any]:
    """A message `user` types in the bot's DM, as the Events API delivers it."""
    ts = f"{1_796_000_000 + len(harness.fake.calls)}.000100"
    return {
        "client_msg_id": "a8744611-0210-4f85-9f15-5faf7fb225c8",
        "type": "message",
        "text": text,
        "user": user,
        "ts": ts,
        "team": harness.fake.team_id,
        "blocks": [
            {
                "type": "rich_text",
                "block_id": "ezJ",
                "elements": [
                    {"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}
                ],
            }
        ],
        "channel": harness.fake.dm_channel(user),
        "event_ts": ts,
        "channel_type": "im",
        **extra,
    }


def _bot_replies(harness: Harness, user: str) -> list[dict[str, Any]]:
    prompts = {m["ts"] for m in harness.prompts_to(user)}
    return [m for m in harness.fake.messages(user) if m["ts"] not in prompts]


def test_a_message_to_the_bot_gets_the_writers_projects_and_what_they_owe(
    harness: Harness,
) -> None:
    harness.tick(THU_19_NYC)  # this period's prompts: both PMs owe a report
    assert (
        harness.driver.event(_written(harness, PM_NEW_YORK, "hi, where do I report?")).status == 200
    )
    (reply,) = _bot_replies(harness, PM_NEW_YORK)
    assert reply["thread_ts"] is None or reply["thread_ts"] == reply["ts"]
    assert reply["text"].startswith("I don't read messages here. Your projects: 1, 1 due")
    shown = str(reply["blocks"])
    assert "I don't read what is written here" in shown
    assert "*BOREAL* · Boreal CRM rollout" in shown and "ATLAS" not in shown
    assert "`/pmo report KEY`" in shown and "`/pmo help`" in shown
    assert len(reply["blocks"]) <= 50

    # In French for a French speaker, and in the thread they wrote in (a prompt's).
    (prompt,) = harness.prompts_to(PM_PARIS)
    written = _written(harness, PM_PARIS, "je réponds demain", thread_ts=prompt["ts"])
    assert harness.driver.event(written).status == 200
    (answer,) = harness.fake.thread(PM_PARIS, prompt["ts"])
    assert answer["text"].startswith("Je ne lis pas les messages ici. Vos projets : 1")
    assert "*ATLAS* · Atlas ERP migration" in str(answer["blocks"])

    # Someone with no project is told so, and where to look.
    assert harness.driver.event(_written(harness, OUTSIDER, "hello")).status == 200
    (none,) = _bot_replies(harness, OUTSIDER)
    assert "not the PM or a delegate of any open project" in str(none["blocks"])


def test_only_what_a_person_writes_is_answered_and_only_once(harness: Harness) -> None:
    driver = harness.driver
    ignored = [
        _written(harness, PM_NEW_YORK, "edited", subtype="message_changed"),
        _written(harness, PM_NEW_YORK, "a bot", bot_id="B0OTHER"),
        _written(harness, PM_NEW_YORK, "in a channel", channel_type="channel", channel="C0LEADERS"),
    ]
    for event in ignored:
        assert driver.event(event).status == 200
    first = _written(harness, PM_NEW_YORK, "hello")
    assert driver.event(first, event_id="Ev0DM00001").status == 200
    # Slack's retry of the same event (its first delivery was acked): not answered again.
    assert driver.event(first, event_id="Ev0DM00001", retry_num=1).status == 200
    assert len(_bot_replies(harness, PM_NEW_YORK)) == 1
    assert not harness.fake.messages("C0LEADERS")


def test_admin_add_works_with_mentions_as_slack_escapes_them_and_explains_plain_text(
    harness: Harness,
) -> None:
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text(encoding="utf-8"))
    (pmo,) = manifest["features"]["slash_commands"]
    # Escaped, Slack sends a mention as <@U…|name>: what answer_admin reads.
    assert pmo["should_escape"] is True
    events = manifest["settings"]["event_subscriptions"]["bot_events"]
    assert {"message.im", "app_uninstalled", "tokens_revoked"} <= set(events)
    assert harness.command(ADMIN, "admin add <@U0PMPARIS1|camille>")["text"].startswith("Done")

    # An app made from an older manifest (should_escape: false) gets the text as typed.
    answer = harness.command(ADMIN, "admin add @jordan.lee")
    assert "Slack sent @jordan.lee as plain text" in answer["text"]
    assert "Escape channels, users, and links sent to your app" in str(answer["blocks"])
    assert "`/pmo admin add U0123ABCD`" in str(answer["blocks"])
    with harness.services.sessions.begin() as session:
        assert audit.granted_admins(session) == {PM_PARIS}  # nothing else changed
