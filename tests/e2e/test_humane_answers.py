"""Humane answers end to end: "No change" and "Skip this period" on a prompt, who may use them,
and what the digest then says.

Each test drives the real Bolt app over HTTP with signed requests (the `harness` fixture of
tests/e2e/conftest.py, on SQLite and PostgreSQL) and asserts what Slack received; what was
stored is read back through storage/ where Slack cannot show it (copied_from_id, a skip).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from storage import portfolio, reports
from storage.records import Report, Skip, SkipReason
from tests.e2e.conftest import ADMIN, OUTSIDER, PM_NEW_YORK, PM_PARIS, Harness
from tests.fakes.fake_slack import FakeSlack
from tests.fakes.slack_driver import Response

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def english_speaking_pm(fake_slack: FakeSlack) -> None:
    """These tests read the English texts; the same flows in French are in test_languages.py."""
    fake_slack.add_user(PM_PARIS, real_name="Camille Durand", tz="Europe/Paris", locale="en-GB")


# Thursdays 10:00 Paris (UTC+1 in November); the digest is Friday 16:00 Paris.
THU_12_PARIS = datetime(2026, 11, 12, 9, 0, tzinfo=UTC)
THU_19_PARIS = datetime(2026, 11, 19, 9, 0, tzinfo=UTC)
FRI_20_DIGEST = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)

LAST_WEEK = {
    "overall": "amber",
    "schedule": "red",
    "budget": "green",
    "scope": "green",
    "summary": "Vendor delivery slipped two weeks.",
    "path_to_green": "Second vendor team from 1 Dec.",
    "forecast_end": "2027-09-30",
    "percent_complete": "45",
    "risk.new.0.title": "Key user availability",
    "blocker.new.0.title": "Licence approval pending",
    "help_needed": "Decision on licence budget",
}
GREEN = {
    "overall": "green",
    "schedule": "green",
    "budget": "green",
    "scope": "green",
    "summary": "Cut-over rehearsal done.",
}


# --- helpers ---------------------------------------------------------------------------------


def prompt_of(h: Harness, at: datetime) -> dict[str, Any]:
    """Tick at `at` and return the ATLAS prompt it sent to the Paris PM."""
    h.tick(at)
    prompt = h.prompts_to(PM_PARIS)[-1]
    assert "ATLAS" in prompt["text"]
    return prompt


def click(h: Harness, user: str, prompt: dict[str, Any], label: str, **kw: Any) -> Response:
    """Click the prompt's button labelled `label` (as `user`, possibly with a forged value)."""
    (button,) = [b for b in prompt["blocks"][-1]["elements"] if b["text"]["text"] == label]
    response = h.driver.block_action(
        user,
        button["action_id"],
        value=kw.get("value", button["value"]),
        block_id="prompt",
        message=prompt,
        channel_id=prompt["channel"],
    )
    assert response.status == 200, response.body
    return response


def open_view(h: Harness, user: str, prompt: dict[str, Any], label: str) -> dict[str, Any]:
    """Click a button that must open a modal; return the modal Slack opened."""
    before = len(h.fake.calls_to("views.open"))
    click(h, user, prompt, label)
    assert len(h.fake.calls_to("views.open")) == before + 1, "no modal was opened"
    return [v for v in h.fake.views if v.get("method") == "views.open"][-1]


def refused(h: Harness, user: str, prompt: dict[str, Any], label: str, **kw: Any) -> str:
    """Click a button that must open nothing; return the ephemeral answer, as JSON text."""
    views, answers = len(h.fake.calls_to("views.open")), len(h.fake.responses)
    click(h, user, prompt, label, **kw)
    assert len(h.fake.calls_to("views.open")) == views, "a modal was opened"
    assert len(h.fake.responses) == answers + 1, "expected exactly one answer"
    answer = h.last_response()
    assert answer["response_type"] == "ephemeral" and not answer.get("replace_original")
    return json.dumps(answer, ensure_ascii=False)


