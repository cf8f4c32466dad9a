"""Dependencies between projects through the real app (issue 16), on both backends: what a
project needs and what needs it (`/pmo deps`), each on track or at risk, with the root up a
chain; a confidential project named only as such to those who may not see it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.coordination.facts import portfolio_dependencies
from storage import deliveries, portfolio
from storage.records import DeliveryKind, DeliveryStatus
from tests.e2e.conftest import (
    ADMIN,
    OUTSIDER,
    PM_NEW_YORK,
    PM_PARIS,
    SPONSOR,
    Harness,
    start_harness,
)
from tests.e2e.test_one_period_state import ANSWER
from tests.fakes.fake_slack import FakeSlack

# The harness's clock: Monday 16 November 2026.
LINKED = f"""
projects:
  - key: ATLAS
    name: Atlas ERP
    pm: {PM_PARIS}
    end: 2027-06-30
    milestones:
      - {{name: Data migrated, due: 2027-02-20}}
  - key: DELTA
    name: Delta CRM
    pm: {PM_NEW_YORK}
    end: 2027-05-28
    depends_on:
      - {{project: ATLAS, milestone: Data migrated, needed_by: 2027-03-01,
         note: "The <CRM> needs its API"}}
      - {{project: ATLAS, needed_by: 2027-04-30}}
  - key: BRAVO
    name: Bravo portal
    pm: {PM_NEW_YORK}
    depends_on: [{{project: DELTA, needed_by: 2027-06-30}}]
  - key: SECRET
    name: Nightingale
    pm: {PM_PARIS}
    confidential: true
    depends_on: [{{project: ATLAS, milestone: Data migrated, needed_by: 2027-01-15}}]
digests:
  - {{channel: C0LEADERS, timezone: Europe/Paris}}
