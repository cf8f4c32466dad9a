"""The outbox's storage on SQLite and PostgreSQL: leases are exclusive, run out, and cost a
fixed number of statements; retries wait for their time; final states stay final."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, event

from storage import deliveries
from storage.db import make_engine, make_sessionmaker, upgrade
from storage.deliveries import Claim
from storage.records import DeliveryKind, DeliveryStatus

NOW = datetime(2026, 11, 19, 9, 0, tzinfo=UTC)
LEASE = timedelta(minutes=10)


def claims(count: int) -> list[Claim]:
    return [Claim(DeliveryKind.PROMPT, f"project:{i}", NOW) for i in range(count)]


def test_record_is_idempotent_and_due_at_once(engine: Engine) -> None:
    sessions = make_sessionmaker(engine)
    with sessions.begin() as session:
        assert len(deliveries.enqueue(session, claims(3), now=NOW)) == 3
        assert deliveries.enqueue(session, claims(3), now=NOW + timedelta(minutes=1)) == []
        leased = deliveries.lease(session, now=NOW, lease_for=LEASE, limit=10)
    assert len(leased) == 3 and all(d.attempts == 0 for d in leased)


def test_a_lease_is_exclusive_until_it_runs_out(engine: Engine) -> None:
    sessions = make_sessionmaker(engine)
    with sessions.begin() as session:
        deliveries.enqueue(session, claims(5), now=NOW)
        first = deliveries.lease(session, now=NOW, lease_for=LEASE, limit=3)
        second = deliveries.lease(session, now=NOW, lease_for=LEASE, limit=10)
    assert len(first) == 3 and len(second) == 2
    assert not {d.id for d in first} & {d.id for d in second}
    with sessions.begin() as session:
        assert (
            deliveries.lease(
                session, now=NOW + LEASE - timedelta(seconds=1), lease_for=LEASE, limit=10
            )
            == []
        )
        again = deliveries.lease(session, now=NOW + LEASE, lease_for=LEASE, limit=10)
    # The worker holding them died: they are handed out again, as they were (still "sending").
    assert len(again) == 5 and {d.status for d in again} == {DeliveryStatus.SENDING}


def test_retries_wait_for_their_time_and_final_states_stay_final(engine: Engine) -> None:
    sessions = make_sessionmaker(engine)
    with sessions.begin() as session:
        ids = deliveries.enqueue(session, claims(4), now=NOW)
        deliveries.lease(session, now=NOW, lease_for=LEASE, limit=10)
        for delivery_id in ids:
            deliveries.mark_attempt(session, delivery_id)
        deliveries.mark_retry(session, ids[0], error="http_503", at=NOW + timedelta(minutes=2))
        deliveries.mark_sent(session, ids[1], channel="D1", ts="1.1", now=NOW)
        deliveries.mark_failed(session, ids[2], error="channel_not_found", now=NOW)
        deliveries.mark_skipped(session, ids[3], reason="answered", now=NOW)
    later = NOW + timedelta(hours=1)
    with sessions.begin() as session:
        assert (
            deliveries.lease(session, now=NOW + timedelta(minutes=1), lease_for=LEASE, limit=10)
            == []
        )
        retried = deliveries.lease(session, now=later, lease_for=LEASE, limit=10)
        assert [d.id for d in retried] == [ids[0]]
        assert retried[0].attempts == 1 and retried[0].error == "http_503"
        stored = {d.id: d for d in deliveries.list_deliveries(session)}
    assert stored[ids[1]].status is DeliveryStatus.SENT and stored[ids[1]].ts == "1.1"
    assert stored[ids[2]].status is DeliveryStatus.FAILED and stored[ids[2]].finished_at == NOW
    assert stored[ids[3]].status is DeliveryStatus.SKIPPED and stored[ids[3]].error == "answered"


def test_an_admin_retry_requeues_only_failed_deliveries(engine: Engine) -> None:
    sessions = make_sessionmaker(engine)
    with sessions.begin() as session:
        ids = deliveries.enqueue(session, claims(2), now=NOW)
        deliveries.mark_failed(session, ids[0], error="channel_not_found", now=NOW)
        deliveries.mark_sent(session, ids[1], channel="D1", ts="1.1", now=NOW)
        assert deliveries.retry_now(session, ids) == 1
        leased = deliveries.lease(session, now=NOW, lease_for=LEASE, limit=10)
    assert [d.id for d in leased] == [ids[0]]
    # Its last error is kept, so the worker checks Slack before sending it again.
    assert leased[0].error == "channel_not_found" and leased[0].attempts == 0


def test_leasing_costs_two_statements_whatever_the_batch(engine: Engine) -> None:
    sessions = make_sessionmaker(engine)
    with sessions.begin() as session:
        deliveries.enqueue(session, claims(120), now=NOW)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    with sessions.begin() as session:
        assert len(deliveries.lease(session, now=NOW, lease_for=LEASE, limit=100)) == 100
    assert len([s for s in statements if not s.startswith(("BEGIN", "COMMIT"))]) == 2


@pytest.mark.postgres
def test_concurrent_workers_on_postgresql_never_lease_the_same_delivery(
    postgres_url: str,
) -> None:
    engines = [make_engine(postgres_url) for _ in range(4)]
    try:
        upgrade(engines[0])
        with make_sessionmaker(engines[0]).begin() as session:
            deliveries.enqueue(session, claims(400), now=NOW)
        taken: list[list[int]] = [[] for _ in engines]
        barrier = threading.Barrier(len(engines))

        def work(index: int) -> None:
            sessions = make_sessionmaker(engines[index])
            barrier.wait()
            while True:
                with sessions.begin() as session:
                    batch = deliveries.lease(session, now=NOW, lease_for=LEASE, limit=7)
                if not batch:
                    return
                taken[index].extend(d.id for d in batch)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(len(engines))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        every = [i for batch in taken for i in batch]
        assert len(every) == 400 and len(set(every)) == 400
        assert sum(1 for batch in taken if batch) >= 2, "the work was not shared"
    finally:
        for engine in engines:
            engine.dispose()


def test_a_stopping_worker_hands_back_only_the_leases_it_still_holds(engine: Engine) -> None:
    sessions = make_sessionmaker(engine)
    with sessions.begin() as session:
        ids = deliveries.enqueue(session, claims(4), now=NOW)
        deliveries.lease(session, now=NOW, lease_for=LEASE, limit=10)
        deliveries.mark_attempt(session, ids[0])
        deliveries.mark_sent(session, ids[0], channel="D1", ts="1.1", now=NOW)
    with sessions.begin() as session:  # the lease ran out: another worker took ids[1]
        (taken,) = deliveries.lease(session, now=NOW + LEASE, lease_for=LEASE, limit=1)
        assert taken.id == ids[1]
        released = deliveries.release(session, ids, lease_until=NOW + LEASE)
    assert released == 2  # ids[2] and ids[3]: not the sent one, not the one taken since
    with sessions.begin() as session:
        stored = {d.id: d for d in deliveries.list_deliveries(session)}
        # Handed back: pending, no lease, due as they were: the next lease takes them at once.
        assert [stored[i].status for i in ids] == [
            DeliveryStatus.SENT,
            DeliveryStatus.SENDING,
            DeliveryStatus.PENDING,
            DeliveryStatus.PENDING,
        ]
        assert stored[ids[2]].lease_until is None and stored[ids[2]].next_attempt_at == NOW
        again = deliveries.lease(session, now=NOW, lease_for=LEASE, limit=10)
    assert [d.id for d in again] == [ids[2], ids[3]]
    with sessions.begin() as session:
        assert deliveries.release(session, [], lease_until=NOW) == 0


def test_a_deferred_delivery_waits_until_its_time_with_its_reason_and_no_attempt(
    engine: Engine,
) -> None:
    sessions = make_sessionmaker(engine)
    morning = NOW + timedelta(hours=14)
    with sessions.begin() as session:
        (first, second) = deliveries.enqueue(
            session,
            [
                Claim(DeliveryKind.PROMPT, f"project:{i}", NOW, payload={"tz": "UTC"})
                for i in (1, 2)
            ],
            now=NOW,
        )
        deliveries.lease(session, now=NOW, lease_for=LEASE, limit=10)
        deliveries.defer(session, first, until=morning, reason="outside working hours")
        deliveries.mark_retry(session, second, error="http_503", at=NOW + timedelta(minutes=2))
        deliveries.defer(session, second, until=morning, reason="outside working hours")
    with sessions.begin() as session:
        assert (
            deliveries.lease(session, now=morning - timedelta(seconds=1), lease_for=LEASE, limit=10)
            == []
        )
        stored = {d.id: d for d in deliveries.list_deliveries(session)}
    deferred = stored[first]
    assert deferred.status is DeliveryStatus.PENDING and deferred.lease_until is None
    assert deferred.next_attempt_at == morning and deferred.attempts == 0
    assert deferred.error is None  # not a failure: nothing makes the worker search Slack first
    assert deferred.payload is not None and deferred.payload["tz"] == "UTC"  # kept
    assert deliveries.deferral(deferred) == "outside working hours"
    # A deferral keeps what an earlier failure said (the worker must still search Slack first).
    assert stored[second].error == "http_503"
    with sessions.begin() as session:
        leased = deliveries.lease(session, now=morning, lease_for=LEASE, limit=10)
        assert {d.id for d in leased} == {first, second}
        # Failing then, it waits for its retry, no longer for its deferral.
        deliveries.mark_retry(session, first, error="http_503", at=morning + timedelta(minutes=1))
        (retrying,) = [d for d in deliveries.list_deliveries(session) if d.id == first]
    assert retrying.status is DeliveryStatus.PENDING and deliveries.deferral(retrying) is None


def test_the_backlog_counts_what_is_pending_and_due_and_its_oldest(engine: Engine) -> None:
    # What /metrics reports of the outbox: pending deliveries whose time has come, and since when.
    sessions = make_sessionmaker(engine)
    with sessions.begin() as session:
        ids = deliveries.enqueue(session, claims(3), now=NOW)
        assert deliveries.backlog(session, at=NOW - timedelta(seconds=1)) == (0, None)
        assert deliveries.backlog(session, at=NOW + timedelta(minutes=10)) == (3, NOW)
        (first,) = deliveries.lease(session, now=NOW, lease_for=LEASE, limit=1)
        deliveries.mark_attempt(session, first.id)
        deliveries.mark_retry(session, first.id, error="http_503", at=NOW + timedelta(minutes=5))
        # the retry is pending again, but not due until its time
        assert deliveries.backlog(session, at=NOW + timedelta(minutes=1)) == (2, NOW)
        assert deliveries.backlog(session, at=NOW + timedelta(minutes=6)) == (3, NOW)
        for delivery_id in ids:
            deliveries.mark_skipped(session, delivery_id, reason="answered", now=NOW)
        assert deliveries.backlog(session, at=NOW + timedelta(minutes=6)) == (0, None)
