"""What the data lifecycle does to the database, on SQLite and PostgreSQL: the purge past the
retention (storage.deliveries.purge_finished, storage.users.purge_fetched_before, the daily
turn) and the erasure of a person (storage.erasure.erase_person)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from storage import (
    archives,
    audit,
    coordination,
    deliveries,
    erasure,
    portfolio,
    reports,
    stages,
    users,
)
from storage.db import make_sessionmaker
from storage.deliveries import Claim
from storage.models import Base
from storage.records import (
    ChangeKind,
    ChecklistAnswer,
    DeliveryKind,
    DeliveryStatus,
    ProjectState,
    RequestKind,
    RequestState,
    SlackUser,
)
from tests import factories

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def _deliveries(session: Session) -> dict[tuple[str, str, datetime], DeliveryStatus]:
    return {
        (d.kind.value, d.target, d.occurrence): d.status
        for d in deliveries.list_deliveries(session)
    }


def test_the_purge_keeps_the_newest_three_of_each_target_its_newest_sent_and_what_is_recent(
    engine: Engine,
) -> None:
    sessions = make_sessionmaker(engine)
    long_ago = [NOW - (500 - week * 7) * DAY for week in range(5)]  # five weekly occurrences
    recently = NOW - 10 * DAY
    outcomes = {
        # newest sent is the 2nd: kept with the newest three; the 1st goes
        "project:1": ["sent", "sent", "failed", "skipped", "failed"],
        "project:2": ["sent"] * 5,  # the two oldest go
        "project:3": ["sent"] * 5,  # finished recently: all stay
        # the pending one is not final and stays; the sent one after it is the fourth newest
        "channel:C1": ["pending", "sent", "sent", "sent", "sent"],
    }
    with sessions.begin() as session:
        for target, statuses in outcomes.items():
            kind = DeliveryKind.DIGEST if target.startswith("channel") else DeliveryKind.PROMPT
            ids = deliveries.enqueue(
                session, [Claim(kind, target, at) for at in long_ago], now=long_ago[0]
            )
            for delivery_id, status, at in zip(ids, statuses, long_ago, strict=True):
                done = recently if target == "project:3" else at
                if status == "sent":
                    deliveries.mark_sent(session, delivery_id, channel="D1", ts="1.1", now=done)
                elif status == "failed":
                    deliveries.mark_failed(session, delivery_id, error="x", now=done)
                elif status == "skipped":
                    deliveries.mark_skipped(session, delivery_id, reason="x", now=done)
    with sessions.begin() as session:
        assert deliveries.purge_finished(session, before=NOW - 400 * DAY) == 4
    with sessions.begin() as session:
        left = _deliveries(session)
    gone = {("prompt", "project:1", long_ago[0]), ("digest", "channel:C1", long_ago[1])} | {
        ("prompt", "project:2", at) for at in long_ago[:2]
    }
    everything = {
        (("digest" if t.startswith("channel") else "prompt"), t, at)
        for t in outcomes
        for at in long_ago
    }
    assert set(left) == everything - gone


def test_cached_profiles_not_fetched_within_the_retention_are_forgotten(engine: Engine) -> None:
    sessions = make_sessionmaker(engine)
    with sessions.begin() as session:
        users.save_users(
            session,
            [
                SlackUser("U0OLD0001", "UTC", "en-US", "Old", "D0OLD", NOW - 401 * DAY),
                SlackUser("U0NEW0001", "UTC", "en-US", "New", None, NOW - 399 * DAY),
            ],
        )
    with sessions.begin() as session:
        assert users.purge_fetched_before(session, NOW - 400 * DAY) == 1
        assert set(users.find_users(session, ["U0OLD0001", "U0NEW0001"])) == {"U0NEW0001"}


def test_the_daily_turn_goes_to_one_caller_a_day(engine: Engine) -> None:
    sessions = make_sessionmaker(engine)

    def claim(at: datetime) -> bool:
        with sessions.begin() as session:
            return coordination.claim_turn(session, "purge", now=at, every=DAY)

    assert claim(NOW)
    assert not claim(NOW)  # another replica, the same minute
    assert not claim(NOW + DAY - timedelta(seconds=1))
    assert claim(NOW + DAY)
    assert not claim(NOW + DAY + timedelta(minutes=1))


GONE, NEIGHBOUR = "U0GONE1", "U0GONE12"  # an id that starts with the other must survive
PSEUDONYM = "former member 0a1b2c"


def _everything(session: Session) -> str:
    """Every row of every table, as text."""
    return "\n".join(
        repr(tuple(row))
        for table in Base.metadata.sorted_tables
        for row in session.execute(select(table))
    )


def test_a_person_is_replaced_everywhere_by_one_pseudonym_and_no_one_else_is(
    engine: Engine,
) -> None:
    sessions = make_sessionmaker(engine)
    with sessions.begin() as session:
        portfolio.upsert_projects(
            session,
            [
                factories.project_spec(
                    "ATLAS", pm=GONE, delegates=(NEIGHBOUR, GONE), state=ProjectState.CLOSED
                ),
                factories.project_spec("BOREAL", pm=NEIGHBOUR, sponsor=GONE),
            ],
            now=NOW,
        )
        atlas = portfolio.list_projects(session)[0]
        reports.save_report(
            session,
            factories.draft(
                summary=f"Ask <@{GONE}> or <@{GONE}|gone> about it; {NEIGHBOUR} knows."
            ),
            project_id=atlas.id,
            period_start=NOW - 7 * DAY,
            submitted_by=GONE,
            submitted_at=NOW - 7 * DAY,
        )
        audit.record(
            session,
            actor=GONE,
            at=NOW,
            action="updated",
            project_id=atlas.id,
            changes={"pm": [GONE, NEIGHBOUR], GONE: "as a key"},
        )
        audit.grant_admin(session, GONE, by=NEIGHBOUR, at=NOW)
        audit.grant_admin(session, NEIGHBOUR, by=GONE, at=NOW)
        users.save_users(
            session,
            [
                SlackUser(GONE, "UTC", "fr-FR", "Gone Person", "D0GONE", NOW),
                SlackUser(NEIGHBOUR, "UTC", "en-US", "Neighbour", "D0NEIGHBOUR", NOW),
            ],
        )
        (_, prompt) = deliveries.enqueue(
            session,
            [
                Claim(DeliveryKind.FAILURE_SUMMARY, f"user:{GONE}", NOW, payload={"to": GONE}),
                Claim(DeliveryKind.PROMPT, f"project:{atlas.id}", NOW, project_id=atlas.id),
            ],
            now=NOW,
        )
        deliveries.mark_sent(session, prompt, channel="D0GONE", ts="1.1", now=NOW)
        archives.save_archive(
            session,
            project_id=atlas.id,
            closed_by=NEIGHBOUR,
            closed_at=NOW,
            summary="Done",
            lessons="Ask Gone Person early; Gone Personal matters stay",
            markdown=f"# ATLAS\nPM: Gone Person (<@{GONE}>)\nGone Personal matters stay",
        )
    with sessions.begin() as session:
        changed = erasure.erase_person(session, GONE, pseudonym=PSEUDONYM, names=["Gone Person"])
    assert changed["slack_users (deleted)"] == 1 and changed["admins (deleted)"] == 1
    assert changed["projects"] == 2 and changed["status_reports"] == 1
    assert changed["project_archives (names)"] == 1
    with sessions.begin() as session:
        everything = _everything(session)
        assert not re.search(rf"{GONE}(?![0-9A-Z])", everything)
        assert "Gone Person " not in everything and "Gone Person)" not in everything
        assert "D0GONE" not in everything  # their DM channel, in the outbox
        assert NEIGHBOUR in everything and "Gone Personal matters stay" in everything
        atlas, boreal = portfolio.list_projects(session)
        assert (atlas.pm, atlas.delegates, boreal.sponsor) == (
            PSEUDONYM,
            (NEIGHBOUR, PSEUDONYM),
            PSEUDONYM,
        )
        (report,) = reports.latest_reports(session, [atlas.id])[atlas.id]
        assert report.submitted_by == PSEUDONYM
        assert report.summary == f"Ask {PSEUDONYM} or {PSEUDONYM} about it; {NEIGHBOUR} knows."
        (entry,) = audit.project_changes(session, atlas.id)
        assert entry.actor == PSEUDONYM
        assert entry.changes == {"pm": [PSEUDONYM, NEIGHBOUR], PSEUDONYM: "as a key"}
        assert audit.granted_admins(session) == {NEIGHBOUR}
        assert set(users.find_users(session, [GONE, NEIGHBOUR])) == {NEIGHBOUR}


def test_gates_changes_and_baselines_keep_the_pseudonym_in_every_column(engine: Engine) -> None:
    """Who asked, who decided, who recorded, and any mention in a reason or a checklist (a
    JSON column): the same pseudonym, on SQLite and PostgreSQL; a neighbour's id untouched."""
    sessions = make_sessionmaker(engine)
    with sessions.begin() as session:
        portfolio.upsert_projects(
            session,
            [factories.project_spec("ATLAS", pm=NEIGHBOUR, state=ProjectState.CLOSED)],
            now=NOW,
        )
        atlas = portfolio.list_projects(session)[0]
        gate = stages.add_request(
            session,
            project_id=atlas.id,
            kind=RequestKind.GATE,
            requested_by=GONE,
            at=NOW,
            reason=f"Reviewed with <@{GONE}|gone> and {NEIGHBOUR}",
            from_phase="planning",
            to_phase="execution",
            checklist=[ChecklistAnswer(f"Signed by {GONE}", True, True, "https://wiki/x")],
        )
        stages.settle(
            session, gate.id, state=RequestState.DECIDED, at=NOW, outcome="approved", by=GONE
        )
        change = stages.add_request(
            session,
            project_id=atlas.id,
            kind=RequestKind.CHANGE,
            requested_by=NEIGHBOUR,
            at=NOW,
            reason="More scope",
            changes=(ChangeKind.SCOPE,),
        )
        stages.add_baseline(
            session,
            project_id=atlas.id,
            budget=None,
            end=None,
            milestones=[(f"Go-live ({GONE})", None)],
            source="gate",
            by=GONE,
            at=NOW,
            request_id=gate.id,
        )
    with sessions.begin() as session:
        changed = erasure.erase_person(session, GONE, pseudonym=PSEUDONYM)
    assert changed["stage_requests"] == 1 and changed["project_baselines"] == 1
    with sessions.begin() as session:
        assert not re.search(rf"{GONE}(?![0-9A-Z])", _everything(session))
        asked, other = stages.requests_of(session, [atlas.id])
        (baseline,) = stages.baselines_of(session, [atlas.id])
    assert (asked.requested_by, asked.decided_by) == (PSEUDONYM, PSEUDONYM)
    assert asked.reason == f"Reviewed with {PSEUDONYM} and {NEIGHBOUR}"
    assert asked.checklist == (
        ChecklistAnswer(f"Signed by {PSEUDONYM}", True, True, "https://wiki/x"),
    )
    assert (other.id, other.requested_by) == (change.id, NEIGHBOUR)
    assert baseline.recorded_by == PSEUDONYM
    assert baseline.milestones == ((f"Go-live ({PSEUDONYM})", None),)