"""


@pytest.fixture
def linked(database_url: str, fake_slack: FakeSlack) -> Iterator[Harness]:
    running, stop = start_harness(database_url, fake_slack, LINKED)
    yield running
    stop()


def text_of(answer: dict[str, object]) -> str:
    return "\n".join(
        b["text"]["text"] if b["type"] in ("section", "header") else b["elements"][0]["text"]  # type: ignore[index]
        for b in answer["blocks"]  # type: ignore[attr-defined]
    )


def test_deps_lists_what_a_project_needs_at_risk_first(linked: Harness) -> None:
    answer = linked.command(OUTSIDER, "deps delta")
    text = text_of(answer)
    assert answer["text"] == "Dependencies of DELTA"
    needs = text[text.index("*It needs* (2)") : text.index("*Needed by*")]
    # ATLAS's end (30 Jun) is after 30 Apr: late by 61 days; its milestone (20 Feb) in time
    assert needs.index("*ATLAS* its end") < needs.index("*ATLAS* “Data migrated”")
    assert (
        ":warning: *at risk*: late · *ATLAS* its end by Fri 30 Apr 2027 · expected Wed 30 Jun"
        " 2027 (+61 days)" in needs
    )
    assert (
        ":large_green_circle: on track · *ATLAS* “Data migrated” by Mon 1 Mar 2027 · expected"
        " Sat 20 Feb 2027" in needs
    )
    assert "_The &lt;CRM&gt; needs its API_" in needs  # escaped
    # BRAVO needs DELTA, which is at risk through ATLAS: the root is named
    assert (
        ":warning: *at risk*: what it needs is at risk (root: *ATLAS*) · *BRAVO* needs its end"
        in text
    )


def test_a_confidential_project_is_named_only_as_such(linked: Harness) -> None:
    outsider = text_of(linked.command(OUTSIDER, "deps atlas"))
    assert "*Needed by* (3)" in outsider
    assert "a confidential project" in outsider
    assert "SECRET" not in outsider and "Nightingale" not in outsider
    assert "Fri 15 Jan 2027" not in outsider  # its date is not shown either
    admin = text_of(linked.command(ADMIN, "deps atlas"))
    assert (
        "*SECRET* needs “Data migrated” by Fri 15 Jan 2027 · expected Sat 20 Feb 2027"
        " (+36 days)" in admin
    )
    # an outsider asking for the confidential project itself is told nothing of it
    assert "SECRET" not in text_of(linked.command(OUTSIDER, "deps secret"))


def test_deps_in_french_and_alone(linked: Harness) -> None:
    french = linked.command(PM_PARIS, "deps atlas")  # their Slack locale is French
    assert french["text"] == "Dépendances de ATLAS"
    assert "*Attendu par* (3)" in text_of(french)
    alone = linked.command(OUTSIDER, "deps")
    assert "`/pmo deps KEY` lists what a project needs" in text_of(alone)


def test_the_digest_lists_the_dependencies_at_risk_and_each_projects_own(linked: Harness) -> None:
    linked.tick(datetime(2026, 11, 20, 15, 0, tzinfo=UTC))  # Friday 16:00 in Paris
    (digest,) = linked.digests("C0LEADERS")
    main = json.dumps(digest["blocks"], ensure_ascii=False)
    # the largest gap first; the confidential SECRET is not in this channel's digest at all
    assert (
        "*Dependencies at risk* (2), the largest gap first\\n"
        "• *DELTA* needs *ATLAS* (its end) by Fri 30 Apr 2027: expected Wed 30 Jun 2027, +61 days"
        " — late\\n"
        "• *BRAVO* needs *DELTA* (its end) by Wed 30 Jun 2027: expected Fri 28 May 2027"
        " — what it needs is at risk (root: *ATLAS*)"
    ) in main
    assert "SECRET" not in main
    thread = json.dumps(linked.fake.messages("C0LEADERS"), ensure_ascii=False)
    assert (
        "*Needs* (2)" in thread and "*DELTA* needs *ATLAS* “Data migrated” by Mon 1 Mar" in thread
    )


# ATLAS's PM (Paris) reports on Thursdays at 10:00; DELTA needs ATLAS's end by 1 March and
# tolerates two weeks on time; its sponsor hears of a slip past that.
SLIPPING = f"""
projects:
  - {{key: ATLAS, name: Atlas ERP, pm: {PM_PARIS}, end: 2027-02-26}}
  - {{key: DELTA, name: Delta CRM, pm: {PM_NEW_YORK}, sponsor: {SPONSOR},
     tolerances: {{time_days: 14}},
     depends_on: [{{project: ATLAS, needed_by: 2027-03-01}}]}}
