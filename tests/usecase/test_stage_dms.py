"""An approver's DM of a gate or a change request (bot/delivery/stages.py, issue 17) as the
outbox composes it, over SQLite: in the approver's language and working hours, with the three
buttons; dropped when the request was decided meanwhile, when the project closed, or when the
person is no longer one of its approvers. Someone who becomes an approver while it waits (a new
sponsor by the project modal or an import, a new PMO admin) is asked too, once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot import ids
from bot.delivery.governance import decision_notice
from bot.delivery.outbox import Defer, Drop, Outgoing
from bot.delivery.stages import compose_stage_request
from bot.portfolio.admin import ProjectSaved, ask_waiting_approvers
from bot.stages.requests import (
    Requested,
    ask_new_approvers,
    decide_request,
    request_change,
    request_gate,
)
from storage import audit, deliveries, portfolio
from storage.records import Delivery, DeliveryKind
from tests.storage.test_storage import count_statements
from tests.usecase.conftest import ADMIN, PM, SPONSOR, World
from tests.usecase.test_baseline_lock import save, stored

NEW_SPONSOR, NEW_ADMIN = "U0SPONSOR2", "U0ADMIN002"

PLAN = "Project plan signed off"
PORTFOLIO = f"""
process:
  phases: [planning, execution]
  gates:
    - from: planning
      to: execution
      checklist:
        - {{name: "{PLAN}", mandatory: true}}
      approvers: [sponsor]
projects:
  - {{key: ATLAS, name: Atlas, pm: {PM}, sponsor: {SPONSOR}, budget: 1000, end: 2026-12-31}}
"""
NOW = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)  # 10:00 in Paris, a Monday


@pytest.fixture
def asked(world: World) -> tuple[World, Delivery]:
    """ATLAS's gate asked by its PM: the DM to its sponsor, queued."""
    world.load(PORTFOLIO)
    _ask_gate(world)
    with world.services.sessions.begin() as session:
        (dm,) = deliveries.list_deliveries(session, kind=DeliveryKind.STAGE_REQUEST)
    return world, dm


def _ask_gate(world: World, key: str = "ATLAS", actor: str = PM) -> Requested:
    """The project's planning gate asked (by its PM), the mandatory item ticked."""
    with world.services.sessions.begin() as session:
        project = portfolio.find_project(session, key)
        assert project is not None
        result = request_gate(
            session,
            actor=actor,
            project_id=project.id,
            phase="planning",
            ticked={PLAN},
            links={},
            note=None,
            admins={ADMIN},
            now=NOW,
        )
    assert isinstance(result, Requested)
    return result


def _compose(world: World, dm: Delivery, at: datetime = NOW) -> Outgoing | Drop | Defer:
    with world.services.sessions.begin() as session:
        calendar = portfolio.load_calendar(session)
    return compose_stage_request(world.services, dm, at, calendar=calendar)


def test_the_approver_gets_the_request_with_its_three_buttons(
    asked: tuple[World, Delivery],
) -> None:
    world, dm = asked
    sent = _compose(world, dm)
    assert isinstance(sent, Outgoing) and sent.user == SPONSOR
    (message,) = sent.messages
    assert message.text == "Gate planning → execution of ATLAS: your approval is asked"
    (actions,) = [b for b in message.blocks if b["type"] == "actions"]
    assert [(e["action_id"], e["value"]) for e in actions["elements"]] == [
        (ids.STAGE_APPROVE, str(dm.payload["request"])),
        (ids.STAGE_APPROVE_WITH_CONDITIONS, str(dm.payload["request"])),
        (ids.STAGE_REJECT, str(dm.payload["request"])),
    ]


def test_outside_the_approvers_working_hours_it_waits(asked: tuple[World, Delivery]) -> None:
    world, dm = asked
    evening = datetime(2026, 11, 16, 21, 0, tzinfo=UTC)  # 22:00 in Paris
    waits = _compose(world, dm, evening)
    assert isinstance(waits, Defer) and waits.until > evening