def answer(h: Harness, user: str, prompt: dict[str, Any], inputs: dict[str, str]) -> None:
    """Submit status through the status modal; it must close."""
    modal = h.open_modal(user, prompt)
    response = h.driver.submit_view(user, modal, inputs)
    assert response.status == 200 and not response.body, response.body


def stored(
    h: Harness, period_start: datetime, key: str = "ATLAS"
) -> tuple[Report | None, Skip | None]:
    """What the database holds for a project's period: its report and its skip."""
    with h.services.sessions.begin() as session:
        project = portfolio.find_project(session, key)
        assert project is not None
        period = (project.id, period_start)
        report = reports.find_period_reports(session, [period]).get(period)
        skip = reports.find_skips(session, [period]).get(period)
    return report, skip


def latest_digest(h: Harness) -> tuple[str, list[str]]:
    """The text and blocks (as JSON text) of the last digest posted to the leaders' channel."""
    digest = h.digests("C0LEADERS")[-1]
    return digest["text"], [json.dumps(b, ensure_ascii=False) for b in digest["blocks"]]


def latest_digest_thread(h: Harness) -> list[str]:
    """The blocks (as JSON text) of the full reports in the last digest's thread."""
    digest = h.digests("C0LEADERS")[-1]
    return [
        json.dumps(b, ensure_ascii=False)
        for m in h.fake.thread("C0LEADERS", digest["ts"])
        for b in m["blocks"]
    ]


def section_after(blocks: list[str], title: str) -> str:
    """The blocks of a digest section (from its title up to the next divider), as one text."""
    start = next(i for i, b in enumerate(blocks) if title in b)
    end = next((i for i in range(start, len(blocks)) if '"divider"' in blocks[i]), len(blocks))
    return "".join(blocks[start:end])


# --- the prompt ------------------------------------------------------------------------------


def test_the_prompt_offers_no_change_and_skip_after_submit_status(harness: Harness) -> None:
    prompt = prompt_of(harness, THU_19_PARIS)
    buttons = prompt["blocks"][-1]["elements"]
    assert [b["text"]["text"] for b in buttons] == [
        "Submit status",
        "No change",
        "Skip this period",
    ]
    assert len({b["action_id"] for b in buttons}) == 3
    assert len({b["value"] for b in buttons}) == 1  # each carries the prompt's delivery id


# --- No change -------------------------------------------------------------------------------


def test_no_change_shows_the_last_report_and_stores_a_marked_copy_for_this_period(
    harness: Harness,
) -> None:
    answer(harness, PM_PARIS, prompt_of(harness, THU_12_PARIS), LAST_WEEK)
    last_week, _ = stored(harness, THU_12_PARIS)
    assert last_week is not None

    modal = open_view(harness, PM_PARIS, prompt_of(harness, THU_19_PARIS), "No change")
    assert modal["callback_id"] == "no_change.confirm"
    shown = json.dumps(modal, ensure_ascii=False)
    for expected in (
        "Thu 19 Nov 2026",  # the period it will be recorded for
        "the report of Thu 12 Nov 2026",  # the period it copies
        ":large_orange_circle: Amber",
        ":red_circle: Red",
        "Vendor delivery slipped two weeks.",
        "Thu 30 Sep 2027",
        "45%",
        "Key user availability",
        "Licence approval pending",
        "Decision on licence budget",
    ):
        assert expected in shown, expected

    harness.clock.now = datetime(2026, 11, 19, 11, 30, tzinfo=UTC)
    response = harness.driver.submit_view(PM_PARIS, modal, {})
    assert response.status == 200 and not response.body, response.body  # the modal closes

    copy, skip = stored(harness, THU_19_PARIS)
    assert copy is not None and skip is None
    assert copy.copied_from_id == last_week.id
    assert (copy.submitted_by, copy.submitted_at) == (PM_PARIS, harness.clock.now)
    for field in ("overall", "schedule", "summary", "path_to_green", "forecast_end", "risks"):
        assert getattr(copy, field) == getattr(last_week, field), field
    assert (copy.percent_complete, copy.blockers) == (45, ("Licence approval pending",))

    confirmation = harness.fake.messages(PM_PARIS)[-1]
    assert "ATLAS" in confirmation["text"] and "no change" in confirmation["text"]
    assert "Thu 19 Nov 2026" in json.dumps(confirmation["blocks"])

    status = json.dumps(harness.command(OUTSIDER, "status ATLAS"), ensure_ascii=False)
    assert "for the period from Thu 19 Nov 2026" in status
    assert "Vendor delivery slipped two weeks." in status

    harness.tick(FRI_20_DIGEST)
    text, blocks = latest_digest(harness)
    assert "1 amber" in text and "1 not reported" in text  # BOREAL did not answer
    assert "no change since Thu 12 Nov 2026" in next(b for b in blocks if "*ATLAS*" in b)
    thread = latest_digest_thread(harness)
    assert "no change since Thu 12 Nov 2026" in next(b for b in thread if "*ATLAS*" in b)
    assert "Vendor delivery slipped two weeks." in "".join(thread)  # ATLAS's full report


