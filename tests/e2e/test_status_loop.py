"""The status loop end to end: prompt → modal → stored answer → /pmo → digest.

Each test drives the real Bolt app over HTTP with signed requests and asserts what Slack
received (FakeSlack's records), never internal calls.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from tests.e2e.conftest import ADMIN, OUTSIDER, PM_NEW_YORK, PM_PARIS, Harness

pytestmark = pytest.mark.e2e

# Thursdays 10:00 Paris (UTC+1 in November) and 10:00 New York (UTC-5).
THU_12_PARIS = datetime(2026, 11, 12, 9, 0, tzinfo=UTC)
THU_19_PARIS = datetime(2026, 11, 19, 9, 0, tzinfo=UTC)
THU_19_NYC = datetime(2026, 11, 19, 15, 0, tzinfo=UTC)
FRI_20_DIGEST = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)  # Friday 16:00 Paris

GOOD_ANSWER = {
    "overall": "green",
    "schedule": "green",
    "budget": "green",
    "scope": "green",
    "summary": "Cut-over rehearsal done.",
}


def answer(h: Harness, user: str, prompt: dict, **inputs: object) -> None:
    """Open the prompt's modal and submit a valid answer; the modal must close (no errors)."""
    modal = h.open_modal(user, prompt)
    response = h.driver.submit_view(user, modal, {**GOOD_ANSWER, **inputs})
    assert response.status == 200, response.body
    assert not response.body, f"the answer was refused: {response.body}"


def test_each_pm_is_prompted_once_per_occurrence_in_their_own_timezone(harness: Harness) -> None:
    # First tick ever, Thursday 08:00 UTC: the current periods began last Thursday. It is
    # 09:00 in Paris: asked; 03:00 in New York, and that period ends at 10:00 there, the same
    # working day: not asked (the next prompt would arrive next to it).
    first = harness.tick(datetime(2026, 11, 19, 8, 0, tzinfo=UTC))
    assert first.prompts_sent == 1 and first.skipped >= 1
    assert len(harness.prompts_to(PM_PARIS)) == 1
    assert len(harness.prompts_to(PM_NEW_YORK)) == 0

    # 10:00 in Paris: only the Paris PM's new period has begun.
    assert harness.tick(THU_19_PARIS).prompts_sent == 1
    assert len(harness.prompts_to(PM_PARIS)) == 2
    assert len(harness.prompts_to(PM_NEW_YORK)) == 0

    # More ticks in the same minute and the same period send nothing again.
    assert harness.tick(THU_19_PARIS).prompts_sent == 0
    assert harness.tick(datetime(2026, 11, 19, 14, 59, tzinfo=UTC)).prompts_sent == 0

    # 10:00 in New York.
    assert harness.tick(THU_19_NYC).prompts_sent == 1
    prompt = harness.prompts_to(PM_NEW_YORK)[-1]
    assert "BOREAL" in prompt["text"] and "Boreal CRM rollout" in prompt["text"]
    section = prompt["blocks"][0]["text"]["text"]
    assert "Thu 19 Nov 2026" in section and "Thu 26 Nov 2026" in section
    button = prompt["blocks"][-1]["elements"][0]
    assert button["type"] == "button" and button["text"]["text"] == "Submit status"


def test_a_missed_occurrence_is_sent_at_the_next_tick_while_its_period_lasts(
    harness: Harness,
) -> None:
    harness.tick(datetime(2026, 11, 12, 8, 0, tzinfo=UTC))  # prompts for the 5 Nov periods
    # The bot was down from Thursday to Monday: Monday's tick still sends Thursday's prompt
    # (at 08:00 in Paris; at 02:00 in New York it waits for the morning there).
    assert harness.tick(datetime(2026, 11, 16, 7, 0, tzinfo=UTC)).prompts_sent == 1
    assert harness.tick(datetime(2026, 11, 16, 13, 0, tzinfo=UTC)).prompts_sent == 1
    # Down again over the next Thursday: the 19 Nov period is the one asked for, not 12 Nov's.
    harness.tick(datetime(2026, 11, 20, 7, 0, tzinfo=UTC))
    texts = [p["blocks"][0]["text"]["text"] for p in harness.prompts_to(PM_PARIS)]  # in French
    assert len(texts) == 3
    assert "jeu. 12 nov. 2026" in texts[1] and "jeu. 19 nov. 2026" in texts[2]


