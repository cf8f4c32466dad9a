"""`/pmo` lookups end to end, through signed requests to the real Bolt app: status, list,
risks, blockers, history, mine and help, each also with `public`; forgiving keys; and a
confidential project, unknown to outsiders (nothing of it leaks) and shown to its sponsor."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from storage import audit, deliveries, items, reports
from storage.deliveries import Claim
from storage.portfolio import find_project, list_projects
from storage.records import BlockerSpec, DeliveryKind, RiskSpec
from tests import factories
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

PORTFOLIO = f"""
projects:
  - key: ATLAS
    name: Atlas ERP migration
    pm: {PM_PARIS}
    sponsor: {SPONSOR}
    portfolio: Opérations
    tags: [erp, finance]
    priority: 1
    milestones:
      - {{name: Design signed off, due: 2026-10-01, done: 2026-10-01}}
      - {{name: Cut-over rehearsal, due: 2026-12-04}}
      - {{name: Go-live, due: 2027-03-01}}
  - key: BOREAL
    name: Boreal CRM rollout
    pm: {PM_NEW_YORK}
    portfolio: Digital
    tags: [crm]
  - key: DATA-1
    name: Data lake
    pm: {PM_NEW_YORK}
    portfolio: Digital
    delegates: [{PM_PARIS}]
  - key: DWH
    name: Data warehouse
    pm: {PM_NEW_YORK}
  - key: SECRET
    name: Système de paie
    pm: {PM_NEW_YORK}
    sponsor: {SPONSOR}
    portfolio: Paie RH
    tags: [payroll]
    confidential: true
digests:
  - channel: C0LEADERS
    timezone: Europe/Paris
  - channel: C0PAYROLL
    keys: [SECRET]
"""
# The harness's clock: Monday 16 Nov 2026, 08:00 UTC. Every project reports on Thursdays at
# 10:00 (Paris, PMO_TIMEZONE, for PMs whose timezone is not cached): the current period began
# on Thursday 12 Nov, every PM was prompted then, and the reminder's 24 hours are past.
THU = datetime(2026, 11, 12, 9, 0, tzinfo=UTC)


def week(n: int) -> datetime:
    return THU - timedelta(weeks=n)


def dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


@pytest.fixture
def h(database_url: str, fake_slack: FakeSlack) -> Iterator[Harness]:
    fake_slack.add_channel("C0PAYROLL", name="payroll")
    running, stop = start_harness(database_url, fake_slack, PORTFOLIO)
    seed(running)
    yield running
    stop()


def seed(h: Harness) -> None:
    """ATLAS: green, amber, a skipped period, then red this period, with risks, blockers and a
    change in the audit log. SECRET: a report, a risk and a blocker of its own."""
    with h.services.sessions.begin() as session:
        atlas, secret = find_project(session, "ATLAS"), find_project(session, "SECRET")
        boreal = find_project(session, "BOREAL")
        assert atlas and secret and boreal
        for n, rating, summary in ((3, "green", "Kick-off."), (2, "amber", "Vendor late.")):
            save(session, atlas.id, week(n), rating, summary)
        reports.save_skip(
            session,
            project_id=atlas.id,
            period_start=week(1),
            reason=factories.skip().reason,
            note=None,
            skipped_by=PM_PARIS,
            skipped_at=week(1),
        )
        save(session, atlas.id, THU, "red", "Cut-over <!channel> slipped & more.")
        save(session, secret.id, THU, "amber", "Payroll secret summary.")
        items.save_risks(
            session,
            atlas.id,
            [
                RiskSpec("Key user availability", 3, 4, owner=SPONSOR),
                RiskSpec("Data quality", 5, 5, owner="Finance team"),
                RiskSpec("Minor licence cost", 1, 2),
            ],
            period_start=THU,
            now=THU,
        )
        items.save_risks(
            session, boreal.id, [RiskSpec("CRM vendor exit", 4, 4)], period_start=THU, now=THU
        )
        items.save_risks(
            session, secret.id, [RiskSpec("Salary leak", 5, 5)], period_start=THU, now=THU
        )
        items.save_blockers(
            session,
            atlas.id,
            [BlockerSpec("Test environment down", unblocker="IT ops")],
            period_start=week(2),
            now=week(2),
        )
        items.save_blockers(
            session,
            boreal.id,
            [BlockerSpec("Licence budget decision", unblocker=SPONSOR, needs_leadership=True)],
            period_start=THU,
            now=THU,
        )
        items.save_blockers(
            session,
            secret.id,
            [BlockerSpec("Union consultation", needs_leadership=True)],
            period_start=THU,
            now=THU,
        )
        audit.record(
            session,
            actor=ADMIN,
            at=THU,
            action="updated",
            project_id=atlas.id,
            changes={"end": ["2027-06-30", "2027-09-30"]},
        )
        for project in list_projects(session):  # this period's prompts went out on time
            prompted(session, project.id, THU)


def prompted(session: Session, project_id: int, at: datetime) -> None:
    """Record the period's prompt as planning records it, and as sent at `at`."""
    claim = Claim(
        DeliveryKind.PROMPT,
        f"project:{project_id}",
        at,
        project_id=project_id,
        payload={"tz": "Europe/Paris"},
    )
    (delivery_id,) = deliveries.enqueue(session, [claim], now=at)
    deliveries.mark_sent(session, delivery_id, channel="D0PROMPT", ts=f"{project_id}.0", now=at)


