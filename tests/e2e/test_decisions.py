"""Decisions asked of leadership, end to end (issue 13): the PM's answer in the real modal,
over HTTP, opens the project's decision record; answering again updates it; the sponsor
decides from the digest's Decide… button, once, and everyone who needs it hears it once. On
SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from bot import ids
from storage import audit, decisions, deliveries, portfolio
from storage.models import ArchiveRow
from storage.records import ActionState, Decision, DecisionState, DeliveryKind
from tests.e2e.conftest import ADMIN, OUTSIDER, PM_PARIS, SPONSOR, Harness
from tests.e2e.test_project_admin import open_modal
from tests.e2e.test_status_loop import answer

THU_19_PARIS = datetime(2026, 11, 19, 9, 1, tzinfo=UTC)


def _decisions(harness: Harness) -> list[Decision]:
    with harness.services.sessions.begin() as session:
        atlas = next(p for p in portfolio.list_projects(session) if p.key == "ATLAS")
        return decisions.of_projects(session, [atlas.id])


def test_the_pms_ask_in_the_modal_opens_a_decision_and_a_corrected_ask_updates_it(
    harness: Harness,
) -> None:
    harness.tick(THU_19_PARIS)
    (prompt,) = harness.prompts_to(PM_PARIS)
    ask = {"help_needed": "Approve two more testers?", "help_needed_by": "2026-12-01"}
    answer(harness, PM_PARIS, prompt, **ask)
    (opened,) = _decisions(harness)
    assert (opened.question, opened.needed_by, opened.state) == (
        "Approve two more testers?",
        date(2026, 12, 1),
        DecisionState.OPEN,
    )
    answer(harness, PM_PARIS, prompt, help_needed="Approve one more tester?")  # a correction
    (updated,) = _decisions(harness)
    assert (updated.id, updated.question, updated.needed_by) == (
        opened.id,
        "Approve one more tester?",
        None,
    )
    answer(harness, PM_PARIS, prompt)  # corrected again: no ask
    assert [d.state for d in _decisions(harness)] == [DecisionState.WITHDRAWN]
    # Each change is in the project's history and, once closed, in its archived record.
    history = str(harness.command(ADMIN, "history ATLAS")["blocks"])
    for action in ("decision asked", "decision ask changed", "decision ask withdrawn"):
        assert action in history
    view = open_modal(harness, ADMIN, "project close ATLAS")
    closed = harness.driver.submit_view(ADMIN, view, {"summary": "Done.", "lessons": "None."})
    assert closed.status == 200 and not closed.body, closed.body
    with harness.services.sessions.begin() as session:
        (markdown,) = session.scalars(select(ArchiveRow.markdown))
    assert "decision asked" in markdown
    assert "Question to leadership: none → Approve two more testers?" in markdown
    # Its decisions have their own section: the question, when asked, what became of it.
    assert "## Decisions asked of leadership (1)" in markdown
    assert "### Approve one more tester?" in markdown and "State: withdrawn" in markdown


def test_pmo_decisions_lists_what_leadership_owes_and_one_projects_record(
    harness: Harness,
) -> None:
    assert "No decision awaits leadership" in str(harness.command(ADMIN, "decisions"))
    harness.tick(THU_19_PARIS)
    (prompt,) = harness.prompts_to(PM_PARIS)
    ask = "Approve <two> testers & a *lab*?"  # user text: escaped, never markup
    answer(harness, PM_PARIS, prompt, help_needed=ask, help_needed_by="2026-12-01")
    listed = harness.command(ADMIN, "decisions")
    assert listed["text"] == "1 decision awaiting leadership"
    shown = str(listed["blocks"])
    assert "*ATLAS* · Approve &lt;two&gt; testers &amp; a *lab*?" in shown
    assert "needed by Tue 1 Dec 2026" in shown
    assert harness.command(ADMIN, "decisions open")["text"] == listed["text"]
    # In French for a French speaker; one project's record, whatever the state.
    answer(harness, PM_PARIS, prompt)  # corrected: no ask, withdrawn
    record = harness.command(PM_PARIS, "decisions atlas")
    assert record["text"] == "Décisions de ATLAS : 1"
    assert "retirée" in str(record["blocks"])
    assert harness.command(ADMIN, "decisions")["text"] == "0 decisions awaiting leadership"
    # An unknown key gets the lookups' answer (with suggestions when some come close).
    assert "No project" in str(harness.command(OUTSIDER, "decisions NOPE"))


FRI_20_DIGEST = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)  # Fridays 16:00 in Paris
ASK = "Steering committee: move go-live by eight weeks?"


def _ask_and_digest(harness: Harness, **ask: Any) -> dict[str, Any]:
    """The Paris PM asks for a decision in their report; the Friday digest shows it. Returns
    the digest's channel message."""
    harness.tick(THU_19_PARIS)
    (prompt,) = harness.prompts_to(PM_PARIS)
    answer(harness, PM_PARIS, prompt, help_needed=ask.pop("help_needed", ASK), **ask)
    harness.tick(FRI_20_DIGEST)
    (digest,) = harness.digests("C0LEADERS")
    return digest


