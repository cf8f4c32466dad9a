"""One answer to "what is this period's state?", whichever surface asks, at the same instant.

Every surface reads bot/periods/state.py: `/pmo mine`, `/pmo list missing`, `/pmo status`,
`/pmo export missing`, the App Home and the digest. These tests put them side by side at the
instants where earlier versions disagreed:

* a prompt that went out three hours late (the bot was down at 10:00): the PM is *due* until
  the reminder's time, 24 hours after the prompt went out, and *late* from then on (the lookups
  used to count from 10:00 and said *late* an hour after the App Home said *due*);
* the very instant a new period begins: the period that began before it is still the current
  one, everywhere, digest included (the lookups used to show the previous period, the App Home
  the new one); from the next instant, the new period is, everywhere.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.e2e.conftest import ADMIN, PM_PARIS, SPONSOR, Harness, start_harness
from tests.fakes.fake_slack import FakeSlack

pytestmark = pytest.mark.e2e

PORTFOLIO = f"""
projects:
  - key: ATLAS
    name: Atlas ERP migration
    pm: {PM_PARIS}
    sponsor: {SPONSOR}
digests:
  - channel: C0FRIDAY
    schedule: "FREQ=WEEKLY;BYDAY=FR;BYHOUR=11;BYMINUTE=0"
    timezone: Europe/Paris
    keys: [ATLAS]
  - channel: C0THURSDAY
    schedule: "FREQ=WEEKLY;BYDAY=TH;BYHOUR=10;BYMINUTE=0"
    timezone: Europe/Paris
    keys: [ATLAS]
"""
# ATLAS reports on Thursdays at 10:00, Paris (the default cadence, in its PM's timezone).
THU_19_1300 = datetime(2026, 11, 19, 12, 0, tzinfo=UTC)  # 13:00 in Paris: 3 hours late
FRI_20_1100 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)  # 11:00: a day after 10:00
FRI_20_1330 = datetime(2026, 11, 20, 12, 30, tzinfo=UTC)  # a day after the prompt went out
THU_26_1000 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)  # the next period begins
# Each state's emoji, as every surface shows it (message_templates/<lang>/_lookup.j2).
EMOJI = {
    "done": ":white_check_mark:",
    "skipped": ":fast_forward:",
    "due": ":hourglass_flowing_sand:",
    "late": ":warning:",
    "not_asked": ":mailbox_closed:",
}
ANSWER = {
    "overall": "green",
    "schedule": "green",
    "budget": "green",
    "scope": "green",
    "summary": "On track.",
}


@pytest.fixture
def h(database_url: str, fake_slack: FakeSlack) -> Iterator[Harness]:
    fake_slack.add_channel("C0FRIDAY", name="friday")
    fake_slack.add_channel("C0THURSDAY", name="thursday")
    running, stop = start_harness(database_url, fake_slack, PORTFOLIO)
    yield running
    stop()


def state_in(text: str) -> str:
    """The one period state a piece of text shows."""
    found = [state for state, emoji in EMOJI.items() if emoji in text]
    assert len(found) == 1, text
    return found[0]


def texts(answer: dict[str, Any]) -> list[str]:
    """Every mrkdwn text of an answer's blocks, fields included."""
    found = []
    for block in answer.get("blocks", []):
        if isinstance(block.get("text"), dict):
            found.append(str(block["text"]["text"]))
        found += [str(f["text"]) for f in block.get("fields", [])]
    return found


def line_of(answer: dict[str, Any], key: str) -> str | None:
    """The line of an answer that names the project, if any."""
    lines = [line for text in texts(answer) for line in text.splitlines()]
    return next((line for line in lines if f"*{key}*" in line), None)


def via_mine(h: Harness) -> str:
    line = line_of(h.command(PM_PARIS, "mine"), "ATLAS")
    assert line is not None
    return state_in(line)


def via_status(h: Harness) -> str:
    (field,) = [t for t in texts(h.command(ADMIN, "status ATLAS")) if "*This period*" in t]
    return state_in(field)


def via_list_missing(h: Harness) -> str | None:
    line = line_of(h.command(ADMIN, "list missing"), "ATLAS")
    return state_in(line) if line is not None else None


