"""A project's roles (RACI) end to end, on both backends: shown by `/pmo status` (a signed
slash command); the people they name accountable or informed hear its decisions (a read-only
DM) and its closing summary, once each, in their working hours and their language."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from bot import ids
from storage import deliveries
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
from tests.e2e.test_project_admin import open_modal
from tests.e2e.test_status_loop import answer
from tests.fakes.fake_slack import FakeSlack

WITH_ROLES = f"""
projects:
  - key: ATLAS
    name: Atlas
    pm: {PM_PARIS}
    sponsor: {SPONSOR}
    roles: {{accountable: {SPONSOR}, responsible: [{PM_PARIS}], consulted: [{ADMIN}],
             informed: [{OUTSIDER}]}}
  - key: BOREAL
    name: Boreal
    pm: {PM_PARIS}
"""


@pytest.fixture
def roles(database_url: str, fake_slack: FakeSlack) -> Iterator[Harness]:
    running, stop = start_harness(database_url, fake_slack, WITH_ROLES)
    yield running
    stop()


def sections(answer: dict[str, object]) -> list[str]:
    return [
        b["text"]["text"]  # type: ignore[index]
        for b in answer["blocks"]  # type: ignore[attr-defined]
        if b["type"] == "section" and "text" in b  # type: ignore[index, operator]
    ]


def test_status_shows_who_is_accountable_responsible_consulted_and_informed(
    roles: Harness,
) -> None:
    found = [s for s in sections(roles.command(ADMIN, "status ATLAS")) if "RACI" in s]
    assert found == [
        f"*Roles (RACI)*\nAccountable: <@{SPONSOR}>\nResponsible: <@{PM_PARIS}>"
        f"\nConsulted: <@{ADMIN}>\nInformed: <@{OUTSIDER}>"
    ]
    french = [s for s in sections(roles.command(PM_PARIS, "status ATLAS")) if "RACI" in s]
    assert french and "Autorité\u00a0: " in french[0]
    assert not [s for s in sections(roles.command(ADMIN, "status BOREAL")) if "RACI" in s]


# --- the informed hear decisions and the closing ---------------------------------------------

LYON = "U0LYON0001"  # a French speaker in Paris
KEPT_INFORMED = f"""
projects:
  - key: ATLAS
    name: Atlas ERP migration
    pm: {PM_PARIS}
    sponsor: {SPONSOR}
    roles: {{accountable: {SPONSOR}, responsible: [{PM_PARIS}], consulted: [{OUTSIDER}],
             informed: [{OUTSIDER}, {PM_PARIS}, {PM_NEW_YORK}, {LYON}, {ADMIN}]}}
