"""SlackGateway over slack_sdk's WebClient, with retries that honour Slack's limits.

Retries are slack_sdk's own handlers (connection errors, 500/503, 429 with Retry-After), with
the sleep injected so tests never wait. The token is held by the WebClient and never logged.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry import RetryHandler
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot.gateway import Posted, SlackError, UserProfile

log = logging.getLogger(__name__)
Sleep = Callable[[float], None]


class RateLimitRetry(RateLimitErrorRetryHandler):
    """Retry a 429 after its Retry-After (plus up to a second of jitter), sleeping via `sleep`."""

    def __init__(self, *, max_retry_count: int = 3, sleep: Sleep = time.sleep) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self._sleep = sleep

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        if response is None:
            raise error or RuntimeError("rate-limit retry without a response")
        headers = {k.lower(): v for k, v in response.headers.items()}
        try:
            wait = float(headers.get("retry-after", ["1"])[0])
        except (ValueError, IndexError):
            wait = 1.0
        state.next_attempt_requested = True
        log.warning("Slack rate limit on %s: waiting %.0f s", request.url.rsplit("/", 1)[-1], wait)
        self._sleep(wait + random.random())
        state.increment_current_attempt()


def _with_sleep(handler: RetryHandler, sleep: Sleep) -> RetryHandler:
    """Make a backoff handler sleep through `sleep` (exponential backoff with jitter)."""

    def prepare(
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        state.next_attempt_requested = True
        sleep(handler.interval_calculator.calculate_sleep_duration(state.current_attempt))
        state.increment_current_attempt()

    handler.prepare_for_next_attempt = prepare  # type: ignore[method-assign]
    return handler


def build_client(
    *, token: str, base_url: str, sleep: Sleep = time.sleep, timeout: int = 15
) -> WebClient:
    """The one WebClient of the process (Bolt's per-request clients copy its settings)."""
    return WebClient(
        token=token,
        base_url=base_url,
        timeout=timeout,
        retry_handlers=[
            _with_sleep(ConnectionErrorRetryHandler(max_retry_count=2), sleep),
            _with_sleep(ServerErrorRetryHandler(max_retry_count=2), sleep),
            RateLimitRetry(max_retry_count=3, sleep=sleep),
        ],
    )


class WebApiGateway:
    """SlackGateway over a WebClient; Slack errors become SlackError with Slack's code."""

    def __init__(self, client: WebClient) -> None:
        self._client = client

    def _call(self, method: str, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except SlackApiError as exc:
            code = exc.response.get("error") if exc.response is not None else None
            status = exc.response.status_code if exc.response is not None else "?"
            raise SlackError(str(code or f"http_{status}"), method) from None
        except (SlackClientError, OSError) as exc:
            raise SlackError(f"unreachable ({type(exc).__name__})", method) from None

    def post_message(
        self,
        *,
        channel: str,
        text: str,
        blocks: list[dict[str, Any]],
        thread_ts: str | None = None,
    ) -> Posted:
        response = self._call(
            "chat.postMessage",
            lambda: self._client.chat_postMessage(
                channel=channel, text=text, blocks=blocks, thread_ts=thread_ts, unfurl_links=False
            ),
        )
        return Posted(channel=response["channel"], ts=response["ts"])

    def update_message(
        self, *, channel: str, ts: str, text: str, blocks: list[dict[str, Any]]
    ) -> None:
        self._call(
            "chat.update",
            lambda: self._client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks),
        )

    def open_view(self, *, trigger_id: str, view: dict[str, Any]) -> None:
        self._call("views.open", lambda: self._client.views_open(trigger_id=trigger_id, view=view))

    def publish_home(self, *, user_id: str, view: dict[str, Any]) -> None:
        self._call("views.publish", lambda: self._client.views_publish(user_id=user_id, view=view))

    def open_dm(self, user_id: str) -> str:
        response = self._call(
            "conversations.open", lambda: self._client.conversations_open(users=user_id)
        )
        return str(response["channel"]["id"])

    def lookup_user(self, user_id: str) -> UserProfile:
        response = self._call(
            "users.info", lambda: self._client.users_info(user=user_id, include_locale=True)
        )
        user = response["user"]
        profile = user.get("profile") or {}
        return UserProfile(
            user_id=user_id,
            tz=user.get("tz"),
            locale=user.get("locale"),
            name=profile.get("display_name") or user.get("real_name") or user.get("name"),
            deleted=bool(user.get("deleted")),
            is_bot=bool(user.get("is_bot")),
        )