def _decide_button(message: dict[str, Any]) -> dict[str, Any]:
    (button,) = [
        b["accessory"]
        for b in message["blocks"]
        if (b.get("accessory") or {}).get("action_id") == ids.DECIDE
    ]
    return button


def _click(harness: Harness, user: str, button: dict[str, Any], message: dict[str, Any]) -> Any:
    before = len(harness.fake.responses)
    response = harness.driver.block_action(
        user, button["action_id"], value=button["value"], message=message
    )
    assert response.status == 200, response.body
    return harness.fake.responses[before:]


DECISION_INPUTS = {
    "outcome": "approved",
    "action.1.title": "Tell the vendor the new date",
    "action.1.owner": ADMIN,
    "action.1.due": "2026-11-27",
    "action.2.title": "Re-plan the cutover",
    "action.2.owner": OUTSIDER,
    "action.2.due": "2026-12-04",
}


def test_the_sponsor_decides_from_the_digest_once_and_everyone_hears_it_once(
    harness: Harness,
) -> None:
    digest = _ask_and_digest(harness)
    button = _decide_button(digest)
    assert button["text"]["text"] == "Decide…"
    blocks_before = len(digest["blocks"])
    # A stranger's click: an ephemeral refusal, no modal.
    opened = len(harness.fake.calls_to("views.open"))
    (refusal,) = _click(harness, OUTSIDER, button, digest)
    assert refusal["response_type"] == "ephemeral" and "nothing was changed" in str(refusal)
    assert len(harness.fake.calls_to("views.open")) == opened
    # The sponsor's click opens the modal.
    harness.clock.now = FRI_20_DIGEST + timedelta(minutes=5)
    assert _click(harness, SPONSOR, button, digest) == []
    modal = [v for v in harness.fake.views if v.get("method") == "views.open"][-1]
    assert modal["callback_id"] == ids.SUBMIT_DECISION and ASK in str(modal["blocks"])
    # A rejection needs a rationale: the modal says so, nothing is recorded.
    refused = harness.driver.submit_view(SPONSOR, modal, {"outcome": "rejected"})
    assert json.loads(refused.body)["response_action"] == "errors"
    assert json.loads(refused.body)["errors"]["rationale"].startswith("Say why")
    # A forged submission (a stranger submitting the modal naming the decision): refused.
    forged = harness.driver.submit_view(OUTSIDER, modal, DECISION_INPUTS)
    assert "nothing was recorded" in forged.body
    assert [d.state for d in _decisions(harness)] == [DecisionState.OPEN]
    # The first post in the digest's thread meets a 5xx; the sponsor submits twice.
    harness.fake.fail("chat.postMessage", status=503, channel="C0LEADERS")
    first = harness.driver.submit_view(SPONSOR, modal, DECISION_INPUTS)
    second = harness.driver.submit_view(SPONSOR, modal, DECISION_INPUTS)
    assert "Decision recorded" in first.body and "was decided first" in second.body
    (decided,) = _decisions(harness)
    assert (decided.state, decided.outcome, decided.decided_by) == (
        DecisionState.DECIDED,
        "approved",
        SPONSOR,
    )
    with harness.services.sessions.begin() as session:
        actions = decisions.actions_of(session, decision_ids=[decided.id])
    assert [(a.title, a.owner, a.due_on) for a in actions] == [
        ("Tell the vendor the new date", ADMIN, date(2026, 11, 27)),
        ("Re-plan the cutover", OUTSIDER, date(2026, 12, 4)),
    ]
    harness.tick(FRI_20_DIGEST + timedelta(minutes=6))  # the thread reply fails, the DMs go
    harness.tick(FRI_20_DIGEST + timedelta(minutes=40))  # tried again
    harness.tick(FRI_20_DIGEST + timedelta(minutes=80))  # nothing more
    replies = [
        m for m in harness.fake.thread("C0LEADERS", digest["ts"]) if "Decision on" in m["text"]
    ]
    assert len(replies) == 1
    with harness.services.sessions.begin() as session:
        thread_reply = deliveries.find_occurrence(
            session, DeliveryKind.DECISION_THREAD, f"decision:{decided.id}", decided.decided_at
        )
    assert thread_reply is not None and thread_reply.attempts == 2  # the 5xx, then sent
    assert "*Decision on ATLAS*: *approved* by <@U0SPONSOR1>" in str(replies[0]["blocks"])
    told = [
        m for m in harness.fake.messages(PM_PARIS) if "ATLAS" in m["text"] and "décidé" in m["text"]
    ]
    assert len(told) == 1  # in French: the Paris PM's language
    for owner, title in ((ADMIN, "Tell the vendor"), (OUTSIDER, "Re-plan the cutover")):
        dms = [m for m in harness.fake.messages(owner) if title in m["text"]]
        assert len(dms) == 1
        done = dms[0]["blocks"][0]["accessory"]
        assert (done["action_id"], done["text"]["text"]) == (ids.ACTION_DONE, "Done")
    assert len(harness.digests("C0LEADERS")) == 1 and len(digest["blocks"]) == blocks_before
    # Clicked again: who decided, when; no modal.
    (again,) = _click(harness, SPONSOR, button, digest)
    assert "already decided" in str(again) and "<@U0SPONSOR1>" in str(again)
    with harness.services.sessions.begin() as session:
        atlas = portfolio.find_project(session, "ATLAS")
        assert atlas is not None
        logged = [c.action for c in audit.project_changes(session, atlas.id, limit=50)]
    assert logged.count("decision_decided") == 1 and logged.count("action_created") == 2
    # The PM's next status modal shows the decision at its top, in French.
    top = harness.open_modal(PM_PARIS, harness.prompts_to(PM_PARIS)[-1])["blocks"][0]
    assert "La direction a décidé de votre demande" in top["text"]["text"]
    assert "*approuvé* par <@U0SPONSOR1>" in top["text"]["text"]