def via_export_missing(h: Harness) -> bool:
    """Whether `/pmo export missing` puts ATLAS in its file."""
    before = len(h.fake.files)
    h.command(ADMIN, "export missing")
    if len(h.fake.files) == before:
        return False
    data = h.fake.files[-1]["bytes"]
    _header, *rows = csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""))
    return [row[0] for row in rows] == ["ATLAS"]  # the first column is the key


def via_home(h: Harness) -> tuple[str, str]:
    """The state the PM's Home shows, and the first day of the period it names."""
    response = h.driver.app_home_opened(PM_PARIS)
    assert response.status == 200
    view = h.fake.home_view(PM_PARIS)
    assert view is not None
    (row,) = [b for b in view["blocks"] if b.get("block_id", "").startswith("home.project.")]
    state_line = str(row["text"]["text"]).splitlines()[-1]  # after the last report's line
    day = re.search(r"période du (\w+\. \d+ \w+\.? \d{4})\)", state_line)
    assert day is not None, state_line
    return state_in(state_line), day.group(1)


def digest_missing(h: Harness, channel: str) -> bool:
    """Whether the digest last posted in a channel lists ATLAS as missing."""
    digest = h.digests(channel)[-1]
    counts = re.search(r"(\d+) green, (\d+) not reported", str(digest["text"]))
    assert counts is not None, digest["text"]
    missing = int(counts.group(2)) == 1
    assert missing == any("Missing and stale" in t and "*ATLAS*" in t for t in texts(digest))
    return missing


def every_surface(h: Harness, at: datetime) -> dict[str, Any]:
    h.clock.now = at
    home_state, home_day = via_home(h)
    return {
        "mine": via_mine(h),
        "status": via_status(h),
        "home": home_state,
        "list missing": via_list_missing(h),
        "export missing": via_export_missing(h),
        "period": home_day,
    }


def agreeing(state: str, *, missing: bool, period: str) -> dict[str, Any]:
    return {
        "mine": state,
        "status": state,
        "home": state,
        "list missing": state if missing else None,
        "export missing": missing,
        "period": period,
    }


def test_a_prompt_three_hours_late_is_due_then_late_on_every_surface(h: Harness) -> None:
    h.tick(THU_19_1300)  # the 10:00 occurrence, caught up at 13:00
    (prompt,) = h.prompts_to(PM_PARIS)

    h.tick(FRI_20_1100)  # the Friday digest, a day after 10:00 but not after the prompt
    assert every_surface(h, FRI_20_1100) == agreeing(
        "due", missing=True, period="jeu. 19 nov. 2026"
    )
    assert digest_missing(h, "C0FRIDAY")
    assert h.prompts_to(PM_PARIS) == [prompt]  # and no reminder yet: it is not late

    h.tick(FRI_20_1330)  # 24 hours after the prompt went out: late, and reminded once
    assert every_surface(h, FRI_20_1330) == agreeing(
        "late", missing=True, period="jeu. 19 nov. 2026"
    )
    replies = [m for m in h.fake.messages(PM_PARIS) if m.get("thread_ts") == prompt["ts"]]
    assert len(replies) == 1


def test_at_the_instant_a_period_begins_every_surface_still_shows_the_last_one(
    h: Harness,
) -> None:
    h.tick(THU_19_1300)
    (prompt,) = h.prompts_to(PM_PARIS)
    modal = h.open_modal(PM_PARIS, prompt)
    assert h.driver.submit_view(PM_PARIS, modal, ANSWER).status == 200
    done = agreeing("done", missing=False, period="jeu. 19 nov. 2026")
    assert every_surface(h, THU_26_1000 - timedelta(minutes=1)) == done

    h.tick(THU_26_1000)  # the new period's prompt and the Thursday digest, at the same instant
    assert len(h.prompts_to(PM_PARIS)) == 2
    assert every_surface(h, THU_26_1000) == done
    assert not digest_missing(h, "C0THURSDAY")  # the week that just ended, reported

    a_moment_later = THU_26_1000 + timedelta(seconds=1)
    assert every_surface(h, a_moment_later) == agreeing(
        "due", missing=True, period="jeu. 26 nov. 2026"
    )
