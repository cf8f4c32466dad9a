"""`/pmo capacity` through signed slash commands, on both backends: people's load over the
next six months as squares, the most loaded first, the months over 100 % with the projects
that make them (a confidential project only as such for those who may not see it); one person,
one team, one month."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.conftest import ADMIN, OUTSIDER, PM_NEW_YORK, PM_PARIS, Harness, start_harness
from tests.fakes.fake_slack import FakeSlack

# The harness's clock: Monday 16 November 2026.
STAFFED = f"""
people:
  - {{id: {PM_PARIS}, fte: 1, team: Data, run_share: 0.2}}
  - {{id: {PM_NEW_YORK}, fte: 1}}
teams: [{{name: Data, fte: 2}}]
projects:
  - key: ATLAS
    name: Atlas
    pm: {PM_PARIS}
    allocations: [{{person: {PM_PARIS}, share: 0.6, from: 2026-11, to: 2027-01}}]
  - key: SECRET
    name: Nightingale
    pm: {PM_NEW_YORK}
    confidential: true
    allocations:
      - {{person: {PM_PARIS}, share: 0.5, from: 2026-12, to: 2026-12}}
      - {{team: Data, share: 1, from: 2026-11, to: 2027-04}}
"""


@pytest.fixture
def staffed(database_url: str, fake_slack: FakeSlack) -> Iterator[Harness]:
    running, stop = start_harness(database_url, fake_slack, STAFFED)
    yield running
    stop()


def texts(answer: dict[str, object]) -> str:
    return "\n".join(
        b["text"]["text"] if b["type"] == "section" else b["elements"][0]["text"]  # type: ignore[index]
        for b in answer["blocks"]  # type: ignore[attr-defined]
    )


def test_capacity_shows_the_most_loaded_first_and_the_months_over_100(staffed: Harness) -> None:
    answer = staffed.command(OUTSIDER, "capacity")
    text = texts(answer)
    assert answer["text"] == "Capacity: 1 month over 100%"
    # PM_PARIS: 0.6 of 0.8 in Nov (75 %), 1.1 of 0.8 in Dec (138 %), 0.6 in Jan, then nothing
    assert (
        ":large_green_square::large_red_square::large_green_square:"
        ":white_large_square::white_large_square::white_large_square:"
        f" <@{PM_PARIS}>"
    ) in text
    assert f"• <@{PM_PARIS}>: 138% in Dec 2026 — ATLAS 0.6, a confidential project 0.5" in text
    assert "SECRET" not in text and "Nightingale" not in text
    # the team: its own 1 and its member's 0.6 of its 2 in November (80 %), 2.1 in December
    assert (
        ":large_green_square::large_orange_square::large_green_square:"
        ":large_green_square::large_green_square::large_green_square: *Data* (team)"
    ) in text
    assert text.index("*Data* (team)") < text.index(f"<@{PM_PARIS}>")  # teams first
    # the admin may see the confidential project: named
    assert "SECRET 0.5" in texts(staffed.command(ADMIN, "capacity"))


def test_capacity_of_one_person_one_team_one_month(staffed: Harness) -> None:
    one = texts(staffed.command(OUTSIDER, f"capacity <@{PM_NEW_YORK}|ny>"))
    assert f"<@{PM_NEW_YORK}>" in one and f"<@{PM_PARIS}>" not in one
    team = texts(staffed.command(OUTSIDER, "capacity data"))
    assert "*Data* (team)" in team and f"<@{PM_PARIS}>" in team and f"<@{PM_NEW_YORK}>" not in team
    december = texts(staffed.command(OUTSIDER, "capacity 2026-12"))
    assert "*Capacity* in Dec 2026" in december
    assert (
        f":large_red_square: <@{PM_PARIS}> · 138% (ATLAS 0.6, a confidential project 0.5)"
        in december
    )
    unknown = texts(staffed.command(OUTSIDER, "capacity nowhere"))
    assert "I know no person, team or month named *nowhere*" in unknown


def test_capacity_in_french(staffed: Harness) -> None:
    answer = staffed.command(PM_PARIS, "capacity")  # their Slack locale is French
    assert answer["text"] == "Capacité\u00a0: 1 mois au-delà de 100\u00a0%"
    assert "138\u00a0% en déc. 2026" in texts(answer)


def test_the_app_home_shows_a_person_their_own_load(staffed: Harness) -> None:
    assert staffed.driver.app_home_opened(PM_PARIS).status == 200
    blocks = staffed.fake.home_view(PM_PARIS)["blocks"]
    (load,) = [b for b in blocks if b.get("block_id") == "home.load"]
    # Camille (French): 0.6 on ATLAS from November to January, 0.5 on SECRET in December, for
    # 0.8 FTE available (20 % kept for running the business): 138 % in December
    assert load["text"]["text"] == (
        "*Votre charge*, les six prochains mois\u00a0: :large_green_square::large_red_square:"
        ":large_green_square::white_large_square::white_large_square::white_large_square:\n"
        "138\u00a0% en déc. 2026\u00a0: ATLAS 0,6, un projet confidentiel 0,5"
    )
    # someone with nothing allocated sees no such section
    assert staffed.driver.app_home_opened(OUTSIDER).status == 200
    assert all(b.get("block_id") != "home.load" for b in staffed.fake.home_view(OUTSIDER)["blocks"])