def _decided_with_actions(harness: Harness, inputs: dict[str, Any]) -> Decision:
    """The sponsor decides the Friday digest's ask through the modal, at 16:05 in Paris."""
    digest = _ask_and_digest(harness)
    harness.clock.now = FRI_20_DIGEST + timedelta(minutes=5)
    _click(harness, SPONSOR, _decide_button(digest), digest)
    modal = [v for v in harness.fake.views if v.get("method") == "views.open"][-1]
    assert "Decision recorded" in harness.driver.submit_view(SPONSOR, modal, inputs).body
    (decided,) = _decisions(harness)
    return decided


def test_an_action_is_reminded_once_on_its_due_date_and_done_from_its_dm_or_the_home(
    harness: Harness,
) -> None:
    decided = _decided_with_actions(
        harness,
        {
            "outcome": "deferred",
            "rationale": "After the audit.",
            "action.1.title": "Book the audit",
            "action.1.owner": OUTSIDER,  # in London
            "action.1.due": "2026-11-24",
            "action.2.title": "Brief the vendor",
            "action.2.owner": OUTSIDER,
            "action.2.due": "2026-11-25",
        },
    )
    with harness.services.sessions.begin() as session:
        book, brief = decisions.actions_of(session, decision_ids=[decided.id])
    harness.tick(FRI_20_DIGEST + timedelta(minutes=6))  # the announcements
    assert len([m for m in harness.fake.messages(OUTSIDER) if "An action for you" in str(m)]) == 2

    def reminders() -> list[dict[str, Any]]:
        return [m for m in harness.fake.messages(OUTSIDER) if "Due today" in m["text"]]

    # The day before, and on the day before working hours in London: nothing yet.
    harness.tick(datetime(2026, 11, 23, 12, 0, tzinfo=UTC))
    harness.tick(datetime(2026, 11, 24, 6, 0, tzinfo=UTC))
    assert reminders() == []
    # On the due date, in working hours: one reminder, however many ticks.
    harness.tick(datetime(2026, 11, 24, 9, 0, tzinfo=UTC))
    harness.tick(datetime(2026, 11, 24, 9, 30, tzinfo=UTC))
    (reminder,) = reminders()
    assert "Book the audit" in reminder["text"]
    # Done from the reminder: the message becomes the answer, the action is done, audited.
    harness.clock.now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    done = reminder["blocks"][0]["accessory"]
    before = len(harness.fake.responses)
    clicked = harness.driver.block_action(
        OUTSIDER, done["action_id"], value=done["value"], message=reminder
    )
    assert clicked.status == 200
    (answered,) = harness.fake.responses[before:]
    assert answered["replace_original"] is True and "Done: *Book the audit*" in str(answered)
    # A stranger's Done (a crafted click) changes nothing.
    crafted = harness.driver.block_action(
        PM_PARIS, ids.ACTION_DONE, value=str(brief.id), channel_id="C0GENERAL"
    )
    assert crafted.status == 200 and "rien n'a été modifié" in str(harness.fake.responses[-1])
    # The Home lists the owner's open actions, each with Done; Done there republishes it.
    assert harness.driver.app_home_opened(OUTSIDER).status == 200
    home = harness.fake.home_view(OUTSIDER)
    assert home is not None
    (listed,) = [b for b in home["blocks"] if b.get("block_id", "").startswith("home.action.")]
    assert "Brief the vendor" in listed["text"]["text"]
    harness.driver.block_action(
        OUTSIDER,
        listed["accessory"]["action_id"],
        value=listed["accessory"]["value"],
        view=home,
    )
    home = harness.fake.home_view(OUTSIDER)
    assert home is not None and "home.action." not in str(home["blocks"])
    with harness.services.sessions.begin() as session:
        states = [a.state for a in decisions.actions_of(session, decision_ids=[decided.id])]
        atlas = portfolio.find_project(session, "ATLAS")
        assert atlas is not None
        logged = [c.action for c in audit.project_changes(session, atlas.id, limit=50)]
    assert states == [ActionState.DONE, ActionState.DONE] and logged.count("action_done") == 2
    # /pmo actions: none left for the owner; the project's record; done again says by whom.
    assert "You have no open action" in str(harness.command(OUTSIDER, "actions"))
    record = harness.command(ADMIN, "actions atlas")
    assert record["text"] == "Actions of ATLAS: 2" and "Book the audit" in str(record)
    again = harness.command(ADMIN, f"actions done {book.id} public")
    assert "already marked done by <@U0OUTSIDE1>" in str(again)
    assert again["response_type"] == "ephemeral"  # a change's answer stays the asker's
    # On its due date, no reminder for the second one: it was done.
    harness.tick(datetime(2026, 11, 25, 9, 0, tzinfo=UTC))
    assert reminders() == []  # the first reminder became the Done answer
    with harness.services.sessions.begin() as session:
        second = deliveries.find_occurrence(
            session,
            DeliveryKind.ACTION_REMINDER,
            f"action:{brief.id}",
            datetime(2026, 11, 25, tzinfo=UTC),
        )
    assert second is not None and second.error == "the action is done"