"""
THURSDAY = datetime(2026, 11, 19, 9, 0, tzinfo=UTC)
UTC_ZONE = ZoneInfo("UTC")  # 10:00 in Paris, 04:00 in New York


@pytest.fixture
def slipping(database_url: str, fake_slack: FakeSlack) -> Iterator[Harness]:
    running, stop = start_harness(database_url, fake_slack, SLIPPING)
    yield running
    stop()


def forecast(h: Harness, end: str, at: datetime) -> None:
    """ATLAS's PM answers this period's prompt (or corrects the answer) with a forecast end."""
    h.clock.now = at
    modal = h.open_modal(PM_PARIS, h.prompts_to(PM_PARIS)[-1])
    answer = {**ANSWER, "forecast_end": end}
    response = h.driver.submit_view(PM_PARIS, modal, answer)
    assert response.status == 200 and not response.body, response.body


def subject(h: Harness) -> str:
    """The subject of DELTA's dependency on ATLAS's end (what the alerts and the DMs name)."""
    with h.services.sessions.begin() as session:
        everyone = portfolio.list_projects(session)
        (state,) = portfolio_dependencies(session, everyone, at=h.clock.now, default=UTC_ZONE)
    return state.subject


def slips(h: Harness, user: str) -> list[dict[str, object]]:
    return [m for m in h.fake.messages(user) if "dependenc" in str(m.get("text"))]


def test_a_slip_is_told_once_again_when_it_slips_further_and_when_it_recovers(
    slipping: Harness,
) -> None:
    slipping.tick(THURSDAY)  # ATLAS's prompt; the watch: nothing at risk yet
    forecast(slipping, "2027-03-12", THURSDAY + timedelta(minutes=30))
    # the report makes the watch due at once: the next tick records the DM; New York sleeps
    slipping.tick(THURSDAY + timedelta(minutes=31))
    with slipping.services.sessions.begin() as session:
        recorded = deliveries.latest_of_kind(
            session, DeliveryKind.DEPENDENCY, f"user:{PM_NEW_YORK}:{subject(slipping)}"
        )
    assert recorded is not None and recorded.status is DeliveryStatus.PENDING
    assert slips(slipping, PM_NEW_YORK) == []
    slipping.tick(THURSDAY + timedelta(hours=5))  # 09:00 in New York
    (first,) = slips(slipping, PM_NEW_YORK)
    text = json.dumps(first["blocks"], ensure_ascii=False)
    assert "*ATLAS* (its end) now expected Fri 12 Mar 2027; *DELTA* · Delta CRM needs it by" in text
    assert "Mon 1 Mar 2027: *+11 days*" in text and "Why: late" in text
    assert slips(slipping, SPONSOR) == []  # 11 days: within DELTA's 14
    slipping.tick(THURSDAY + timedelta(hours=6))
    assert len(slips(slipping, PM_NEW_YORK)) == 1  # not told twice
    # it slips further: told again, and the sponsor too (25 days, past 14)
    forecast(slipping, "2027-03-26", THURSDAY + timedelta(hours=6, minutes=30))
    slipping.tick(THURSDAY + timedelta(hours=7))
    assert len(slips(slipping, PM_NEW_YORK)) == 2
    (to_sponsor,) = slips(slipping, SPONSOR)
    assert "past the project's time tolerance" in json.dumps(to_sponsor["blocks"])
    # the PM adds it as a blocker, from the DM's button; a second click adds nothing
    latest = slips(slipping, PM_NEW_YORK)[-1]
    button = latest["blocks"][1]["elements"][0]  # type: ignore[index]
    for _ in range(2):
        clicked = slipping.driver.block_action(
            PM_NEW_YORK, button["action_id"], value=button["value"], message=latest
        )
        assert clicked.status == 200
    added, again = slipping.fake.responses[-2:]
    assert "Added to *DELTA*'s open blockers: _Waiting for ATLAS (its end)_" in json.dumps(added)
    assert "already has it" in json.dumps(again)
    blockers = slipping.command(PM_NEW_YORK, "blockers delta")
    assert "Waiting for ATLAS (its end)" in json.dumps(blockers)
    # someone else's click adds nothing
    slipping.driver.block_action(
        OUTSIDER, button["action_id"], value=button["value"], message=latest
    )
    assert "Only the PM of *DELTA*" in json.dumps(slipping.fake.responses[-1])
    # back on track: a note, once
    forecast(slipping, "2027-02-19", THURSDAY + timedelta(hours=7, minutes=30))
    slipping.tick(THURSDAY + timedelta(hours=8))
    slipping.tick(THURSDAY + timedelta(hours=9))
    notes = [m for m in slipping.fake.messages(PM_NEW_YORK) if "Back on track" in str(m["text"])]
    assert len(notes) == 1
    assert "now expected Fri 19 Feb 2027" in json.dumps(notes[0]["blocks"])


def test_the_app_home_shows_a_pm_what_they_wait_for_at_risk(linked: Harness) -> None:
    assert linked.driver.app_home_opened(PM_NEW_YORK).status == 200
    blocks = linked.fake.home_view(PM_NEW_YORK)["blocks"]
    (waiting,) = [b for b in blocks if b.get("block_id") == "home.waiting"]
    # DELTA needs ATLAS's end (+61 days); BRAVO, through DELTA (no gap of its own)
    assert waiting["text"]["text"] == (
        "*Waiting on other projects*: 2 dependencies at risk"
        "\n:warning: *DELTA* needs *ATLAS* (its end) by Fri 30 Apr 2027: +61 days"
        "\n:warning: *BRAVO* needs *DELTA* (its end) by Wed 30 Jun 2027"
    )
    assert linked.driver.app_home_opened(OUTSIDER).status == 200
    assert all(
        b.get("block_id") != "home.waiting" for b in linked.fake.home_view(OUTSIDER)["blocks"]
    )


def test_a_milestone_forecast_given_in_the_modal_is_what_the_rule_reads(
    database_url: str, fake_slack: FakeSlack
) -> None:
    """ATLAS's PM forecasts its milestone a week past the day DELTA needs it: DELTA's
    dependency is at risk by that gap, told to DELTA's PM, and /pmo deps says so."""
    text = f"""
projects:
  - {{key: ATLAS, name: Atlas ERP, pm: {PM_PARIS},
     milestones: [{{name: Data migrated, due: 2026-12-10}}]}}
  - {{key: DELTA, name: Delta CRM, pm: {PM_NEW_YORK},
     depends_on: [{{project: ATLAS, milestone: Data migrated, needed_by: 2026-12-15}}]}}
"""
    h, stop = start_harness(database_url, fake_slack, text)
    try:
        h.tick(THURSDAY)
        assert ":large_green_circle: on track" in text_of(h.command(OUTSIDER, "deps delta"))
        h.clock.now = THURSDAY + timedelta(minutes=30)
        modal = h.open_modal(PM_PARIS, h.prompts_to(PM_PARIS)[-1])
        (block,) = [
            b["block_id"] for b in modal["blocks"] if str(b.get("block_id")).endswith(".forecast")
        ]
        response = h.driver.submit_view(PM_PARIS, modal, {**ANSWER, block: "2026-12-22"})
        assert response.status == 200 and not response.body, response.body
        deps = text_of(h.command(OUTSIDER, "deps delta"))
        h.tick(THURSDAY + timedelta(hours=5))  # the watch; 09:00 in New York
        told = slips(h, PM_NEW_YORK)
    finally:
        stop()
    assert (
        ":warning: *at risk*: late · *ATLAS* “Data migrated” by Tue 15 Dec 2026 · expected"
        " Tue 22 Dec 2026 (+7 days)" in deps
    )
    assert len(told) == 1 and "*+7 days*" in json.dumps(told[0]["blocks"])


