"""The App Home end to end, for each role, through signed app_home_opened events and button
clicks; what Slack received (FakeSlack's records) is asserted, never internal calls.

Roles (bot/home/view.py): a PM sees their projects with this period's state and a Report button; a
sponsor, or anyone who manages no project, sees the portfolio summary; PMO admins see it too,
plus failed deliveries and missing reports with Remind buttons. Clicks are checked again on the
server: a crafted click changes nothing and shows a polite refusal on the clicker's Home."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot import ids
from storage import deliveries, portfolio
from storage.deliveries import Claim
from storage.records import DeliveryKind
from tests.e2e.conftest import (
    ADMIN,
    OUTSIDER,
    PM_NEW_YORK,
    PM_PARIS,
    SPONSOR,
    Harness,
    start_harness,
)
from tests.fakes.fake_slack import FakeSlack

pytestmark = pytest.mark.e2e

THU_19_PARIS = datetime(2026, 11, 19, 9, 0, tzinfo=UTC)  # 10:00 in Paris: ATLAS's period begins
GOOD_ANSWER = {
    "overall": "green",
    "schedule": "green",
    "budget": "green",
    "scope": "green",
    "summary": "Cut-over rehearsal done.",
}


def home(h: Harness, user: str) -> dict[str, Any]:
    """Open the Home tab; return the view the bot published."""
    before = len(h.fake.calls_to("views.publish"))
    response = h.driver.app_home_opened(user)
    assert response.status == 200, response.body
    assert len(h.fake.calls_to("views.publish")) == before + 1, "no Home was published"
    view = h.fake.home_view(user)
    assert view is not None
    assert len(view["blocks"]) <= 100
    return view


def blocks(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["block_id"]: b for b in view["blocks"] if b.get("block_id", "").startswith("home.")}


def text_of(block: dict[str, Any]) -> str:
    return str(block["text"]["text"])


def project_id(h: Harness, key: str) -> int:
    with h.services.sessions.begin() as session:
        found = portfolio.find_project(session, key)
    assert found is not None
    return found.id


def click(h: Harness, user: str, action_id: str, value: str) -> None:
    view = h.fake.home_view(user) or {"id": "V0CRAFTED", "type": "home", "blocks": []}
    response = h.driver.block_action(user, action_id, value=value, view=view)
    assert response.status == 200, response.body


def notice(h: Harness, user: str) -> str:
    view = h.fake.home_view(user)
    assert view is not None
    return text_of(blocks(view)["home.notice"])


def prompts(h: Harness) -> list[Any]:
    with h.services.sessions.begin() as session:
        return deliveries.list_deliveries(session, kind=DeliveryKind.PROMPT)


def test_a_pm_sees_their_projects_with_this_periods_state_and_a_report_button(
    harness: Harness,
) -> None:
    harness.tick(THU_19_PARIS)
    harness.clock.now = THU_19_PARIS + timedelta(minutes=1)  # the new period has begun
    view = home(harness, PM_PARIS)
    found = blocks(view)
    atlas = found[f"home.project.{project_id(harness, 'ATLAS')}"]
    # In the PM's language (fr-FR): due this period, no report yet.
    assert "*ATLAS*" in text_of(atlas) and "Statut attendu" in text_of(atlas)
    assert "jeu. 19 nov. 2026" in text_of(atlas)
    button = atlas["accessory"]
    assert button["action_id"] == ids.HOME_OPEN_REPORT
    assert button["value"] == str(project_id(harness, "ATLAS"))
    # Only their own project; a PM who sponsors nothing gets no portfolio, no admin panel.
    assert not any(k.startswith("home.project.") and k != atlas["block_id"] for k in found)
    assert "home.portfolio" not in found and "home.failed" not in found

    # Past the reminder delay (24 hours after the prompt went out), it is late.
    harness.clock.now = THU_19_PARIS + timedelta(hours=25)
    late = blocks(home(harness, PM_PARIS))[atlas["block_id"]]
    assert "Statut en retard" in text_of(late)


def test_the_report_button_opens_the_modal_and_the_home_is_republished_once_reported(
    harness: Harness,
) -> None:
    harness.tick(THU_19_PARIS)
    harness.clock.now = THU_19_PARIS + timedelta(minutes=1)
    home(harness, PM_PARIS)
    atlas = str(project_id(harness, "ATLAS"))
    click(harness, PM_PARIS, ids.HOME_OPEN_REPORT, atlas)
    modal = [v for v in harness.fake.views if v["method"] == "views.open"][-1]
    assert modal["callback_id"] == ids.HOME_SUBMIT_REPORT
    # Anchored on the period's prompt: the one the tick sent, no new one.
    assert len(prompts(harness)) == 2
    atlas_prompt = next(p for p in prompts(harness) if p.project_id == int(atlas))
    assert json.loads(modal["private_metadata"]) == {"delivery": atlas_prompt.id}

    published = len(harness.fake.calls_to("views.publish"))
    response = harness.driver.submit_view(PM_PARIS, modal, GOOD_ANSWER)
    assert response.status == 200 and not response.body, response.body
    assert len(harness.fake.calls_to("views.publish")) == published + 1
    after = blocks(harness.fake.home_view(PM_PARIS) or {})[f"home.project.{atlas}"]
    assert "Statut transmis" in text_of(after) and ":large_green_circle:" in text_of(after)
    assert "ATLAS" in harness.fake.messages(PM_PARIS)[-1]["text"]  # the usual confirmation


def test_leadership_sees_the_portfolio_summary_and_what_needs_attention(harness: Harness) -> None:
    harness.tick(THU_19_PARIS)
    harness.clock.now = THU_19_PARIS + timedelta(hours=2)
    click(harness, PM_PARIS, ids.HOME_OPEN_REPORT, str(project_id(harness, "ATLAS")))
    modal = [v for v in harness.fake.views if v["method"] == "views.open"][-1]
    answer = {
        **GOOD_ANSWER,
        "overall": "red",
        "path_to_green": "Second vendor.",
        "help_needed": "Decision on licence budget",
    }
    assert not harness.driver.submit_view(PM_PARIS, modal, answer).body

    for leader in (SPONSOR, OUTSIDER):  # ATLAS's sponsor; someone who manages no project
        found = blocks(home(harness, leader))
        counts = text_of(found["home.portfolio"])
        assert "1 red" in counts and "1 missing" in counts  # BOREAL (its 12 Nov period)
        attention = text_of(found["home.attention"])
        assert "*ATLAS*" in attention and "Decision on licence budget" in attention
        assert not any(k.startswith(("home.project.", "home.missing")) for k in found)
        assert "home.failed" not in found


def test_an_admin_sees_failed_deliveries_and_missing_reports_with_remind_buttons(
    harness: Harness,
) -> None:
    harness.tick(THU_19_PARIS)
    with harness.services.sessions.begin() as session:
        [failed] = deliveries.enqueue(
            session,
            [Claim(DeliveryKind.DIGEST, "channel:C0GONE", THU_19_PARIS, payload={})],
            now=THU_19_PARIS,
        )
        deliveries.mark_failed(
            session, failed, error="chat.postMessage: channel_not_found", now=THU_19_PARIS
        )
    found = blocks(home(harness, ADMIN))
    assert "C0GONE" in text_of(found["home.failed"])
    assert "channel_not_found" in text_of(found["home.failed"])
    assert "home.portfolio" in found
    for key in ("ATLAS", "BOREAL"):
        missing = found[f"home.missing.{project_id(harness, key)}"]
        assert f"*{key}*" in text_of(missing)
        assert missing["accessory"]["action_id"] == ids.HOME_REMIND


def test_remind_as_admin_reminds_the_pm_in_the_prompts_thread(harness: Harness) -> None:
    harness.tick(THU_19_PARIS)
    harness.clock.now = THU_19_PARIS + timedelta(minutes=1)
    prompt = harness.prompts_to(PM_PARIS)[-1]
    home(harness, ADMIN)
    click(harness, ADMIN, ids.HOME_REMIND, str(project_id(harness, "ATLAS")))
    [reminder] = harness.fake.thread(prompt["channel"], prompt["ts"])
    assert "ATLAS" in reminder["text"]
    assert reminder["blocks"][-1]["elements"][0]["action_id"] == ids.OPEN_REPORT
    said = notice(harness, ADMIN)
    assert "Reminder sent" in said and f"<@{PM_PARIS}>" in said


def test_crafted_clicks_by_those_not_allowed_change_nothing_and_are_refused_politely(
    harness: Harness,
) -> None:
    atlas = str(project_id(harness, "ATLAS"))
    home(harness, OUTSIDER)
    # Remind: an outsider (not an admin, not the sponsor), and a PM of another project.
    for user in (OUTSIDER, PM_NEW_YORK):
        click(harness, user, ids.HOME_REMIND, atlas)
        assert "Only PMO admins and the sponsor of *ATLAS*" in notice(harness, user)
    # Report: someone who is neither the PM, a delegate nor an admin.
    click(harness, OUTSIDER, ids.HOME_OPEN_REPORT, atlas)
    assert "Only the PM of *ATLAS*" in notice(harness, OUTSIDER)
    # A made-up project id.
    click(harness, ADMIN, ids.HOME_REMIND, "99999")
    assert "could not find that project" in notice(harness, ADMIN)
    assert not harness.fake.calls_to("views.open")
    assert not harness.fake.calls_to("chat.postMessage")
    assert prompts(harness) == []  # nothing recorded: the tick will not prompt early


@pytest.fixture
def big(database_url: str, fake_slack: FakeSlack) -> Iterator[Harness]:
    projects = "\n".join(
        f"  - key: P{i:03d}\n    name: Project {i} {'n' * 150}\n    pm: {PM_PARIS}\n"
        f"    sponsor: {SPONSOR}"
        for i in range(150)
    )
    running, stop = start_harness(database_url, fake_slack, f"projects:\n{projects}\n")
    yield running
    stop()


def test_the_home_stays_within_100_blocks_and_says_how_many_more(big: Harness) -> None:
    big.clock.now = THU_19_PARIS
    home(big, SPONSOR)  # checks the 100 blocks
    # 150 projects, 20 shown: in the PM's list (in French), in the admin's missing reports.
    assert "…et 130 de plus" in json.dumps(home(big, PM_PARIS), ensure_ascii=False)
    assert "…and 130 more" in json.dumps(home(big, ADMIN), ensure_ascii=False)


CONFIDENTIAL = f"""
projects:
  - key: SECRET
    name: Secret acquisition
    pm: {PM_PARIS}
    sponsor: {SPONSOR}
    confidential: true
"""


def test_a_crafted_click_on_a_confidential_project_does_not_even_name_it(
    database_url: str, fake_slack: FakeSlack
) -> None:
    h, stop = start_harness(database_url, fake_slack, CONFIDENTIAL)
    try:
        h.tick(THU_19_PARIS)
        h.clock.now = THU_19_PARIS + timedelta(minutes=1)
        secret = str(project_id(h, "SECRET"))
        for action in (ids.HOME_REMIND, ids.HOME_OPEN_REPORT):
            click(h, OUTSIDER, action, secret)
            said = notice(h, OUTSIDER)
            assert "could not find that project" in said and "SECRET" not in said
        # The outsider sees no portfolio at all (nothing they may see); the sponsor counts it.
        assert "home.portfolio" not in blocks(home(h, OUTSIDER))
        assert "1 missing" in text_of(blocks(home(h, SPONSOR))["home.portfolio"])
        posted = len(h.fake.calls_to("chat.postMessage"))
        click(h, SPONSOR, ids.HOME_REMIND, secret)  # the sponsor may remind
        assert len(h.fake.calls_to("chat.postMessage")) == posted + 1
    finally:
        stop()
