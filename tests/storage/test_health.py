"""What /healthz and /readyz answer (bot/operations/health.py), on both backends: alive unless
the scheduler stopped; ready when the database answers at the expected schema and the last
tick is fresh (from the start until the first one finishes). Time is given, never read."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from alembic import command
from sqlalchemy import Engine

from bot.operations.health import TICK_STALE_AFTER, Probe, liveness, readiness
from bot.operations.http import operations_app
from storage.db import SCHEMA_HEAD, alembic_config, make_engine

START = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def test_a_replica_is_ready_while_its_first_tick_runs_then_while_ticks_are_fresh(
    engine: Engine,
) -> None:
    probe = Probe(started=START)
    first = readiness(probe, engine, now=START + timedelta(seconds=30))
    assert first.status == 200
    assert first.body == {
        "status": "ready",
        "checks": {"database": "ok", "schema": SCHEMA_HEAD, "slack": "ok", "last_tick": "not yet"},
    }
    hung = readiness(probe, engine, now=START + TICK_STALE_AFTER)
    assert hung.status == 503
    assert hung.body["problems"] == ["no tick has finished since the start, 180 s ago"]
    probe.tick_finished(START + timedelta(minutes=4))
    fresh = readiness(probe, engine, now=START + timedelta(minutes=6, seconds=59))
    assert fresh.status == 200
    assert fresh.body["checks"]["last_tick"] == "2026-12-03T09:04:00+00:00"
    stale = readiness(probe, engine, now=START + timedelta(minutes=7))
    assert (stale.status, stale.body["problems"]) == (503, ["the last tick finished 180 s ago"])


def test_without_a_scheduler_no_tick_is_expected(engine: Engine) -> None:
    probe = Probe(started=START, ticking=False)
    later = readiness(probe, engine, now=START + timedelta(days=1))
    assert later.status == 200
    assert later.body["checks"]["last_tick"] == "not ticking here (--no-scheduler)"
    assert liveness(probe).body == {"status": "ok", "scheduler": "off"}


def test_a_refused_bot_token_is_alive_but_not_ready(engine: Engine) -> None:
    refusal = "Slack refuses the bot token since 2026-12-03T09:00:00+00:00 (app_uninstalled): …"
    probe = Probe(started=START, slack_refusal=lambda: refusal)
    assert liveness(probe).status == 200  # a restart would not bring the token back
    answer = readiness(probe, engine, now=START)
    assert answer.status == 503
    assert answer.body["checks"]["slack"] == "token refused"
    assert answer.body["problems"] == [refusal]


def test_a_stopped_scheduler_is_neither_alive_nor_ready(engine: Engine) -> None:
    probe = Probe(started=START, scheduler_running=lambda: False)
    assert liveness(probe).status == 503
    assert liveness(probe).body == {"status": "failing", "scheduler": "stopped"}
    answer = readiness(probe, engine, now=START)
    assert answer.status == 503 and "the scheduler has stopped" in answer.body["problems"]


def test_a_schema_behind_or_a_database_gone_is_not_ready(database_url: str) -> None:
    probe = Probe(started=START)
    engine = make_engine(database_url)
    try:
        command.upgrade(alembic_config(engine), "0010")
        behind = readiness(probe, engine, now=START)
        assert behind.status == 503
        assert behind.body["checks"]["schema"] == "0010"
        assert behind.body["problems"] == [
            f"the schema is at 0010, not {SCHEMA_HEAD}: run `pmo-bot db upgrade`"
        ]
    finally:
        engine.dispose()
    gone = make_engine("postgresql://pmo:secret-word@127.0.0.1:1/nothing")
    try:
        answer = readiness(probe, gone, now=START)
    finally:
        gone.dispose()
    assert answer.status == 503 and answer.body["checks"] == {
        "database": "unreachable",
        "last_tick": "not yet",
    }
    (problem,) = answer.body["problems"]
    assert problem.startswith("the database does not answer: ")
    assert "secret-word" not in json.dumps(answer.body)


def test_the_endpoints_answer_json_and_hand_the_rest_on(engine: Engine) -> None:
    probe = Probe(started=START)

    def slack(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [])
        return [b"slack"]

    app = operations_app(probe, engine, lambda: START, fallback=slack)
    alone = operations_app(probe, engine, lambda: START)

    def get(application: Any, path: str, method: str = "GET") -> tuple[str, dict[str, str], bytes]:
        seen: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]]) -> None:
            seen.update(status=status, headers=dict(headers))

        body = b"".join(application({"PATH_INFO": path, "REQUEST_METHOD": method}, start_response))
        return seen["status"], seen["headers"], body

    status, headers, body = get(app, "/readyz")
    assert status == "200 OK" and headers["Content-Type"] == "application/json; charset=utf-8"
    assert json.loads(body)["status"] == "ready"
    assert get(app, "/healthz")[0] == "200 OK"
    assert get(app, "/slack/events", "POST")[2] == b"slack"
    assert get(app, "/readyz", "POST")[0] == "405 Method Not Allowed"
    status, _, body = get(alone, "/slack/events", "POST")
    assert status == "404 Not Found" and json.loads(body)["paths"] == [
        "/healthz",
        "/readyz",
        "/metrics",
    ]