def save(session: Any, project_id: int, period: datetime, rating: str, summary: str) -> None:
    reports.save_report(
        session,
        factories.draft(rating, summary=summary, percent_complete=40),
        project_id=project_id,
        period_start=period,
        submitted_by=PM_PARIS,
        submitted_at=period,
    )


def public(h: Harness, user: str, text: str, channel: str = "C0GENERAL") -> dict[str, Any]:
    """`/pmo text public` typed in `channel`: the answer posted there."""
    before = len(h.fake.responses)
    response = h.driver.command(user, f"{text} public", channel_id=channel)
    assert response.status == 200, response.body
    assert len(h.fake.responses) == before + 1
    answer = h.last_response()
    assert answer["response_type"] == "in_channel"
    return answer


SECRET_BITS = ("SECRET", "Système", "paie", "Paie", "Payroll", "Salary", "Union")


def assert_nothing_secret(answer: dict[str, Any]) -> None:
    text = dump(answer)
    for bit in SECRET_BITS:
        assert bit not in text, bit


# --- status -----------------------------------------------------------------------------------


def test_status_shows_the_report_strip_risks_blockers_milestone_and_people(h: Harness) -> None:
    answer = h.command(OUTSIDER, "status atlas")
    assert answer["response_type"] == "ephemeral"
    text = dump(answer)
    # Eight periods, oldest first: four without a report, green, amber, skipped, red.
    strip = ":white_circle:" * 4 + ":large_green_circle::large_orange_circle:"
    assert strip + ":fast_forward::red_circle:" in text
    assert "Cut-over &lt;!channel&gt; slipped &amp; more." in text  # escaped, not dropped
    # Risks by score, with their owner; blockers with who unblocks them and their age.
    assert text.index("`25` · Data quality") < text.index("`12` · Key user availability")
    assert "Finance team" in text and f"<@{SPONSOR}>" in text
    assert "Test environment down" in text and "17 days old" in text and "IT ops" in text
    assert "Cut-over rehearsal, Fri 4 Dec 2026" in text  # the next one not reached
    assert "Design signed off" not in text
    assert f"*PM*\\n<@{PM_PARIS}>" in text and f"*Sponsor*\\n<@{SPONSOR}>" in text
    assert "report in" in text  # this period's report is in


@pytest.mark.parametrize(
    ("typed", "note"),
    [
        ("ATLAS", False),
        ("atlas", False),
        ("ATLSA", True),  # a typo
        ("atl", True),  # a prefix
        ("atlas erp", True),  # a name prefix
        ("erp migration", True),  # words of the name
    ],
)
def test_status_finds_a_project_however_it_is_typed(h: Harness, typed: str, note: bool) -> None:
    text = dump(h.command(OUTSIDER, f"status {typed}"))
    assert "ATLAS · Atlas ERP migration" in text
    assert ("Closest match for" in text) == note


def test_status_lists_candidates_when_several_match_and_suggests_when_none(h: Harness) -> None:
    several = dump(h.command(OUTSIDER, "status data"))
    assert "*data* matches 2 projects" in several
    assert "`/pmo status DATA-1`" in several and "`/pmo status DWH`" in several
    none = dump(h.command(OUTSIDER, "status atlantis"))
    assert "I found no project *atlantis*" in none and "Did you mean *ATLAS*" in none
    assert "Which project?" in dump(h.command(OUTSIDER, "status"))