def test_pm_answers_in_the_modal_and_anyone_can_look_the_project_up(harness: Harness) -> None:
    harness.tick(THU_19_PARIS)
    prompt = harness.prompts_to(PM_PARIS)[-1]
    modal = harness.open_modal(PM_PARIS, prompt)
    header = modal["blocks"][0]["text"]["text"]
    assert "ATLAS" in header and "jeu. 19 nov. 2026" in header  # in the PM's language: fr-FR
    assert modal["callback_id"] == "report.submit"
    # Summary is never prefilled; the forecast end date comes from the project.
    summary = next(b for b in modal["blocks"] if b.get("block_id") == "summary")
    assert "initial_value" not in summary["element"]
    forecast = next(b for b in modal["blocks"] if b.get("block_id") == "forecast_end")
    assert forecast["element"]["initial_date"] == "2027-06-30"

    harness.clock.now = datetime(2026, 11, 19, 11, 30, tzinfo=UTC)
    response = harness.driver.submit_view(
        PM_PARIS,
        modal,
        {
            "overall": "amber",
            "schedule": "red",
            "budget": "green",
            "scope": "green",
            "summary": "Vendor delivery slipped two weeks.",
            "path_to_green": "Second vendor team from 1 Dec.",
            "percent_complete": "45",
            "risk.new.0.title": "Key user availability",
            "risk.new.1.title": "Data quality",
            "blocker.new.0.title": "Licence approval pending",
            "help_needed": "Decision on licence budget",
        },
    )
    assert response.status == 200 and not response.body  # modal closes
    confirmation = harness.fake.messages(PM_PARIS)[-1]
    assert "ATLAS" in confirmation["text"] and "Orange" in confirmation["text"]

    status = harness.command(OUTSIDER, "status atlas")
    assert status["response_type"] == "ephemeral"
    text = json.dumps(status, ensure_ascii=False)
    for expected in (
        "Vendor delivery slipped two weeks.",
        "Key user availability",
        "Data quality",
        "Licence approval pending",
        "Decision on licence budget",
        f"<@{PM_PARIS}>",
        "Amber",
        "45% complete",
        "Thu 19 Nov 2026",
    ):
        assert expected in text, expected

    listing = json.dumps(harness.command(OUTSIDER, "list"), ensure_ascii=False)
    assert ":large_orange_circle: *ATLAS*" in listing
    assert "*BOREAL*" in listing and "no report yet" in listing


def test_the_next_modal_is_prefilled_from_the_previous_report(harness: Harness) -> None:
    harness.tick(THU_12_PARIS)
    answer(
        harness,
        PM_PARIS,
        harness.prompts_to(PM_PARIS)[-1],
        schedule="amber",
        overall="amber",
        path_to_green="Hire.",
        forecast_end="2027-09-30",
    )
    harness.tick(THU_19_PARIS)
    modal = harness.open_modal(PM_PARIS, harness.prompts_to(PM_PARIS)[-1])
    blocks = {b.get("block_id"): b for b in modal["blocks"]}
    assert blocks["schedule"]["element"]["initial_option"]["value"] == "amber"
    assert blocks["budget"]["element"]["initial_option"]["value"] == "green"
    assert blocks["forecast_end"]["element"]["initial_date"] == "2027-09-30"
    assert "initial_value" not in blocks["summary"]["element"]


def test_a_late_answer_lands_in_the_period_of_the_prompt_it_answers(harness: Harness) -> None:
    harness.tick(THU_12_PARIS)
    old_prompt = harness.prompts_to(PM_PARIS)[-1]
    harness.tick(THU_19_PARIS)  # a new period has begun
    harness.clock.now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # answered the Monday after
    answer(harness, PM_PARIS, old_prompt, summary="Late, about the week of the 12th.")
    status = json.dumps(harness.command(ADMIN, "status ATLAS"), ensure_ascii=False)
    assert "for the period from Thu 12 Nov 2026" in status


