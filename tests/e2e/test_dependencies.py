"""Dependencies between projects through the real app (issue 16), on both backends: what a
project needs and what needs it (`/pmo deps`), each on track or at risk, with the root up a
chain; a confidential project named only as such to those who may not see it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from tests.e2e.conftest import ADMIN, OUTSIDER, PM_NEW_YORK, PM_PARIS, Harness, start_harness
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