def test_no_change_without_an_earlier_report_explains_and_opens_nothing(
    harness: Harness,
) -> None:
    prompt = prompt_of(harness, THU_19_PARIS)
    said = refused(harness, PM_PARIS, prompt, "No change")
    assert "nothing to copy yet" in said and "Submit status" in said
    assert stored(harness, THU_19_PARIS) == (None, None)


def test_no_change_never_overwrites_a_report_of_the_period(harness: Harness) -> None:
    answer(harness, PM_PARIS, prompt_of(harness, THU_12_PARIS), LAST_WEEK)
    prompt = prompt_of(harness, THU_19_PARIS)
    # The modal is open when the PM (or a delegate) submits status for the same period.
    modal = open_view(harness, PM_PARIS, prompt, "No change")
    answer(harness, PM_PARIS, prompt, GREEN)

    late = harness.driver.submit_view(PM_PARIS, modal, {})
    assert late.json is not None and late.json["response_action"] == "update"
    assert "already has a report" in json.dumps(late.json["view"])
    # The click, now, is refused at once, pointing at Submit status.
    said = refused(harness, PM_PARIS, prompt, "No change")
    assert "already has a report" in said and "Submit status" in said

    report, _ = stored(harness, THU_19_PARIS)
    assert report is not None and report.summary == GREEN["summary"]
    assert report.copied_from_id is None


def test_a_no_change_copy_replaces_a_skip_and_submit_status_corrects_the_copy(
    harness: Harness,
) -> None:
    answer(harness, PM_PARIS, prompt_of(harness, THU_12_PARIS), LAST_WEEK)
    prompt = prompt_of(harness, THU_19_PARIS)
    skip_modal = open_view(harness, PM_PARIS, prompt, "Skip this period")
    harness.driver.submit_view(PM_PARIS, skip_modal, {"reason": "on_leave"})
    assert stored(harness, THU_19_PARIS)[1] is not None

    modal = open_view(harness, PM_PARIS, prompt, "No change")
    assert not harness.driver.submit_view(PM_PARIS, modal, {}).body
    copy, skip = stored(harness, THU_19_PARIS)
    assert copy is not None and copy.copied_from_id is not None and skip is None

    answer(harness, PM_PARIS, prompt, GREEN)  # something did change after all
    corrected, _ = stored(harness, THU_19_PARIS)
    assert corrected is not None and corrected.copied_from_id is None
    assert corrected.summary == GREEN["summary"]


# --- Skip this period ------------------------------------------------------------------------