def test_invalid_answers_get_inline_errors_and_store_nothing(harness: Harness) -> None:
    harness.tick(THU_19_PARIS)
    modal = harness.open_modal(PM_PARIS, harness.prompts_to(PM_PARIS)[-1])
    response = harness.driver.submit_view(
        PM_PARIS,
        modal,
        {
            "overall": "red",
            "schedule": "green",
            "budget": "green",
            "scope": "green",
            "summary": "   ",
            "percent_complete": "140",
        },
    )
    assert response.status == 200
    assert response.json is not None and response.json["response_action"] == "errors"
    assert set(response.json["errors"]) == {"summary", "path_to_green", "percent_complete"}
    assert "orange ou rouge" in response.json["errors"]["path_to_green"]  # the PM's fr-FR
    status = json.dumps(harness.command(OUTSIDER, "status ATLAS"))  # an English speaker
    assert "No status report yet" in status
    confirmations = ("Thanks", "Merci")  # the PM's confirmation is in their language
    assert not [m for m in harness.fake.messages(PM_PARIS) if m["text"].startswith(confirmations)]


def test_only_the_pm_or_an_admin_may_report_whatever_the_payload_claims(harness: Harness) -> None:
    harness.tick(THU_19_PARIS)
    prompt = harness.prompts_to(PM_PARIS)[-1]
    modal = harness.open_modal(PM_PARIS, prompt)

    # A crafted submission of the PM's modal by someone else is refused and stores nothing.
    refused = harness.driver.submit_view(OUTSIDER, modal, GOOD_ANSWER)
    assert refused.json is not None and refused.json["response_action"] == "errors"
    assert "Only the PM of ATLAS" in refused.json["errors"]["overall"]
    assert "No status report yet" in json.dumps(harness.command(OUTSIDER, "status ATLAS"))

    # A crafted click on the PM's button opens no modal for an outsider.
    views_before = len(harness.fake.calls_to("views.open"))
    button = prompt["blocks"][-1]["elements"][0]
    harness.driver.block_action(
        OUTSIDER, button["action_id"], value=button["value"], channel_id="C0GENERAL"
    )
    assert len(harness.fake.calls_to("views.open")) == views_before
    assert "Only the PM of ATLAS" in harness.last_response()["text"]

    # Forged private_metadata pointing at another project's prompt is refused too.
    forged = {**modal, "private_metadata": json.dumps({"delivery": 999999})}
    assert harness.driver.submit_view(PM_PARIS, forged, GOOD_ANSWER).json["response_action"] == (
        "errors"
    )

    # A PMO admin may report in the PM's place.
    harness.driver.submit_view(ADMIN, modal, GOOD_ANSWER)
    status = json.dumps(harness.command(OUTSIDER, "status ATLAS"))
    assert "Cut-over rehearsal done." in status and f"<@{ADMIN}>" in status


def test_pmo_help_and_unknown_keys_answer_helpfully(harness: Harness) -> None:
    help_text = json.dumps(harness.command(OUTSIDER, "help"))
    assert "/pmo status KEY" in help_text and "/pmo list" in help_text
    assert "/pmo status KEY" in json.dumps(harness.command(OUTSIDER, ""))
    unknown = json.dumps(harness.command(OUTSIDER, "frobnicate"))
    assert "frobnicate" in unknown and "/pmo status KEY" in unknown

    typo = harness.command(OUTSIDER, "status ATLSA")
    assert typo["response_type"] == "ephemeral"
    assert "*ATLAS*" in json.dumps(typo) and "ATLSA" in json.dumps(typo)
    assert "Which project?" in json.dumps(harness.command(OUTSIDER, "status"))