def test_a_project_waiting_on_a_dependency_at_risk_needs_attention(linked: Harness) -> None:
    """DELTA reports green, but ATLAS's end, which it needs, is late: the digest lists DELTA
    under *Needs your attention* with why, and the App Home says the same."""
    thursday = datetime(2026, 11, 19, 15, 0, tzinfo=UTC)  # 10:00 in New York
    linked.tick(thursday)
    linked.clock.now = thursday + timedelta(minutes=10)
    modal = linked.open_modal(PM_NEW_YORK, linked.prompts_to(PM_NEW_YORK)[-1])
    assert not linked.driver.submit_view(PM_NEW_YORK, modal, ANSWER).body
    linked.tick(datetime(2026, 11, 20, 15, 0, tzinfo=UTC))  # Friday 16:00 in Paris
    (digest,) = linked.digests("C0LEADERS")
    main = json.dumps(digest["blocks"], ensure_ascii=False)
    attention = main[main.index("*Needs your attention* (1)") : main.index("Dependencies at risk")]
    assert "*DELTA* · Delta CRM" in attention
    assert ":link: *DELTA* needs *ATLAS* (its end) by Fri 30 Apr 2027" in attention
    assert linked.driver.app_home_opened(ADMIN).status == 200
    home = json.dumps(linked.fake.home_view(ADMIN), ensure_ascii=False)
    assert "*DELTA* · Delta CRM — waiting on a dependency at risk" in home