def test_skip_needs_a_note_for_other_and_the_digest_shows_it_as_skipped_not_missing(
    harness: Harness,
) -> None:
    prompt = prompt_of(harness, THU_19_PARIS)
    modal = open_view(harness, PM_PARIS, prompt, "Skip this period")
    assert modal["callback_id"] == "skip.submit"
    reason = next(b for b in modal["blocks"] if b.get("block_id") == "reason")
    assert [o["value"] for o in reason["element"]["options"]] == [
        "on_leave",
        "project_paused",
        "other",
    ]

    for inputs, block, words in (
        ({"reason": "other"}, "note", "Say in a few words why"),
        ({"reason": "other", "note": "   "}, "note", "Say in a few words why"),
        ({"reason": "other", "note": "x" * 301}, "note", "under 300 characters"),
        ({"note": "Holidays."}, "reason", "Choose a reason"),
    ):
        response = harness.driver.submit_view(PM_PARIS, modal, inputs)
        assert response.json is not None and response.json["response_action"] == "errors"
        assert words in response.json["errors"][block], inputs
        assert stored(harness, THU_19_PARIS) == (None, None)
    assert not [m for m in harness.fake.messages(PM_PARIS) if "skipped" in m["text"]]

    note = "Team at the <!channel> offsite & planning"
    response = harness.driver.submit_view(PM_PARIS, modal, {"reason": "other", "note": note})
    assert response.status == 200 and not response.body, response.body
    _, skip = stored(harness, THU_19_PARIS)
    assert skip is not None
    assert (skip.reason, skip.note, skip.skipped_by) == (SkipReason.OTHER, note, PM_PARIS)
    confirmation = harness.fake.messages(PM_PARIS)[-1]
    assert "ATLAS" in confirmation["text"] and "skipped" in confirmation["text"]

    assert harness.tick(FRI_20_DIGEST).digests_sent == 1
    text, blocks = latest_digest(harness)
    assert "0 green, 1 not reported, 1 skipped" in text
    missing = section_after(blocks, "*Missing and stale reports* (1)")
    assert "BOREAL" in missing and "Skipped: ATLAS" in missing  # skipped, not missing
    atlas = next(b for b in latest_digest_thread(harness) if "*ATLAS*" in b)
    assert "Skipped this period: Other: Team at the &lt;!channel&gt; offsite &amp;" in atlas
    assert "<!channel>" not in "".join(blocks + latest_digest_thread(harness))


@pytest.mark.parametrize("reason", ["on_leave", "project_paused"])
def test_skip_for_leave_or_a_pause_needs_no_note_and_skipping_again_changes_the_reason(
    harness: Harness, reason: str
) -> None:
    prompt = prompt_of(harness, THU_19_PARIS)
    modal = open_view(harness, PM_PARIS, prompt, "Skip this period")
    assert not harness.driver.submit_view(PM_PARIS, modal, {"reason": reason}).body
    _, skip = stored(harness, THU_19_PARIS)
    assert skip is not None and (skip.reason, skip.note) == (SkipReason(reason), None)

    again = open_view(harness, PM_PARIS, prompt, "Skip this period")
    radio = next(b for b in again["blocks"] if b.get("block_id") == "reason")["element"]
    assert radio["initial_option"]["value"] == reason
    harness.driver.submit_view(PM_PARIS, again, {"reason": "other", "note": "Re-planning."})
    _, skip = stored(harness, THU_19_PARIS)
    assert skip is not None and (skip.reason, skip.note) == (SkipReason.OTHER, "Re-planning.")


def test_a_report_submitted_later_replaces_the_skip(harness: Harness) -> None:
    prompt = prompt_of(harness, THU_19_PARIS)
    modal = open_view(harness, PM_PARIS, prompt, "Skip this period")
    harness.driver.submit_view(PM_PARIS, modal, {"reason": "on_leave"})
    assert stored(harness, THU_19_PARIS)[1] is not None

    answer(harness, PM_PARIS, prompt, GREEN)  # back early, reports after all
    report, skip = stored(harness, THU_19_PARIS)
    assert report is not None and skip is None
    said = refused(harness, PM_PARIS, prompt, "Skip this period")
    assert "already has a report" in said and "Submit status" in said

    harness.tick(FRI_20_DIGEST)
    text, blocks = latest_digest(harness)
    assert "skipped" not in text.lower() and "1 green" in text
    assert "Skipped" not in "".join(blocks + latest_digest_thread(harness))
    atlas = next(b for b in latest_digest_thread(harness) if "*ATLAS*" in b)
    assert ":large_green_circle: *ATLAS*" in atlas


