"""`/pmo report KEY` and `/pmo remind KEY` end to end, through signed slash commands.

report: the PM, a delegate or an admin get the status modal for the current period, anchored on
the period's prompt (the one planning recorded, or the same one recorded now, so the tick sends
it once). remind: admins and the project's sponsor re-send the prompt to the PM now. Everyone
else is refused politely, and nothing changes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot import ids
from storage import deliveries
from storage.records import Delivery, DeliveryKind
from tests.e2e.conftest import ADMIN, OUTSIDER, PM_NEW_YORK, PM_PARIS, SPONSOR, Harness

pytestmark = pytest.mark.e2e

THU_19_PARIS = datetime(2026, 11, 19, 9, 0, tzinfo=UTC)  # 10:00 in Paris: ATLAS's period begins
GOOD_ANSWER = {
    "overall": "green",
    "schedule": "green",
    "budget": "green",
    "scope": "green",
    "summary": "Cut-over rehearsal done.",
}


def prompts(h: Harness, key_id: int | None = None) -> list[Delivery]:
    with h.services.sessions.begin() as session:
        found = deliveries.list_deliveries(session, kind=DeliveryKind.PROMPT)
    return [d for d in found if key_id is None or d.project_id == key_id]


def report(h: Harness, user: str, text: str) -> dict[str, Any]:
    """Run `/pmo report …` expecting a modal; return it."""
    before = len(h.fake.calls_to("views.open"))
    answers = len(h.fake.responses)
    response = h.driver.command(user, text)
    assert response.status == 200, response.body
    assert len(h.fake.calls_to("views.open")) == before + 1, h.fake.responses[answers:]
    assert len(h.fake.responses) == answers  # the modal is the answer
    return [v for v in h.fake.views if v["method"] == "views.open"][-1]


def test_report_opens_the_modal_on_the_prompt_already_sent(harness: Harness) -> None:
    harness.tick(THU_19_PARIS)
    harness.clock.now = THU_19_PARIS + timedelta(minutes=1)  # the new period has begun
    prompt = harness.prompts_to(PM_PARIS)[-1]
    modal = report(harness, PM_PARIS, "report atlas")
    assert json.loads(modal["private_metadata"]) == {
        "delivery": int(prompt["blocks"][-1]["elements"][0]["value"])
    }
    assert "jeu. 19 nov. 2026" in modal["blocks"][0]["text"]["text"]  # the PM's period, in French
    assert len(prompts(harness)) == 2  # nothing new recorded
    # An admin may report too; the answer republishes the reporter's Home.
    admin_modal = report(harness, ADMIN, "report ATLAS")
    response = harness.driver.submit_view(ADMIN, admin_modal, GOOD_ANSWER)
    assert response.status == 200 and not response.body, response.body
    assert harness.fake.home_view(ADMIN) is not None


def test_report_before_the_tick_records_the_prompt_planning_would_and_it_is_sent_once(
    harness: Harness,
) -> None:
    harness.clock.now = THU_19_PARIS + timedelta(minutes=1)  # the tick has not run yet
    modal = report(harness, PM_PARIS, "report atlas")
    [recorded] = prompts(harness)
    assert recorded.occurrence == THU_19_PARIS
    assert recorded.payload == {"tz": "Europe/Paris"}
    assert json.loads(modal["private_metadata"]) == {"delivery": recorded.id}
    # The tick plans nothing new for ATLAS and sends the recorded prompt, once.
    harness.tick(THU_19_PARIS + timedelta(minutes=2))
    harness.tick(THU_19_PARIS + timedelta(minutes=3))
    assert len(harness.prompts_to(PM_PARIS)) == 1
    assert [p.id for p in prompts(harness) if p.project_id == recorded.project_id] == [recorded.id]


def test_report_is_refused_to_others_and_records_nothing(harness: Harness) -> None:
    harness.clock.now = THU_19_PARIS + timedelta(minutes=1)
    for user in (OUTSIDER, SPONSOR, PM_NEW_YORK):
        answer = harness.command(user, "report atlas")
        assert answer["response_type"] == "ephemeral"
        assert "Only the PM of *ATLAS*" in answer["text"]
    unknown = harness.command(PM_PARIS, "report nosuchthing")
    assert unknown["response_type"] == "ephemeral"
    assert not harness.fake.calls_to("views.open")
    assert prompts(harness) == []


def test_remind_by_an_admin_or_the_sponsor_posts_in_the_prompts_thread(harness: Harness) -> None:
    harness.tick(THU_19_PARIS)
    harness.clock.now = THU_19_PARIS + timedelta(minutes=1)
    prompt = harness.prompts_to(PM_PARIS)[-1]
    answer = harness.command(ADMIN, "remind atlas")
    assert "Reminder sent" in answer["text"] and f"<@{PM_PARIS}>" in answer["text"]
    sponsor = harness.command(SPONSOR, "remind ATLAS")
    assert "Reminder sent" in sponsor["text"]
    replies = harness.fake.thread(prompt["channel"], prompt["ts"])
    assert len(replies) == 2
    button = replies[-1]["blocks"][-1]["elements"][0]
    assert button["action_id"] == ids.OPEN_REPORT and button["value"] != ""
    assert "ATLAS" in replies[-1]["text"]

    # Once the PM has answered, no reminder is needed.
    modal = report(harness, PM_PARIS, "report atlas")
    assert not harness.driver.submit_view(PM_PARIS, modal, GOOD_ANSWER).body
    done = harness.command(ADMIN, "remind atlas")
    assert "already has its status" in done["text"]
    assert len(harness.fake.thread(prompt["channel"], prompt["ts"])) == 2


def test_remind_before_the_prompt_went_out_queues_it_for_the_next_tick(harness: Harness) -> None:
    harness.clock.now = THU_19_PARIS + timedelta(minutes=1)
    answer = harness.command(ADMIN, "remind atlas")
    assert "queued" in answer["text"]
    [recorded] = prompts(harness)
    assert recorded.occurrence == THU_19_PARIS
    harness.tick(THU_19_PARIS + timedelta(minutes=2))
    assert len(harness.prompts_to(PM_PARIS)) == 1


def test_remind_outside_the_pms_hours_says_when_the_prompt_goes_out(harness: Harness) -> None:
    # The bot's first tick is on Friday 20th at 04:00 in New York: BOREAL's prompt for the
    # period begun on Thursday at 10:00 there waits for 08:00, New York time.
    friday = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    harness.tick(friday)
    assert harness.prompts_to(PM_NEW_YORK) == []
    harness.clock.now = friday + timedelta(minutes=1)
    answer = harness.command(ADMIN, "remind boreal")
    assert "waits for" in answer["text"] and "working hours" in answer["text"]
    assert "Fri 20 Nov 2026 at 08:00, their time" in answer["text"]
    assert harness.prompts_to(PM_NEW_YORK) == []  # nothing at 04:00
    harness.tick(datetime(2026, 11, 20, 13, 0, tzinfo=UTC))  # 08:00 in New York
    assert len(harness.prompts_to(PM_NEW_YORK)) == 1


def test_remind_is_refused_to_everyone_else_and_posts_nothing(harness: Harness) -> None:
    harness.tick(THU_19_PARIS)
    before = len(harness.fake.calls_to("chat.postMessage"))
    for user in (OUTSIDER, PM_NEW_YORK):
        answer = harness.command(user, "remind atlas")
        assert answer["response_type"] == "ephemeral"
        assert "Only PMO admins and the sponsor of *ATLAS*" in answer["text"]
    # The PM themself (who reads French) is not among those who remind.
    own = harness.command(PM_PARIS, "remind atlas")
    assert "Seuls les administrateurs du PMO et le sponsor de *ATLAS*" in own["text"]
    assert len(harness.fake.calls_to("chat.postMessage")) == before


def test_keys_are_matched_forgivingly(harness: Harness) -> None:
    harness.tick(THU_19_PARIS)
    modal = report(harness, PM_PARIS, "report atals")  # a typo
    assert modal["callback_id"] == ids.HOME_SUBMIT_REPORT
    assert "Reminder sent" in harness.command(ADMIN, "remind Boreal")["text"]