def test_the_digest_puts_attention_first_escapes_user_text_and_posts_once(
    harness: Harness,
) -> None:
    harness.tick(THU_19_PARIS)
    harness.tick(THU_19_NYC)
    answer(
        harness,
        PM_PARIS,
        harness.prompts_to(PM_PARIS)[-1],
        overall="red",
        path_to_green="Escalate.",
        summary="Blocked <!channel> & <https://evil.example|login>",
        **{"blocker.new.0.title": "Licence <@U0SPONSOR1> approval"},
    )
    # BOREAL does not answer: it is missing.

    # The first tick (Thursday) found Friday 13th's digest six days late: stale, not posted.
    assert harness.digests("C0LEADERS") == []
    result = harness.tick(FRI_20_DIGEST)
    assert result.digests_sent == 1
    posts = harness.digests("C0LEADERS")
    assert len(posts) == 1
    digest = posts[-1]
    assert "1 red" in digest["text"] and "1 not reported" in digest["text"]
    texts = [json.dumps(b, ensure_ascii=False) for b in digest["blocks"]]
    attention = next(i for i, t in enumerate(texts) if "Needs your attention" in t)
    atlas = next(i for i, t in enumerate(texts) if "*ATLAS*" in t)
    missing = next(i for i, t in enumerate(texts) if "Missing and stale reports" in t)
    assert attention < atlas < missing
    assert "BOREAL" in "".join(texts[missing:]) and f"<@{PM_NEW_YORK}>" in "".join(texts[missing:])
    # The full reports follow in the digest's thread, ATLAS's with its summary and blocker.
    thread = harness.fake.thread("C0LEADERS", digest["ts"])
    assert thread and all(m.get("thread_ts") == digest["ts"] for m in thread)
    everything = "".join(texts) + "".join(json.dumps(m["blocks"]) for m in thread)
    assert "Blocked &lt;!channel&gt; &amp;" in everything and "Licence" in everything
    # User text is escaped: nothing pings the channel or fakes a link or a mention.
    assert "<!channel>" not in everything and "&lt;!channel&gt;" in everything
    assert "<https://evil" not in everything and "<@U0SPONSOR1>" not in everything
    # The chart went into the thread too, as a PNG.
    [chart] = [f for f in harness.fake.files if f.get("thread_ts") == digest["ts"]]
    assert chart["name"].endswith(".png") and chart["channel"] == "C0LEADERS"

    assert harness.tick(FRI_20_DIGEST).digests_sent == 0
    assert harness.tick(datetime(2026, 11, 21, 9, 0, tzinfo=UTC)).digests_sent == 0
    assert len(harness.digests("C0LEADERS")) == 1


def test_the_digest_shows_trends_against_the_previous_report(harness: Harness) -> None:
    harness.tick(THU_12_PARIS)
    answer(harness, PM_PARIS, harness.prompts_to(PM_PARIS)[-1], overall="green")
    harness.tick(THU_19_PARIS)
    answer(
        harness,
        PM_PARIS,
        harness.prompts_to(PM_PARIS)[-1],
        overall="red",
        schedule="red",
        path_to_green="Re-plan.",
    )
    harness.tick(FRI_20_DIGEST)
    atlas = next(
        b for b in harness.digests("C0LEADERS")[-1]["blocks"] if "*ATLAS*" in json.dumps(b)
    )
    assert "worse (was Green)" in atlas["text"]["text"]
    assert "schedule Green → Red" in atlas["text"]["text"]


def test_slack_rate_limits_are_waited_out_not_dropped(harness: Harness) -> None:
    harness.fake.fail("chat.postMessage", status=429, retry_after=7, times=1)
    assert harness.tick(THU_19_NYC).prompts_sent == 2
    assert len(harness.prompts_to(PM_PARIS)) == 1 and len(harness.prompts_to(PM_NEW_YORK)) == 1
    assert any(7 <= s < 8 for s in harness.sleeps), harness.sleeps


def test_a_failed_delivery_is_reported_and_not_retried_blindly(harness: Harness) -> None:
    harness.fake.fail("chat.postMessage", error="channel_not_found", times=1)
    result = harness.tick(THU_19_NYC)
    assert result.prompts_sent == 1
    assert len(result.failures) == 1 and "channel_not_found" in result.failures[0]


def test_requests_with_a_bad_or_stale_signature_are_rejected(harness: Harness) -> None:
    assert harness.driver.command(OUTSIDER, "help", signature="bad").status == 401
    assert harness.driver.command(OUTSIDER, "help", signature="stale").status == 401
    assert harness.fake.responses == []


def test_app_home_shows_the_pm_their_projects(harness: Harness) -> None:
    harness.driver.app_home_opened(PM_PARIS)
    home = harness.fake.home_view(PM_PARIS)
    assert home is not None
    text = json.dumps(home, ensure_ascii=False)
    assert "*ATLAS*" in text and "BOREAL" not in text