def test_skipping_a_period_reported_meanwhile_gets_an_inline_error(harness: Harness) -> None:
    prompt = prompt_of(harness, THU_19_PARIS)
    modal = open_view(harness, PM_PARIS, prompt, "Skip this period")
    answer(harness, PM_PARIS, prompt, GREEN)
    response = harness.driver.submit_view(PM_PARIS, modal, {"reason": "on_leave"})
    assert response.json is not None and response.json["response_action"] == "errors"
    assert "already has a report" in response.json["errors"]["reason"]
    report, skip = stored(harness, THU_19_PARIS)
    assert report is not None and report.summary == GREEN["summary"] and skip is None


# --- who may answer --------------------------------------------------------------------------


def test_outsiders_and_forged_prompts_are_refused_and_nothing_is_stored(
    harness: Harness,
) -> None:
    answer(harness, PM_PARIS, prompt_of(harness, THU_12_PARIS), LAST_WEEK)
    prompt = prompt_of(harness, THU_19_PARIS)

    # Clicks: someone else, or a forged delivery id, opens nothing.
    for label in ("No change", "Skip this period"):
        assert "Only the PM of ATLAS" in refused(harness, OUTSIDER, prompt, label)
        assert "Only the PM of ATLAS" in refused(harness, PM_NEW_YORK, prompt, label)
        assert "no longer exists" in refused(harness, PM_PARIS, prompt, label, value="999999")
        assert "no longer exists" in refused(harness, PM_PARIS, prompt, label, value="x")

    # Submissions of the PM's own modals by someone else are refused.
    no_change = open_view(harness, PM_PARIS, prompt, "No change")
    skip = open_view(harness, PM_PARIS, prompt, "Skip this period")
    taken = harness.driver.submit_view(OUTSIDER, no_change, {})
    assert taken.json is not None and taken.json["response_action"] == "update"
    assert "Only the PM of ATLAS" in json.dumps(taken.json["view"])
    taken = harness.driver.submit_view(OUTSIDER, skip, {"reason": "on_leave"})
    assert taken.json is not None and taken.json["response_action"] == "errors"
    assert "Only the PM of ATLAS" in taken.json["errors"]["reason"]

    # Forged private_metadata: another prompt, or a report the PM was not shown.
    for metadata in ({"delivery": 999999}, {}, "not json"):
        forged = {**skip, "private_metadata": json.dumps(metadata)}
        taken = harness.driver.submit_view(PM_PARIS, forged, {"reason": "on_leave"})
        assert taken.json is not None and "no longer exists" in taken.json["errors"]["reason"]
    shown = json.loads(no_change["private_metadata"])
    for metadata, words in (
        ({**shown, "delivery": 999999}, "no longer exists"),
        ({**shown, "source": shown["source"] + 1}, "changed since"),
        ({"delivery": shown["delivery"]}, "changed since"),
    ):
        forged = {**no_change, "private_metadata": json.dumps(metadata)}
        taken = harness.driver.submit_view(PM_PARIS, forged, {})
        assert taken.json is not None and taken.json["response_action"] == "update"
        assert words in json.dumps(taken.json["view"]), metadata

    assert stored(harness, THU_19_PARIS) == (None, None)
    assert not [m for m in harness.fake.messages(OUTSIDER) if "ATLAS" in m["text"]]

    # A PMO admin may answer in the PM's place.
    assert not harness.driver.submit_view(ADMIN, skip, {"reason": "on_leave"}).body
    _, skipped = stored(harness, THU_19_PARIS)
    assert skipped is not None and skipped.skipped_by == ADMIN