"""
THU_19_PARIS = datetime(2026, 11, 19, 9, 1, tzinfo=UTC)  # 10:01 in Paris, 04:01 in New York


@pytest.fixture
def kept(database_url: str, fake_slack: FakeSlack) -> Iterator[Harness]:
    fake_slack.add_user(LYON, real_name="Dominique Martin", tz="Europe/Paris", locale="fr-FR")
    running, stop = start_harness(database_url, fake_slack, KEPT_INFORMED)
    yield running
    stop()


def _dms(harness: Harness, user: str, *words: str) -> list[dict[str, Any]]:
    return [
        m for m in harness.fake.messages(user) if all(w in (m.get("text") or "") for w in words)
    ]


def _outbox(harness: Harness, kind: DeliveryKind) -> dict[str, str]:
    with harness.services.sessions.begin() as session:
        found = deliveries.list_deliveries(session, kind=kind)
    return {d.target.split(":")[0]: d.status.value for d in found}


def test_a_decision_reaches_each_informed_person_once_read_only_in_their_hours(
    kept: Harness,
) -> None:
    kept.tick(THU_19_PARIS)
    (prompt,) = kept.prompts_to(PM_PARIS)
    answer(kept, PM_PARIS, prompt, help_needed="Move go-live by <eight> weeks & *why*?")
    # An admin decides from /pmo status (the sponsor, accountable, is told as such).
    kept.clock.now = datetime(2026, 11, 19, 9, 30, tzinfo=UTC)
    shown = kept.command(ADMIN, "status atlas")
    (button,) = [
        b["accessory"]
        for b in shown["blocks"]
        if (b.get("accessory") or {}).get("action_id") == ids.DECIDE
    ]
    kept.driver.block_action(ADMIN, ids.DECIDE, value=button["value"], channel_id="C0GENERAL")
    modal = [v for v in kept.fake.views if v.get("method") == "views.open"][-1]
    done = kept.driver.submit_view(
        ADMIN, modal, {"outcome": "rejected", "rationale": "Not <!channel> this quarter."}
    )
    assert "Decision recorded" in done.body
    kept.tick(datetime(2026, 11, 19, 9, 31, tzinfo=UTC))  # Paris and London at work
    # The PM, also named informed, hears it once, as the PM (in French, "your ask").
    (pm_notice,) = _dms(kept, PM_PARIS, "ATLAS", "décidé")
    assert "votre demande" in str(pm_notice["blocks"])
    # The informed in London: a read-only notice, in English, no button.
    (notice,) = _dms(kept, OUTSIDER, "Leadership decided on ATLAS")
    assert notice["text"] == "Leadership decided on ATLAS: rejected"
    shown_text = str(notice["blocks"])
    assert "leadership decided the project's ask" in shown_text
    assert "Move go-live by &lt;eight&gt; weeks &amp; *why*?" in shown_text
    assert "Not &lt;!channel&gt; this quarter." in shown_text
    assert "name you *Informed*" in shown_text and "your ask" not in shown_text
    assert not [b for b in notice["blocks"] if "accessory" in b or b["type"] == "actions"]
    # The accountable sponsor, as accountable; the French informed, in French.
    (accountable,) = _dms(kept, SPONSOR, "Leadership decided on ATLAS")
    assert "name you *Accountable*" in str(accountable["blocks"])
    (french,) = _dms(kept, LYON, "La direction a décidé sur ATLAS")
    assert "vous nomment *Informé*" in str(french["blocks"])
    # The decider knows; New York is asleep (04:31): theirs waits for their working hours.
    assert _dms(kept, ADMIN, "ATLAS") == []
    assert _dms(kept, PM_NEW_YORK, "ATLAS") == []
    kept.tick(datetime(2026, 11, 19, 13, 30, tzinfo=UTC))  # 08:30 in New York
    kept.tick(datetime(2026, 11, 19, 14, 0, tzinfo=UTC))  # and again: nothing more
    assert len(_dms(kept, PM_NEW_YORK, "Leadership decided on ATLAS")) == 1
    for user in (PM_PARIS, OUTSIDER, SPONSOR, LYON):
        assert len(_dms(kept, user, "ATLAS", "décid") + _dms(kept, user, "ATLAS", "decided")) == 1
    assert _outbox(kept, DeliveryKind.DECISION_NOTICE) == dict.fromkeys(
        (PM_PARIS, SPONSOR, OUTSIDER, PM_NEW_YORK, LYON), DeliveryStatus.SENT.value
    )


def test_the_closing_summary_reaches_the_informed_once_in_their_hours_and_language(
    kept: Harness,
) -> None:
    kept.tick(THU_19_PARIS)
    (prompt,) = kept.prompts_to(PM_PARIS)
    ratings = {"overall": "amber", "schedule": "red", "percent_complete": "90"}
    ratings["path_to_green"] = "Vendor fix by Friday."
    answer(kept, PM_PARIS, prompt, **ratings)
    # Closed at 22:00 in Paris: 21:00 in London, 16:00 in New York.
    kept.clock.now = datetime(2026, 11, 19, 21, 0, tzinfo=UTC)
    view = open_modal(kept, ADMIN, "project close ATLAS")
    assert "get a short summary instead" in str(view["blocks"])
    closed = kept.driver.submit_view(
        ADMIN, view, {"summary": "Live on <!here> & *on budget*.", "lessons": "Rehearse twice."}
    )
    assert closed.status == 200 and not closed.body, closed.body
    (confirmation,) = _dms(kept, ADMIN, "ATLAS is closed and its record archived")
    assert "A short closing summary goes to" in str(confirmation["blocks"])

    def summaries(user: str) -> list[dict[str, Any]]:
        texts = ("ATLAS is closed", "ATLAS est clos")
        return [m for m in kept.fake.messages(user) if m.get("text") in texts]

    kept.tick(datetime(2026, 11, 19, 21, 1, tzinfo=UTC))
    (new_york,) = summaries(PM_NEW_YORK)  # at work in New York
    assert new_york["text"] == "ATLAS is closed"
    text = str(new_york["blocks"])
    assert "was closed by <@U0ADMIN001> on Thu 19 Nov 2026" in text
    assert "Live on &lt;!here&gt; &amp; *on budget*." in text and "Rehearse twice." in text
    assert ":large_orange_circle: Amber overall · schedule Red · budget Green" in text
    assert "90% complete" in text and "name you *Informed*" in text
    for user in (SPONSOR, LYON, OUTSIDER):  # at night in Paris and London: later
        assert summaries(user) == []
    kept.tick(datetime(2026, 11, 20, 7, 5, tzinfo=UTC))  # 08:05 in Paris, 07:05 in London
    (accountable,) = summaries(SPONSOR)
    assert "name you *Accountable*" in str(accountable["blocks"])
    (french,) = summaries(LYON)
    assert french["text"] == "ATLAS est clos"
    assert "90\u00a0% réalisé" in french["blocks"][0]["text"]["text"]
    assert summaries(OUTSIDER) == []
    kept.tick(datetime(2026, 11, 20, 8, 5, tzinfo=UTC))  # 08:05 in London
    kept.tick(datetime(2026, 11, 20, 9, 0, tzinfo=UTC))  # nothing more
    for user in (PM_NEW_YORK, SPONSOR, LYON, OUTSIDER):
        assert len(summaries(user)) == 1, user
    # The PM and the admin, also named informed, have the whole record instead; the
    # informed get no file.
    assert summaries(PM_PARIS) == [] and summaries(ADMIN) == []
    assert sorted(f["channel"] for f in kept.fake.files) == sorted(
        kept.fake.dm_channel(user) for user in (PM_PARIS, ADMIN)
    )
    assert _outbox(kept, DeliveryKind.CLOSING_SUMMARY) == dict.fromkeys(
        (SPONSOR, OUTSIDER, PM_NEW_YORK, LYON), DeliveryStatus.SENT.value
    )