def test_a_request_decided_meanwhile_is_not_asked_again(asked: tuple[World, Delivery]) -> None:
    world, dm = asked
    with world.services.sessions.begin() as session:
        decide_request(
            session,
            actor=SPONSOR,
            request_id=int(dm.payload["request"]),
            outcome="approved",
            rationale=None,
            admins={ADMIN},
            now=NOW,
        )
    assert _compose(world, dm) == Drop("the request is decided")


def test_someone_no_longer_its_approver_is_not_asked(asked: tuple[World, Delivery]) -> None:
    world, dm = asked
    world.load(PORTFOLIO.replace(f"sponsor: {SPONSOR}", f"sponsor: {ADMIN}"))
    assert _compose(world, dm) == Drop("no longer one of its approvers")


def test_a_change_request_shows_the_end_and_budget_now_and_asked(world: World) -> None:
    world.load(PORTFOLIO)
    with world.services.sessions.begin() as session:
        atlas = portfolio.find_project(session, "ATLAS")
        assert atlas is not None
        asked = request_change(
            session,
            actor=PM,
            project_id=atlas.id,
            changes=["cost"],
            new_end=None,
            new_budget="1500",
            reason="More licences.",
            admins={ADMIN},
            now=NOW,
        )
        assert isinstance(asked, Requested)
        (dm,) = deliveries.list_deliveries(session, kind=DeliveryKind.STAGE_REQUEST)
    sent = _compose(world, dm)
    assert isinstance(sent, Outgoing)
    text = str(sent.messages[0].blocks)
    assert "*What changes*: cost" in text
    assert "*End date*: Thu 31 Dec 2026 (unchanged)" in text
    assert "*Budget*: 1,000 → *1,500*" in text and "More licences." in text


def _asked_of(world: World) -> list[str]:
    with world.services.sessions.begin() as session:
        found = deliveries.list_deliveries(session, kind=DeliveryKind.STAGE_REQUEST)
    return sorted(str(d.payload["user"]) for d in found)


def test_a_new_sponsor_from_the_project_modal_is_asked_once(asked: tuple[World, Delivery]) -> None:
    world, dm = asked
    atlas = stored(world, "ATLAS")
    renamed = save(world, atlas, name="Atlas ERP")  # no new approver: nobody new is asked
    assert isinstance(renamed, ProjectSaved) and _asked_of(world) == [SPONSOR]
    saved = save(world, stored(world, "ATLAS"), sponsor=NEW_SPONSOR)
    assert isinstance(saved, ProjectSaved) and saved.changes["sponsor"] == [SPONSOR, NEW_SPONSOR]
    assert _asked_of(world) == [SPONSOR, NEW_SPONSOR]
    assert _compose(world, dm) == Drop("no longer one of its approvers")  # the former one
    with world.services.sessions.begin() as session:
        (new,) = [
            d
            for d in deliveries.list_deliveries(session, kind=DeliveryKind.STAGE_REQUEST)
            if d.payload["user"] == NEW_SPONSOR
        ]
    world.gateway.add_user(NEW_SPONSOR, tz="Europe/Paris", locale="en-GB")
    sent = _compose(world, new)
    assert isinstance(sent, Outgoing) and sent.user == NEW_SPONSOR
    # saved again (the sponsor back, then the new one again): asked once each, never twice
    save(world, stored(world, "ATLAS"), sponsor=SPONSOR)
    save(world, stored(world, "ATLAS"), sponsor=NEW_SPONSOR)
    assert _asked_of(world) == [SPONSOR, NEW_SPONSOR]


def test_a_new_sponsor_from_an_import_is_asked_once(asked: tuple[World, Delivery]) -> None:
    world, _ = asked
    moved = PORTFOLIO.replace(f"sponsor: {SPONSOR}", f"sponsor: {NEW_SPONSOR}")
    world.load(moved)
    world.load(moved)
    assert _asked_of(world) == [SPONSOR, NEW_SPONSOR]


def test_a_decided_request_asks_no_new_sponsor(asked: tuple[World, Delivery]) -> None:
    world, dm = asked
    with world.services.sessions.begin() as session:
        decide_request(
            session,
            actor=SPONSOR,
            request_id=int(dm.payload["request"]),
            outcome="rejected",
            rationale="Not yet.",
            admins={ADMIN},
            now=NOW,
        )
    world.load(PORTFOLIO.replace(f"sponsor: {SPONSOR}", f"sponsor: {NEW_SPONSOR}"))
    assert _asked_of(world) == [SPONSOR]