@pytest.mark.parametrize("typed", ["SECRET", "secret", "systeme de paie", "Système", "SECRT"])
def test_a_confidential_project_is_unknown_to_an_outsider(h: Harness, typed: str) -> None:
    for verb in ("status", "history", "risks", "blockers"):
        answer = h.command(OUTSIDER, f"{verb} {typed}")
        text = dump(answer)
        assert f"I found no project *{typed}*" in text, (verb, text)
        # Only what the outsider typed comes back: nothing of the project, not even a hint.
        rest = text.replace(typed, "")
        for bit in SECRET_BITS:
            assert bit not in rest, (verb, bit)


def test_a_confidential_project_is_shown_to_its_sponsor_pm_and_admins(h: Harness) -> None:
    for user in (SPONSOR, PM_NEW_YORK, ADMIN):
        text = dump(h.command(user, "status systeme de paie"))
        assert "SECRET · Système de paie" in text and "Payroll secret summary." in text
        assert "Salary leak" in text and "Union consultation" in text
    assert "Salary leak" in dump(h.command(SPONSOR, "risks"))
    assert "SECRET" in dump(h.command(SPONSOR, "list paie"))


def test_status_public_is_posted_in_the_channel_but_never_a_confidential_project(
    h: Harness,
) -> None:
    assert "Atlas ERP migration" in dump(public(h, OUTSIDER, "status atlas"))
    # The sponsor may see SECRET, the general channel may not: nothing of it is posted.
    refused = public(h, SPONSOR, "status secret")
    assert "confidential" in dump(refused)
    assert "Payroll secret summary." not in dump(refused) and "Système" not in dump(refused)
    # The payroll channel's digest follows SECRET: there it may be posted.
    shown = public(h, SPONSOR, "status secret", channel="C0PAYROLL")
    assert "Payroll secret summary." in dump(shown)
    # An outsider learns nothing, in a channel either.
    assert_nothing_secret(public(h, OUTSIDER, "status secret", channel="C0PAYROLL"))


# --- list -------------------------------------------------------------------------------------


def keys_listed(answer: dict[str, Any]) -> list[str]:
    text = dump(answer)
    return [k for k in ("ATLAS", "BOREAL", "DATA-1", "DWH", "SECRET") if f"*{k}*" in text]


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("", ["ATLAS", "BOREAL", "DATA-1", "DWH"]),
        ("red", ["ATLAS"]),
        ("Rouge", ["ATLAS"]),
        ("amber", []),  # SECRET is amber, but unknown to an outsider
        ("green", []),
        ("missing", ["BOREAL", "DATA-1", "DWH"]),
        ("digital", ["BOREAL", "DATA-1"]),
        ("DIGITL", ["BOREAL", "DATA-1"]),  # a typo
        ("operations", ["ATLAS"]),  # accents
        ("Opérations", ["ATLAS"]),
        ("finance", ["ATLAS"]),  # a tag
        ("crm", ["BOREAL"]),
    ],
)
def test_list_filters_by_colour_missing_portfolio_or_tag(
    h: Harness, word: str, expected: list[str]
) -> None:
    assert keys_listed(h.command(OUTSIDER, f"list {word}".strip())) == expected


def test_list_shows_who_owes_the_missing_reports(h: Harness) -> None:
    text = dump(h.command(OUTSIDER, "list missing"))
    assert "*Active projects whose report for this period is missing* (3)" in text
    assert "report late" in text and ("Jordan Lee" in text or PM_NEW_YORK in text)


def test_list_with_an_unknown_or_confidential_word_says_so_and_leaks_nothing(
    h: Harness,
) -> None:
    for word in ("paie", "payroll", "Paie RH"):
        answer = h.command(OUTSIDER, f"list {word}")
        assert "No portfolio, tag or filter matches" in dump(answer)
        assert_nothing_secret({"blocks": answer["blocks"][1:]})  # the echo of the word aside
        assert "Did you mean" not in dump(answer)
    close = dump(h.command(OUTSIDER, "list digitalization"))
    assert "Did you mean `Digital`?" in close


def test_list_public_leaves_confidential_projects_out(h: Harness) -> None:
    answer = public(h, ADMIN, "list")
    assert keys_listed(answer) == ["ATLAS", "BOREAL", "DATA-1", "DWH"]
    assert "Confidential projects are left out" in dump(answer)
    assert keys_listed(h.command(ADMIN, "list")) == ["ATLAS", "BOREAL", "DATA-1", "DWH", "SECRET"]


