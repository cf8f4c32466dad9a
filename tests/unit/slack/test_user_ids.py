"""A Slack user id, a mention, a person named by a record, and the zone a person is addressed
in: the rules every surface asks (bot/slack/user_ids.py, bot/slack/people.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.slack.people import person_zone
from bot.slack.user_ids import Person, is_user_id, mentioned_user, person, user_id_or_none
from storage.records import SlackUser

PARIS = ZoneInfo("Europe/Paris")


@pytest.mark.parametrize(
    ("value", "is_id"),
    [
        ("U012ABCDEF", True),
        ("W012ABCDEF", True),  # Enterprise Grid
        ("U0A", True),
        ("u012abcdef", False),  # ids are upper case
        ("C0LEADERS", False),  # a channel
        ("U0", False),
        ("U" + "A" * 31, False),
        ("U012ABCDEF ", False),
        ("<@U012ABCDEF>", False),  # a mention is not an id
        ("Finance team", False),  # a name typed as text
        ("", False),
        (None, False),
    ],
)
def test_a_slack_user_id(value: str | None, is_id: bool) -> None:
    assert is_user_id(value) is is_id
    assert user_id_or_none(value) == (value if is_id else None)


@pytest.mark.parametrize(
    ("typed", "user"),
    [
        ("<@U012ABCDEF|jane>", "U012ABCDEF"),  # as Slack sends a mention in a command
        ("<@U012ABCDEF>", "U012ABCDEF"),
        (" U012ABCDEF ", "U012ABCDEF"),
        ("@jane", None),
        ("<@C0LEADERS>", None),
        ("<!channel>", None),
    ],
)
def test_the_user_a_command_names(typed: str, user: str | None) -> None:
    assert mentioned_user(typed) == user


def test_a_record_names_a_user_or_a_text() -> None:
    names = {"U012ABCDEF": "Jane Doe"}
    assert person("U012ABCDEF", names) == Person("U012ABCDEF", "Jane Doe")
    assert person("U0UNKNOWN1", names) == Person("U0UNKNOWN1", None)
    assert person("Finance team", names) == Person(None, "Finance team")
    assert person(None, names) is None and person("", names) is None


@pytest.mark.parametrize(
    ("tz", "expected"),
    [
        ("America/New_York", ZoneInfo("America/New_York")),
        (None, PARIS),  # Slack did not say
        ("", PARIS),
        ("Mars/Olympus_Mons", PARIS),  # a zone we do not know
    ],
)
def test_a_person_is_addressed_in_their_slack_timezone_else_the_default(
    tz: str | None, expected: ZoneInfo
) -> None:
    fetched = datetime(2026, 11, 16, tzinfo=UTC)
    assert person_zone(SlackUser("U012ABCDEF", tz, None, None, None, fetched), PARIS) == expected
    assert person_zone(None, PARIS) == PARIS  # not cached
