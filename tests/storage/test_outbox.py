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
