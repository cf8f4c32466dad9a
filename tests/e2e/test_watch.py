"""The planning watch through the real app (bot/delivery/watch.py), on both backends: a person
over 100 % in a month is said once, in working hours, to the PMs whose projects make the load
and to the PMO admins, with the figure and the projects (a confidential one named only to those
who may see it); not again at the next watch; again when it gets worse. An active project
under the cut line is raised once to the admins, and again only after rising and sinking."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.portfolio.importing import import_portfolio
from bot.priorities.stored import STORED_MAX
from storage.portfolio import list_projects as portfolio_of
from tests.e2e.conftest import ADMIN, PM_NEW_YORK, PM_PARIS, SPONSOR, Harness, start_harness
from tests.e2e.test_one_period_state import ANSWER
from tests.fakes.fake_slack import FakeSlack

# The harness's clock: Monday 16 November 2026, 08:00 UTC (09:00 in Paris, 03:00 in New York).
MONDAY = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)


def portfolio(delta_share: str = "0.6", envelope: int = 1000) -> str:
    return f"""
capacity: {{budget: {envelope}}}
people:
  - {{id: {PM_NEW_YORK}, fte: 1}}
projects:
  - {{key: ATLAS, name: Atlas, pm: {PM_PARIS}, priority: 1, budget: 800,
     allocations: [{{person: {PM_NEW_YORK}, share: 0.8, from: 2026-12, to: 2027-02}}]}}
  - {{key: DELTA, name: Delta, pm: {PM_NEW_YORK}, priority: 2, budget: 150,
     allocations: [{{person: {PM_NEW_YORK}, share: {delta_share}, from: 2027-01, to: 2027-01}}]}}
  - {{key: SECRET, name: Nightingale, pm: {SPONSOR}, priority: 3, budget: 100, confidential: true,
     allocations: [{{person: {PM_NEW_YORK}, share: 0.1, from: 2027-01, to: 2027-01}}]}}