# --- risks and blockers -----------------------------------------------------------------------


def test_risks_are_ranked_by_score_for_all_or_one_project(h: Harness) -> None:
    text = dump(h.command(OUTSIDER, "risks"))
    order = ["Data quality", "CRM vendor exit", "Key user availability", "Minor licence cost"]
    assert [text.index(t) for t in order] == sorted(text.index(t) for t in order)
    assert "*Open risks* (4)" in text and "Salary leak" not in text
    one = dump(h.command(OUTSIDER, "risks boreal"))
    assert "CRM vendor exit" in one and "Data quality" not in one
    assert "Salary leak" in dump(public(h, ADMIN, "risks", channel="C0PAYROLL"))
    assert "Salary leak" not in dump(public(h, ADMIN, "risks"))


def test_blockers_ask_leadership_first_with_age_and_who_unblocks(h: Harness) -> None:
    text = dump(h.command(OUTSIDER, "blockers"))
    assert text.index("Licence budget decision") < text.index("Test environment down")
    assert ":sos: *BOREAL* · Licence budget decision _(3 days old · unblocked by" in text
    assert "*ATLAS* · Test environment down _(17 days old · unblocked by IT ops)_" in text
    assert "Union consultation" not in text
    assert "Union consultation" in dump(h.command(ADMIN, "blockers"))
    assert "Licence budget decision" in dump(public(h, OUTSIDER, "blockers"))
    assert "Nothing is blocked" in dump(h.command(OUTSIDER, "blockers dwh"))


# --- history ----------------------------------------------------------------------------------


def test_history_shows_the_last_reports_and_the_recorded_changes(h: Harness) -> None:
    text = dump(h.command(OUTSIDER, "history atlas"))
    assert "*Last 8 reports*" in text
    for summary in ("Kick-off.", "Vendor late.", "Cut-over &lt;!channel&gt; slipped"):
        assert summary in text
    assert text.index("Cut-over") < text.index("Vendor late.") < text.index("Kick-off.")
    assert f"<@{ADMIN}> · changed" in text and "end: 2027-06-30 → 2027-09-30" in text

    two = dump(h.command(OUTSIDER, "history ATLAS 2"))
    assert "*Last 2 reports*" in two and "Kick-off." not in two and "Vendor late." in two
    assert "No status report yet." in dump(h.command(OUTSIDER, "history boreal"))
    assert "Vendor late." in dump(public(h, OUTSIDER, "history atlas 2"))


# --- mine -------------------------------------------------------------------------------------


def test_mine_lists_my_projects_as_pm_or_delegate_and_what_i_owe(h: Harness) -> None:
    # Jordan (English by default) manages BOREAL, DATA-1, DWH and SECRET; none reported.
    text = dump(h.command(PM_NEW_YORK, "mine"))
    assert "*Your projects* (4): you owe 3 reports this period" in text
    for key in ("BOREAL", "DATA-1", "DWH", "SECRET"):
        assert f"*{key}*" in text
    assert ":white_check_mark: *SECRET*" in text and "report in" in text
    assert ":warning: *BOREAL*" in text and "report late" in text
    # Camille (fr-FR) is ATLAS's PM and DATA-1's delegate: answered in French.
    french = dump(h.command(PM_PARIS, "mine"))
    assert "*Vos projets* (2)" in french and "_(délégué)_" in french
    assert ":white_check_mark: *ATLAS*" in french and ":warning: *DATA-1*" in french
    assert "not the PM or a delegate" in dump(h.command(OUTSIDER, "mine"))
    posted = dump(public(h, PM_NEW_YORK, "mine"))
    assert "*BOREAL*" in posted and "SECRET" not in posted


# --- help -------------------------------------------------------------------------------------


def test_help_documents_every_lookup(h: Harness) -> None:
    text = dump(h.command(OUTSIDER, "help"))
    for syntax in (
        "/pmo status KEY",
        "/pmo list [filter]",
        "/pmo risks [KEY]",
        "/pmo blockers [KEY]",
        "/pmo history KEY [N]",
        "/pmo mine",
        "`public`",
    ):
        assert syntax in text, syntax
    assert "/pmo risks [CLÉ]" in dump(h.command(PM_PARIS, "help"))
    assert "/pmo mine" in dump(public(h, OUTSIDER, "help"))
