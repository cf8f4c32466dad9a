"""Composition root for Slack: builds the Bolt app over our services and registers handlers.

With bot/cli/main.py this is the one place that knows every layer (see ARCHITECTURE.md).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

from slack_bolt import App, BoltResponse
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient

from bot.operations.http import WsgiApp
from bot.services import Services
from handlers import commands, coordination, decisions, events, projects, prompts, stages
from handlers import home as home_actions

log = logging.getLogger(__name__)
SLACK_PATH = "/slack/events"


def build_app(
    services: Services,
    *,
    client: WebClient,
    signing_secret: str,
    process_before_response: bool = False,
    listener_executor: Executor | None = None,
    verify_token: bool = True,
) -> App:
    """The Bolt app. Bolt calls auth.test on `client` here, so a bad token fails at start-up,
    unless `verify_token` is False (`serve` checks the token itself: a refused one pauses the
    bot rather than stopping it, bot/slack/access.py; Bolt then asks on its first request).

    `process_before_response=True` (tests, FaaS) answers Slack only when the listener returns;
    the default acks first and finishes in a worker thread."""
    kwargs: dict[str, Any] = {}
    if listener_executor is not None:
        kwargs["listener_executor"] = listener_executor
    app = App(
        client=client,
        signing_secret=signing_secret,
        process_before_response=process_before_response,
        logger=logging.getLogger("slack_bolt"),
        token_verification_enabled=verify_token,
        **kwargs,
    )
    app.use(_log_request)
    commands.register(app, services)
    prompts.register(app, services)
    events.register(app, services)
    home_actions.register(app, services)
    projects.register(app, services)
    decisions.register(app, services)
    coordination.register(app, services)
    stages.register(app, services)

    def on_error(error: Exception, body: dict[str, Any]) -> BoltResponse | None:
        kind = body.get("type") or body.get("command") or "request"
        user = (body.get("user") or {}).get("id") or body.get("user_id")
        log.error("unhandled error on %s from %s", kind, user, exc_info=error)
        return None

    app.error(on_error)
    return app


def _log_request(body: dict[str, Any], next: Callable[[], BoltResponse]) -> BoltResponse:
    """One line per request Slack sends (a Bolt middleware), with Slack's own ids and none
    of its text: the event's id, or the command's or the action's trigger id, its kind,
    team and user."""
    event = body.get("event") or {}
    user = body.get("user")
    kind = event.get("type") or body.get("type") or body.get("command")
    request_id = body.get("event_id") or body.get("trigger_id")
    log.info(
        "slack request: %s %s",
        kind,
        request_id,
        extra={
            "event": "slack_request",
            "kind": kind,
            "request_id": request_id,
            "team": body.get("team_id") or (body.get("team") or {}).get("id"),
            "user": user.get("id") if isinstance(user, dict) else body.get("user_id"),
        },
    )
    response: BoltResponse = next()
    return response


def wsgi_app(app: App) -> WsgiApp:
    """Bolt's WSGI adapter on /slack/events (`serve` mounts the operators' endpoints,
    bot.operations.http, in front of it)."""
    return SlackRequestHandler(app, path=SLACK_PATH)