"""


@pytest.fixture
def watched(database_url: str, fake_slack: FakeSlack) -> Iterator[Harness]:
    running, stop = start_harness(database_url, fake_slack, portfolio())
    yield running
    stop()


def dms(harness: Harness, user: str, marker: str) -> list[dict[str, Any]]:
    return [m for m in harness.fake.messages(user) if marker in m.get("text", "")]


def texts(message: dict[str, Any]) -> str:
    return "\n".join(
        b["text"]["text"] if b["type"] == "section" else b["elements"][0]["text"]
        for b in message["blocks"]
    )


def reimport(harness: Harness, text: str) -> None:
    with harness.services.sessions.begin() as session:
        import_portfolio(session, text, now=harness.clock.now)


def test_an_overload_is_said_once_to_the_pms_who_make_it_and_the_admins(
    watched: Harness,
) -> None:
    watched.tick(MONDAY)
    # January: ATLAS 0.8 + DELTA 0.6 + SECRET 0.1 = 150 % of Jordan's time
    (to_admin,) = dms(watched, ADMIN, "over-allocation")
    text = texts(to_admin)
    assert (
        f"<@{PM_NEW_YORK}>: *150%* in Jan 2027: ATLAS 0.8, DELTA 0.6, SECRET 0.1"
        " (1.5 for 1 FTE available)" in text
    )
    (to_paris,) = dms(watched, PM_PARIS, "surcharge")  # in their language
    assert (
        "*150\u00a0%* en janv. 2027\u00a0: ATLAS 0,8, DELTA 0,6, un projet confidentiel 0,1"
        in texts(to_paris)
    )
    assert "SECRET" not in texts(to_paris)  # not theirs to see
    (to_sponsor,) = dms(watched, SPONSOR, "over-allocation")  # SECRET's PM sees it named
    assert "SECRET 0.1" in texts(to_sponsor)
    # 03:00 in New York: Jordan's waits for their morning
    assert dms(watched, PM_NEW_YORK, "over-allocation") == []
    watched.tick(MONDAY + timedelta(hours=6))  # 09:00 in New York; the watch runs again
    (to_jordan,) = dms(watched, PM_NEW_YORK, "over-allocation")
    assert "*150%* in Jan 2027" in texts(to_jordan)
    assert len(dms(watched, ADMIN, "over-allocation")) == 1  # not said again
    assert len(dms(watched, PM_PARIS, "surcharge")) == 1


def test_an_overload_is_said_again_only_when_it_gets_worse(watched: Harness) -> None:
    watched.tick(MONDAY)
    reimport(watched, portfolio(delta_share="0.5"))  # better: 140 %
    watched.tick(MONDAY + timedelta(hours=1))
    assert len(dms(watched, ADMIN, "over-allocation")) == 1
    reimport(watched, portfolio(delta_share="0.9"))  # worse: 180 %
    watched.tick(MONDAY + timedelta(hours=1, minutes=30))  # within the hour: not yet
    assert len(dms(watched, ADMIN, "over-allocation")) == 1
    watched.tick(MONDAY + timedelta(hours=2))
    _, again = dms(watched, ADMIN, "over-allocation")
    # the largest first
    assert "*180%* in Jan 2027: DELTA 0.9, ATLAS 0.8, SECRET 0.1" in texts(again)
    assert len(dms(watched, PM_PARIS, "surcharge")) == 2


def test_an_active_project_under_water_is_raised_once_to_the_admins(watched: Harness) -> None:
    watched.tick(MONDAY)
    # ATLAS 800 fits the 1,000 envelope; DELTA takes it to 950, SECRET to 1,050: under water
    (raised,) = dms(watched, ADMIN, "under the cut line")
    assert raised["text"] == "1 active project is under the cut line: SECRET"
    assert "`3.` *SECRET* · Nightingale — priority 3 · cumulative 1,050" in texts(raised)
    assert dms(watched, PM_PARIS, "cut line") == []  # the admins decide
    watched.tick(MONDAY + timedelta(hours=1))
    assert len(dms(watched, ADMIN, "under the cut line")) == 1
    reimport(watched, portfolio(envelope=2000))  # above the line again
    watched.tick(MONDAY + timedelta(hours=2))
    reimport(watched, portfolio(envelope=900))  # DELTA and SECRET sink
    watched.tick(MONDAY + timedelta(hours=3))
    _, again = dms(watched, ADMIN, "under the cut line")
    assert again["text"] == "2 active projects are under the cut line: DELTA, SECRET"


# The default portfolio's weekly Thursday cadence (tests/e2e/conftest.py): ATLAS's PM, in
# Paris, counts the default 0.2 of their time on it; no one else is planned on it.
THU_12 = datetime(2026, 11, 12, 9, 0, tzinfo=UTC)  # 10:00 in Paris
THU_19 = datetime(2026, 11, 19, 9, 0, tzinfo=UTC)
FRI_20_DIGEST = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)  # Friday 16:00 in Paris


def report_pulse(h: Harness, at: datetime, pulse: str) -> None:
    h.tick(at)
    modal = h.open_modal(PM_PARIS, h.prompts_to(PM_PARIS)[-1])
    (block,) = [b for b in modal["blocks"] if b.get("block_id") == "capacity_pulse"]
    assert [o["value"] for o in block["element"]["options"]] == ["enough", "tight", "short"]
    assert block["optional"] is True  # one click, never in the way
    response = h.driver.submit_view(PM_PARIS, modal, {**ANSWER, "capacity_pulse": pulse})
    assert response.status == 200 and not response.body, response.body


@pytest.mark.parametrize(("first", "flagged"), [("short", True), ("tight", False)])
def test_two_periods_short_while_the_plan_says_enough_flag_capacity_on_paper(
    harness: Harness, first: str, flagged: bool
) -> None:
    report_pulse(harness, THU_12, first)
    report_pulse(harness, THU_19, "short")
    harness.tick(FRI_20_DIGEST)
    (digest,) = harness.digests("C0LEADERS")
    text = json.dumps(digest["blocks"], ensure_ascii=False)
    reason = (
        "Capacity on paper only: the team is short for 2 periods, while the plan has its people"
        " at 20% at most"
    )
    assert (reason in text) is flagged
    # the App Home's summary (the read model) says the same
    assert harness.driver.app_home_opened(ADMIN).status == 200
    home = json.dumps(harness.fake.home_view(ADMIN), ensure_ascii=False)
    assert ("*ATLAS* · Atlas ERP migration — flagged" in home) is flagged


def test_a_figure_with_decimals_is_said_once(database_url: str, fake_slack: FakeSlack) -> None:
    """1.0 of a 0.75 FTE's time is 133.33…%: written 134%, compared as written (not said again
    every hour for its decimals)."""
    thirds = f"""
