"""`/pmo subscribe` and `/pmo unsubscribe` end to end: an admin manages the digest of the
channel the command is typed in; the scheduler then posts (or stops posting) it there.

The shared portfolio has ATLAS (Operations) and BOREAL (Digital), and C0LEADERS subscribed
from the file (Fridays 16:00, Europe/Paris). PMO_ADMINS is ADMIN only.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
from bot.render import Renderer
from storage import portfolio
from storage.records import DEFAULT_DIGEST_SCHEDULE, Subscription
from tests.e2e import conftest
from tests.e2e.conftest import ADMIN, OUTSIDER, Harness, start_harness
from tests.fakes.fake_slack import FakeSlack

pytestmark = pytest.mark.e2e

SUN_15_NOON = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)
MON_16_9_PARIS = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)  # Monday 09:00 in Paris
FRI_20_16_PARIS = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)  # the file's Friday 16:00
MONDAYS = "FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=0"
GERMAN_DIGEST = json.dumps(
    {
        "text": "Portfolio-Bericht vom {{ digest.at | day(digest.tz) }}",
        "blocks": [
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": "{{ words.projects }}: {% for line in digest.missing %}"
                    "{{ line.project.key }} {% endfor %}",
                },
            }
        ],
    },
    ensure_ascii=False,
)


def stored(h: Harness, channel: str) -> Subscription | None:
    with h.services.sessions.begin() as session:
        return portfolio.find_subscription(session, channel)


def subscribe(h: Harness, user: str, channel: str, options: str = "") -> dict[str, Any]:
    before = len(h.fake.responses)
    response = h.driver.command(user, f"subscribe {options}".strip(), channel_id=channel)
    assert response.status == 200, response.body
    assert len(h.fake.responses) == before + 1, "expected exactly one answer"
    return h.last_response()


def unsubscribe(h: Harness, user: str, channel: str, rest: str = "") -> dict[str, Any]:
    before = len(h.fake.responses)
    response = h.driver.command(user, f"unsubscribe {rest}".strip(), channel_id=channel)
    assert response.status == 200, response.body
    assert len(h.fake.responses) == before + 1, "expected exactly one answer"
    return h.last_response()


def texts(answer: dict[str, Any]) -> list[str]:
    found = []
    for block in answer.get("blocks") or []:
        if "text" in block:
            found.append(block["text"]["text"])
        found += [f["text"] for f in block.get("fields", [])]
        found += [e["text"] for e in block.get("elements", []) if "text" in e]
    return found


def digests_in(h: Harness, channel: str) -> list[dict[str, Any]]:
    return [m for m in h.fake.messages(channel) if not m.get("thread_ts")]


# A custom templates folder that adds a language (German) by adding a folder, no code.
@pytest.fixture
def german(
    database_url: str, fake_slack: FakeSlack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Harness]:
    folder = tmp_path / "pmo-templates"
    (folder / "de").mkdir(parents=True)
    (folder / "de" / "digest.json.j2").write_text(GERMAN_DIGEST, encoding="utf-8")
    (folder / "de" / "words.yml").write_text("projects: Projekte\n", encoding="utf-8")
    load = conftest.load_settings

    def with_folder(environ: dict[str, str]) -> Settings:
        return load({**environ, "PMO_TEMPLATES_DIR": str(folder)})

    monkeypatch.setattr(conftest, "load_settings", with_folder)
    monkeypatch.setattr(conftest, "Renderer", lambda: Renderer(folder))
    fake_slack.add_channel("C0DACH", name="dach-leadership")
    running, stop = start_harness(database_url, fake_slack)
    yield running
    stop()


def test_an_admin_subscribes_a_channel_and_the_digest_comes_on_schedule_in_its_language(
    german: Harness,
) -> None:
    h = german
    h.clock.now = SUN_15_NOON
    answer = subscribe(
        h,
        ADMIN,
        "C0DACH",
        f'schedule="{MONDAYS}" timezone=Europe/Paris language=de portfolio=Operations '
        "keys=ATLAS,BOREAL mention=off",
    )
    assert answer["response_type"] == "ephemeral"
    assert answer["text"] == "This channel is subscribed to the portfolio digest"
    said = "\n".join(texts(answer))
    assert "*Next digest*\nMon 16 Nov 2026 at 09:00 (Europe/Paris)" in said
    assert "*Language*\nGerman" in said
    assert "their PM is named, not notified" in said
    assert "*Projects*\nportfolio Operations; keys ATLAS, BOREAL (1 open project today)" in said
    # Last Monday's digest was never posted here, but it is six days old, past its grace
    # window (two hours): stale news, it is not announced and never posted.
    assert "has not been posted here" not in said
    assert "invite me first" in said  # a private channel needs the bot invited
    sub = stored(h, "C0DACH")
    assert sub is not None
    assert (sub.schedule, sub.timezone, sub.language, sub.mention_pms) == (
        MONDAYS,
        "Europe/Paris",
        "de",
        False,
    )
    assert (sub.portfolio, sub.tags, sub.keys) == (
        "Operations",
        (),
        ("ATLAS", "BOREAL"),
    )

    # The next digest is Monday's at 09:00 Paris; then each Monday.
    h.tick(SUN_15_NOON)
    h.tick(datetime(2026, 11, 16, 7, 59, tzinfo=UTC))
    assert digests_in(h, "C0DACH") == []
    assert h.tick(MON_16_9_PARIS).digests_sent == 1
    posted = digests_in(h, "C0DACH")
    assert [m["text"] for m in posted] == ["Portfolio-Bericht vom Mo. 16 Nov. 2026"]
    # The filter: Operations only (ATLAS, which has no report yet), in German.
    assert posted[-1]["blocks"][0]["text"]["text"].strip() == "Projekte: ATLAS"
    assert h.tick(MON_16_9_PARIS).digests_sent == 0  # once per occurrence
    # The file's own subscription is untouched, and still English.
    h.tick(FRI_20_16_PARIS)
    assert len(digests_in(h, "C0DACH")) == 1
    leaders = digests_in(h, "C0LEADERS")
    assert leaders and not any("Portfolio-Bericht" in m["text"] for m in leaders)


def test_a_digest_missed_by_less_than_its_grace_is_announced_and_posted(
    harness: Harness,
) -> None:
    h = harness
    # Friday 20th, 17:30 in Paris: the file's Friday 16:00 digest was never posted here.
    h.clock.now = FRI_20_16_PARIS + timedelta(hours=1, minutes=30)
    answer = subscribe(h, ADMIN, "C0LEADERS", "grace=3")
    said = "\n".join(texts(answer))
    assert "The digest due Fri 20 Nov 2026 at 16:00 has not been posted here" in said
    sub = stored(h, "C0LEADERS")
    assert sub is not None and sub.grace_hours == 3
    assert h.tick(h.clock.now).digests_sent == 1
    # A bad grace is one clear problem, and changes nothing.
    refused = "\n".join(texts(subscribe(h, ADMIN, "C0LEADERS", "grace=a-week")))
    assert "`grace`" in refused and "0 to 168" in refused
    sub = stored(h, "C0LEADERS")
    assert sub is not None and sub.grace_hours == 3


def test_subscribing_again_changes_only_the_options_given(harness: Harness) -> None:
    h = harness
    answer = subscribe(h, ADMIN, "C0LEADERS", "language=fr mention=off")
    assert answer["text"] == "This channel's digest subscription is updated"
    sub = stored(h, "C0LEADERS")
    assert sub is not None
    assert (sub.schedule, sub.timezone, sub.language, sub.mention_pms) == (
        DEFAULT_DIGEST_SCHEDULE,
        "Europe/Paris",  # from the file, kept
        "fr",
        False,
    )
    subscribe(h, ADMIN, "C0LEADERS", "mention= portfolio=Digital")
    sub = stored(h, "C0LEADERS")
    assert sub is not None and (sub.mention_pms, sub.portfolio, sub.language) == (
        True,
        "Digital",
        "fr",
    )
    # Already posted for this occurrence: no catch-up announced. A new channel starts from
    # the defaults (Fridays 16:00, PMO_TIMEZONE, English, mentions on, everything).
    h.tick(FRI_20_16_PARIS)
    h.clock.now = FRI_20_16_PARIS
    again = "\n".join(texts(subscribe(h, ADMIN, "C0LEADERS", "language=fr")))
    assert "has not been posted" not in again
    new = "\n".join(texts(subscribe(h, ADMIN, "C0GENERAL")))
    assert "*Next digest*\nFri 27 Nov 2026 at 16:00 (Europe/Paris)" in new
    assert "*Language*\nEnglish" in new and "the whole portfolio (2 open projects today)" in new
    assert "The digest due Fri 20 Nov 2026 at 16:00 has not been posted here" in new
    general = stored(h, "C0GENERAL")
    assert general is not None
    assert (general.schedule, general.timezone, general.language, general.mention_pms) == (
        DEFAULT_DIGEST_SCHEDULE,
        None,
        "en",
        True,
    )


def test_bad_options_get_one_answer_listing_every_problem_and_nothing_is_stored(
    harness: Harness,
) -> None:
    h = harness
    answer = subscribe(
        h,
        ADMIN,
        "C0GENERAL",
        'schedule="FREQ=HOURLY" timezone=Mars/Olympus language=de mention=maybe '
        "keys=ATLAS,OMEGA colour=red",
    )
    assert answer["response_type"] == "ephemeral"
    assert answer["text"] == "Nothing changed: 6 problems in the command"
    lines = texts(answer)[1:]
    assert len(lines) == 6
    expected = [
        "`schedule=FREQ=HOURLY`: not valid",
        "`timezone=Mars/Olympus`: not valid. `timezone`: the timezone the schedule is read in",
        "`language=de`: not valid. `language`: the digest's language: en, fr",
        "`mention=maybe`: not valid. `mention`: on:",
        "`colour=red`: there is no option `colour`.",
        "`keys`: no project has the key `OMEGA`",
    ]
    for line, start in zip(lines, expected, strict=True):
        assert line.startswith(f"• {start}"), (line, start)
    assert "the shortest cadence is daily" in lines[0]
    assert stored(h, "C0GENERAL") is None
    h.tick(FRI_20_16_PARIS)
    assert digests_in(h, "C0GENERAL") == []

    # A direct message is not a channel that can get a digest.
    dm = h.fake.dm_channel(ADMIN)
    said = texts(subscribe(h, ADMIN, dm))
    assert "Digests go to channels" in said[1]
    assert stored(h, dm) is None


def test_a_french_speaking_admin_is_answered_in_french(
    database_url: str, fake_slack: FakeSlack
) -> None:
    fake_slack.add_user(ADMIN, real_name="Dominique Admin", tz="Europe/Paris", locale="fr-FR")
    h, stop = start_harness(database_url, fake_slack)
    try:
        problems = subscribe(h, ADMIN, "C0GENERAL", "timezone=Lune/Tranquillité tags=")
        assert problems["text"] == "Rien n'a changé : 1 problème dans la commande"
        assert texts(problems)[1].startswith(
            "• `timezone=Lune/Tranquillité` : valeur non valable. `timezone` : le fuseau horaire"
        )
        done = "\n".join(texts(subscribe(h, ADMIN, "C0GENERAL", "language=fr")))
        assert "C'est fait : ce canal est abonné à la synthèse du portefeuille." in done
        assert "*Prochaine synthèse*\nven. 20 nov. 2026 à 16:00 (Europe/Paris)" in done
        assert "*Langue*\nfrançais" in done
        gone = unsubscribe(h, ADMIN, "C0GENERAL")
        assert gone["text"] == "Ce canal ne reçoit plus la synthèse du portefeuille"
    finally:
        stop()


def test_only_admins_may_subscribe_or_unsubscribe_whatever_the_payload_claims(
    harness: Harness,
) -> None:
    h = harness
    before = stored(h, "C0LEADERS")
    for verb in ("subscribe language=fr", "unsubscribe"):
        response = h.driver.command(OUTSIDER, verb, channel_id="C0LEADERS", user_name=ADMIN.lower())
        assert response.status == 200
        answer = h.last_response()
        assert answer["response_type"] == "ephemeral"
        said = texts(answer)[0]
        assert said.startswith(":lock: Sorry, only PMO admins can")
        assert f"Ask <@{ADMIN}>." in said
    assert stored(h, "C0LEADERS") == before
    refused = texts(subscribe(h, OUTSIDER, "C0GENERAL", "language=fr"))[0]
    assert "subscribe a channel to the portfolio digest" in refused
    assert stored(h, "C0GENERAL") is None


def test_unsubscribe_stops_the_digest_and_says_when_there_was_none(harness: Harness) -> None:
    h = harness
    h.tick(FRI_20_16_PARIS)
    assert len(digests_in(h, "C0LEADERS")) == 1

    # `unsubscribe C0OTHER` must not quietly unsubscribe this channel.
    refused = unsubscribe(h, ADMIN, "C0LEADERS", "C0OTHER")
    assert "`/pmo unsubscribe` takes nothing after it" in texts(refused)[1]
    assert stored(h, "C0LEADERS") is not None

    answer = unsubscribe(h, ADMIN, "C0LEADERS")
    assert answer["text"] == "This channel no longer gets the portfolio digest"
    assert "the next `pmo-bot import` subscribes it again" in "\n".join(texts(answer))
    assert stored(h, "C0LEADERS") is None
    for day in (27, 4):
        month = 11 if day == 27 else 12
        h.tick(datetime(2026, month, day, 15, 0, tzinfo=UTC))
    assert len(digests_in(h, "C0LEADERS")) == 1  # nothing after the unsubscribe

    again = unsubscribe(h, ADMIN, "C0LEADERS")
    assert again["text"] == "This channel has no digest subscription"

    # Subscribing again brings it back from the next occurrence on.
    h.clock.now = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
    subscribe(h, ADMIN, "C0LEADERS", "timezone=Europe/Paris")
    h.tick(datetime(2026, 12, 11, 15, 0, tzinfo=UTC))
    assert len(digests_in(h, "C0LEADERS")) == 2