def test_an_ask_past_its_date_lapses_and_its_sponsor_hears_it_once(harness: Harness) -> None:
    harness.tick(THU_19_PARIS)
    (prompt,) = harness.prompts_to(PM_PARIS)
    answer(harness, PM_PARIS, prompt, help_needed=ASK, help_needed_by="2026-11-19")
    harness.tick(datetime(2026, 11, 19, 20, 0, tzinfo=UTC))  # still the 19th in Paris
    assert [d.state for d in _decisions(harness)] == [DecisionState.OPEN]
    harness.tick(datetime(2026, 11, 19, 23, 30, tzinfo=UTC))  # the 20th, at night: lapsed
    assert [d.state for d in _decisions(harness)] == [DecisionState.LAPSED]

    def told() -> list[dict[str, Any]]:
        return [m for m in harness.fake.messages(SPONSOR) if "passed its date" in m["text"]]

    assert told() == []  # not at night
    harness.tick(datetime(2026, 11, 20, 8, 0, tzinfo=UTC))  # 09:00 in Paris
    harness.tick(datetime(2026, 11, 20, 8, 30, tzinfo=UTC))
    (dm,) = told()
    assert dm["blocks"][0]["accessory"]["action_id"] == ids.DECIDE
    # The digest lists it marked overdue, with its Decide… button.
    harness.tick(FRI_20_DIGEST)
    (digest,) = harness.digests("C0LEADERS")
    attention = [b for b in digest["blocks"] if "ATLAS" in str(b) and "Asks for help" in str(b)]
    assert "*overdue*" in attention[0]["text"]["text"]
    assert _decide_button(digest)["value"] == str(_decisions(harness)[0].id)
    # The sponsor decides from the DM's button: the thread reply goes to the latest digest.
    harness.clock.now = FRI_20_DIGEST + timedelta(minutes=10)
    harness.driver.block_action(
        SPONSOR, ids.DECIDE, value=dm["blocks"][0]["accessory"]["value"], message=dm
    )
    modal = [v for v in harness.fake.views if v.get("method") == "views.open"][-1]
    harness.driver.submit_view(SPONSOR, modal, {"outcome": "approved"})
    harness.tick(FRI_20_DIGEST + timedelta(minutes=11))
    replies = harness.fake.thread("C0LEADERS", digest["ts"])
    assert len([m for m in replies if "Decision on ATLAS" in m["text"]]) == 1
    assert len(told()) == 1
    # The next digest: no longer in Needs your attention; under Decisions since the last one.
    harness.tick(FRI_20_DIGEST + timedelta(days=7))
    latest = harness.digests("C0LEADERS")[-1]
    assert "Decisions since the last digest" in str(latest["blocks"])
    assert ids.DECIDE not in str(latest["blocks"])