people:
  - {{id: {PM_NEW_YORK}, fte: 0.75}}
projects:
  - {{key: ATLAS, name: Atlas, pm: {PM_PARIS}, priority: 1,
     allocations: [{{person: {PM_NEW_YORK}, share: 1.0, from: 2027-01, to: 2027-01}}]}}
"""
    running, stop = start_harness(database_url, fake_slack, thirds)
    try:
        for hours in (0, 1, 2):
            running.tick(MONDAY + timedelta(hours=hours))
        (said,) = dms(running, ADMIN, "over-allocation")
    finally:
        stop()
    assert "*134%* in Jan 2027" in texts(said)  # rounded up: never "100%" when over


def test_a_deferred_overload_dm_says_the_plan_as_it_is_when_sent(watched: Harness) -> None:
    watched.tick(MONDAY)  # Jordan's DM waits for the morning in New York
    assert len(dms(watched, ADMIN, "over-allocation")) == 1  # it was said (in Paris, awake)
    reimport(watched, portfolio(delta_share="0.1"))  # 0.8 + 0.1 + 0.1: 100 %, no longer over
    watched.tick(MONDAY + timedelta(hours=6))
    assert dms(watched, PM_NEW_YORK, "over-allocation") == []
    reimport(watched, portfolio(delta_share="0.3"))  # over again, but less than was said
    watched.tick(MONDAY + timedelta(hours=7))
    assert dms(watched, PM_NEW_YORK, "over-allocation") == []  # not worse than 150 %: not news


def test_an_impossible_score_does_not_stop_the_tick(
    database_url: str, fake_slack: FakeSlack
) -> None:
    """A WSJF past what the database holds is stored at its ceiling; and whatever fails in the
    watch, the tick goes on: prompts and digests still go out."""
    huge = f"""
method: wsjf
projects:
  - {{key: ATLAS, name: Atlas, pm: {PM_PARIS},
     scores: {{business_value: 1000000000000000000, time_criticality: 1, risk_reduction: 1,
               job_size: 0.000001}}}}
"""
    running, stop = start_harness(database_url, fake_slack, huge)
    try:
        with running.services.sessions.begin() as session:
            (atlas,) = portfolio_of(session)
        assert atlas.rank_score == STORED_MAX
        result = running.tick(datetime(2026, 11, 19, 9, 0, tzinfo=UTC))  # Thursday 10:00 Paris
    finally:
        stop()
    assert result.prompts_sent == 1


def test_a_failing_watch_does_not_hold_up_the_tick(
    watched: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("the watch broke")

    monkeypatch.setattr("bot.delivery.tick.watch_when_due", broken)
    result = watched.tick(datetime(2026, 11, 19, 9, 0, tzinfo=UTC))  # Thursday 10:00 in Paris
    assert result.prompts_sent == 2  # ATLAS's and SECRET's PMs, in Paris, are asked all the same
