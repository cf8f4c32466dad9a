"""The operators' HTTP endpoints, as a WSGI app: `GET /healthz` and `GET /readyz` (JSON), and
`GET /metrics` (Prometheus' text format) when given the database's gauges.

`serve` mounts it beside Slack's endpoint in HTTP mode, and on a listener of its own
(PMO_HEALTH_PORT) in Socket Mode, where nothing else listens."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import datetime
from http import HTTPStatus
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry
from sqlalchemy import Engine

from bot.operations.health import Answer, Probe, liveness, readiness
from bot.operations.metrics import exposition

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
PATHS = ("/healthz", "/readyz", "/metrics")


def operations_app(
    probe: Probe,
    engine: Engine,
    clock: Callable[[], datetime],
    fallback: WsgiApp | None = None,
    *,
    metrics: CollectorRegistry | None = None,
) -> WsgiApp:
    """Answer the operators' paths; hand anything else to `fallback` (Slack's handler in HTTP
    mode), or answer 404."""

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path not in PATHS:
            if fallback is not None:
                return fallback(environ, start_response)
            return _send(start_response, Answer(404, {"status": "not found", "paths": list(PATHS)}))
        if environ.get("REQUEST_METHOD", "GET") not in ("GET", "HEAD"):
            return _send(start_response, Answer(405, {"status": "use GET"}))
        if path == "/healthz":
            return _send(start_response, liveness(probe))
        if path == "/metrics":
            if metrics is None:
                return _send(start_response, Answer(404, {"status": "no metrics here"}))
            body = exposition(metrics)
            start_response(
                "200 OK",
                [("Content-Type", CONTENT_TYPE_LATEST), ("Content-Length", str(len(body)))],
            )
            return [body]
        return _send(start_response, readiness(probe, engine, now=clock()))

    return application


def _send(start_response: Callable[..., Any], answer: Answer) -> Iterable[bytes]:
    body = json.dumps(answer.body, ensure_ascii=False).encode() + b"\n"
    start_response(
        f"{answer.status} {HTTPStatus(answer.status).phrase}",
        [
            ("Content-Type", "application/json; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
        ],
    )
    return [body]