def test_the_ask_in_pmo_status_carries_decide_too(harness: Harness) -> None:
    harness.tick(THU_19_PARIS)
    (prompt,) = harness.prompts_to(PM_PARIS)
    answer(harness, PM_PARIS, prompt, help_needed=ASK, help_needed_by="2026-12-01")
    shown = harness.command(SPONSOR, "status atlas")
    button = _decide_button(shown)
    # The answer is ephemeral: Slack's container says so; the click opens the modal.
    harness.driver.block_action(
        SPONSOR,
        button["action_id"],
        value=button["value"],
        channel_id="C0GENERAL",
        container={
            "type": "message",
            "message_ts": "1.1",
            "channel_id": "C0GENERAL",
            "is_ephemeral": True,
        },
    )
    modal = [v for v in harness.fake.views if v.get("method") == "views.open"][-1]
    done = harness.driver.submit_view(
        SPONSOR, modal, {"outcome": "more_information", "rationale": "Which date, exactly?"}
    )
    assert "Decision recorded" in done.body
    harness.tick(datetime(2026, 11, 19, 10, 0, tzinfo=UTC))
    # No digest showed it yet: no thread reply anywhere; the PM is told, in French.
    assert not [m for m in harness.fake.messages("C0GENERAL") if "Decision on" in m["text"]]
    assert len([m for m in harness.fake.messages(PM_PARIS) if "a décidé" in m["text"]]) == 1
    after = harness.command(SPONSOR, "status atlas")
    assert ids.DECIDE not in str(after) and "Decided: more information needed" in str(after)