def test_a_new_admin_is_asked_what_waits_on_the_admins(world: World) -> None:
    world.load(PORTFOLIO.replace("approvers: [sponsor]", "approvers: [admins]"))
    _ask_gate(world)
    assert _asked_of(world) == [ADMIN]
    assert ask_waiting_approvers(world.services) == 0  # nobody new yet
    with world.services.sessions.begin() as session:
        audit.grant_admin(session, NEW_ADMIN, by=ADMIN, at=NOW)
    assert ask_waiting_approvers(world.services) == 1
    assert ask_waiting_approvers(world.services) == 0
    assert _asked_of(world) == [ADMIN, NEW_ADMIN]


def test_a_confidential_project_made_visible_asks_the_approver_it_kept_out(world: World) -> None:
    """The gate names a person ATLAS, confidential, does not name: the admins were asked
    instead. Made visible by the project modal, that person is asked too (every edit asks
    whoever approves now and was not asked yet)."""
    named = "U0NAMED001"
    world.load(
        PORTFOLIO.replace("approvers: [sponsor]", f"approvers: [{named}]").replace(
            "end: 2026-12-31}", "end: 2026-12-31, confidential: true}"
        )
    )
    _ask_gate(world)
    assert _asked_of(world) == [ADMIN]
    saved = save(world, stored(world, "ATLAS"), flags=())  # the Confidential box unticked
    assert isinstance(saved, ProjectSaved) and saved.changes["confidential"] == [True, False]
    assert _asked_of(world) == [ADMIN, named]


def test_asking_new_approvers_queues_in_one_statement_whatever_their_number(
    world: World,
) -> None:
    """Run by every import and every grant: one insert for every waiting request."""
    keys = [f"P{n:02d}" for n in range(12)]
    world.load(
        PORTFOLIO.replace("approvers: [sponsor]", "approvers: [admins]").split("projects:")[0]
        + "projects:\n"
        + "".join(f"  - {{key: {k}, name: {k}, pm: {PM}, phase: planning}}\n" for k in keys)
    )
    for key in keys:
        _ask_gate(world, key)
    engine = world.services.sessions.kw["bind"]
    with count_statements(engine) as statements, world.services.sessions.begin() as session:
        queued = ask_new_approvers(session, admins={ADMIN, NEW_ADMIN}, now=NOW)
    assert queued == len(keys)  # the new admin, once per waiting gate; the first not again
    inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT")]
    assert len(inserts) == 1 and len(statements) <= 6, statements


def test_an_asker_who_may_no_longer_see_the_project_is_not_told_its_decision(
    world: World,
) -> None:
    """A delegate asks a confidential project's gate, then stops being its delegate: the
    decision's notice to them is dropped when composed (its verdict, rationale and conditions
    are the project's), while the PM still hears it."""
    delegate = "U0DELEGAT1"
    world.load(
        PORTFOLIO.replace(
            "end: 2026-12-31}", f"end: 2026-12-31, confidential: true, delegates: [{delegate}]}}"
        )
    )
    asked = _ask_gate(world, actor=delegate)
    saved = save(world, stored(world, "ATLAS"), delegates=(), flags=("confidential",))
    assert isinstance(saved, ProjectSaved) and "delegates" in saved.changes
    with world.services.sessions.begin() as session:
        decide_request(
            session,
            actor=SPONSOR,
            request_id=asked.request.id,
            outcome="rejected",
            rationale="The vendor's terms are secret.",
            admins={ADMIN},
            now=NOW,
        )
        notices = {
            str(d.payload["user"]): d
            for d in deliveries.list_deliveries(session, kind=DeliveryKind.DECISION_NOTICE)
        }
        calendar = portfolio.load_calendar(session)
    assert set(notices) == {PM, delegate}  # queued as the asker, judged when composed
    dropped = decision_notice(world.services, notices[delegate], NOW, calendar=calendar)
    assert dropped == Drop("may no longer see the project")
    told = decision_notice(world.services, notices[PM], NOW, calendar=calendar)
    assert isinstance(told, Outgoing) and told.user == PM
