"""`/pmo rank` through signed slash commands, on both backends: the open projects the asker may
see, mandatory first then by score on the portfolio's criteria, with their cumulative budget and
the cut line where the capacity runs out; a confidential project stays out of the ranking (and
its sums) for those who may not see it; a portfolio's projects keep their place in the whole."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.conftest import ADMIN, OUTSIDER, PM_PARIS, Harness, start_harness
from tests.fakes.fake_slack import FakeSlack

RANKED = f"""
currency: EUR
criteria:
  - {{name: strategic, weight: 50, scale: [1, 5]}}
  - {{name: value, weight: 30, scale: [1, 5]}}
  - {{name: risk, weight: 20, scale: [1, 5], higher_is_better: false}}
capacity: {{budget: 1800000}}
discount_rate: 10
projects:
  - {{key: ATLAS, name: Atlas, pm: {PM_PARIS}, portfolio: Ops, budget: 1000000,
     start: 2027-01-04, benefits: [{{year: 2027, amount: 400000}}, {{year: 2028, amount: 900000}}],
     scores: {{strategic: 5, value: 4, risk: 2}}}}
  - {{key: BOREAL, name: Boreal, pm: {PM_PARIS}, portfolio: Ops, budget: 800000, mandatory: true,
     scores: {{strategic: 2, value: 3, risk: 4}}}}
  - {{key: CEDAR, name: Cedar, pm: {PM_PARIS}, portfolio: Digital, budget: 300000,
     scores: {{strategic: 3, value: 3, risk: 3}}}}
  - {{key: DELTA, name: Delta, pm: {PM_PARIS}, portfolio: Digital, budget: 100000}}
  - {{key: SECRET, name: Nightingale, pm: {PM_PARIS}, budget: 5000000, confidential: true,
     scores: {{strategic: 5, value: 5, risk: 1}}}}
"""


@pytest.fixture
def ranked(database_url: str, fake_slack: FakeSlack) -> Iterator[Harness]:
    running, stop = start_harness(database_url, fake_slack, RANKED)
    yield running
    stop()


def text_of(answer: dict[str, object]) -> str:
    return "\n".join(
        b["text"]["text"] if b["type"] == "section" else b["elements"][0]["text"]  # type: ignore[index]
        for b in answer["blocks"]  # type: ignore[attr-defined]
    )


def test_rank_orders_mandatory_then_by_score_and_draws_the_cut_line(ranked: Harness) -> None:
    answer = ranked.command(ADMIN, "rank")
    text = text_of(answer)
    assert answer["text"] == "Ranked portfolio: 5 projects"
    # BOREAL (mandatory, 32.5), SECRET (100), ATLAS (87.5), CEDAR (50), DELTA (no score)
    keys = [k for k in ("BOREAL", "SECRET", "ATLAS", "CEDAR", "DELTA") if f"*{k}*" in text]
    assert sorted(keys, key=lambda k: text.index(f"*{k}*")) == keys and len(keys) == 5
    assert (
        "`1.` *BOREAL* · Boreal — :lock: mandatory · score 32.5 · €800,000, cumulative €800,000"
        in text
    )
    # 800,000 + 5,000,000 passes the 1,800,000 envelope at SECRET: it and all below sink
    assert "Capacity €1,800,000: *4 projects under water*" in text
    assert text.index("runs out here") < text.index("*SECRET*")
    assert "`5.` *DELTA* · Delta — no score · €100,000, cumulative €7,200,000 · :ocean:" in text
    assert "strategic 50%, value 30%, risk 20% (lower is better)" in text


def test_a_confidential_project_stays_out_of_the_ranking_and_its_sums(ranked: Harness) -> None:
    text = text_of(ranked.command(OUTSIDER, "rank"))
    assert "SECRET" not in text and "Nightingale" not in text and "5,000,000" not in text
    # without SECRET: BOREAL 800,000, ATLAS 1,800,000 (exactly the envelope), then CEDAR sinks
    assert (
        "`2.` *ATLAS* · Atlas — score 87.5 · €1,000,000, cumulative €1,800,000"
        " · NPV €218,182, paid back in 1.7 years\n" in text
    )
    assert "Capacity €1,800,000: *2 projects under water*" in text
    assert (
        "confidential" not in text
    )  # a confidential project is unknown to those who may not see it
    # the admin may see it, but not show it to the whole channel
    public = text_of(ranked.command(ADMIN, "rank public"))
    assert "SECRET" not in public and "5,000,000" not in public
    assert ":lock: 1 confidential project is left out of this ranking and its sums" in public


def test_a_portfolio_keeps_its_projects_place_in_the_whole_ranking(ranked: Harness) -> None:
    text = text_of(ranked.command(OUTSIDER, "rank digital"))
    assert "*Ranked portfolio: Digital* (2 open projects)" in text
    assert "`3.` *CEDAR*" in text and "`4.` *DELTA*" in text and "ATLAS" not in text
    # the count of projects under water is the portfolio's own (CEDAR and DELTA), not the whole
    assert "Capacity €1,800,000: *2 projects under water*" in text
    ops = text_of(ranked.command(OUTSIDER, "rank ops"))
    assert "Capacity €1,800,000: every project fits" in ops
    unknown = ranked.command(OUTSIDER, "rank nowhere")
    assert "No portfolio or tag you can see is named *nowhere*" in text_of(unknown)
    assert "Digital, Ops" in text_of(unknown)


def test_rank_in_french(ranked: Harness) -> None:
    answer = ranked.command(PM_PARIS, "rank")  # their Slack locale is French
    assert answer["text"] == "Portefeuille classé\u00a0: 5 projets"
    assert "sous la ligne" in text_of(answer)


# The harness's clock: Monday 16 November 2026; the people-months count from November 2026 to
# October 2027. PM_PARIS is named by allocations, so no project counts their default share.
BY_PEOPLE = f"""
capacity: {{people_months: 10}}
people: [{{id: {PM_PARIS}}}]
teams: [{{name: Data, fte: 2}}]
projects:
  - {{key: ALPHA, name: Alpha, pm: {PM_PARIS}, priority: 1,
     allocations: [{{person: {PM_PARIS}, share: 1, from: 2027-01, to: 2027-06}}]}}
  - {{key: BRAVO, name: Bravo, pm: {PM_PARIS}, priority: 2,
     allocations: [{{team: Data, share: 1, from: 2027-01, to: 2027-03}}]}}
  - {{key: CHARLIE, name: Charlie, pm: {PM_PARIS}, priority: 3,
     allocations: [{{person: {PM_PARIS}, share: 0.5, from: 2027-07, to: 2028-02}}]}}
"""


def test_the_cut_line_falls_where_the_people_months_run_out(
    database_url: str, fake_slack: FakeSlack
) -> None:
    running, stop = start_harness(database_url, fake_slack, BY_PEOPLE)
    try:
        text = text_of(running.command(ADMIN, "rank"))
    finally:
        stop()
    assert "Capacity 10 people-months over twelve months: *1 project under water*" in text
    assert "`2.` *BRAVO* · Bravo — priority 2 · no budget · 3 people-months, cumulative 9\n" in text
    # CHARLIE's July to October count (its months past October 2027 are beyond the horizon)
    assert (
        "`3.` *CHARLIE* · Charlie — priority 3 · no budget · 2 people-months, cumulative 11"
        " · :ocean:" in text
    )
    assert text.index("runs out here") < text.index("*CHARLIE*")
