"""SlackGateway over slack_sdk's WebClient: paced, retried where that is safe, errors as codes.

* Every call goes through the `Pacer` (bot/slack/pacing.py), in one of two lanes: a person's
  (views.*, chat.postEphemeral, and users.info made while someone waits) is never spaced, so a
  modal opens within its trigger_id's 3 seconds whatever is being sent; bulk calls wait their
  turn at Slack's published rate per method, so a fan-out to thousands of PMs stays inside the
  limits instead of running into them. `chat.postMessage` waits for its channel's pace and for
  the workspace budget, which grows with every post Slack accepts (`Pacer.accepted`) and drops
  on a 429 (`Pacer.hold`). The handlers make their calls through this gateway,
  never through Bolt's `client` (which is not paced, and only calls auth.test); `respond()`
  answers go to the response_url, outside the Web API and its limits.
* A 429 is retried after its `Retry-After` (the call was not processed, so retrying is safe) and
  holds that method, and only that one, for every thread and both lanes.
* Connection errors and 5xx are retried with exponential backoff and jitter, except for
  `chat.postMessage`: a post whose answer was lost may have been posted, so it is left to the
  outbox, which looks for the message (by its metadata) before posting again.
* The sleep and the pacer's clock are injected, so tests never wait. The token is held by the
  WebClient and never logged.
"""

from __future__ import annotations

import logging
import random
import time
import urllib.error
from collections.abc import Callable
from functools import partial
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError, SlackRequestError
from slack_sdk.http_retry import RetryHandler
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot.metrics import SLACK_CALLS, SLACK_RATE_LIMITED
from bot.slack.gateway import MAX_ALT_TEXT, Posted, SlackError, Tag, UserProfile
from bot.slack.pacing import Pacer, Sleep

log = logging.getLogger(__name__)
METADATA_EVENT = "pmo_bot_delivery"
NOT_RETRIED_IN_CLIENT = ("chat.postMessage",)
UPLOAD_URL_METHOD, COMPLETE_UPLOAD_METHOD = (
    "files.getUploadURLExternal",
    "files.completeUploadExternal",
)


def _method(request: HttpRequest) -> str:
    return request.url.rsplit("/", 1)[-1].split("?", 1)[0]


class RateLimitRetry(RateLimitErrorRetryHandler):
    """Retry a 429 after its Retry-After (plus up to a second of jitter), sleeping via `sleep`."""

    def __init__(
        self, *, max_retry_count: int = 3, sleep: Sleep = time.sleep, pacer: Pacer | None = None
    ) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self._sleep = sleep
        self._pacer = pacer

    def can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        """Count every 429 (pmo_slack_rate_limited_total), the last one too, then decide."""
        if response is not None and response.status_code == 429:
            SLACK_RATE_LIMITED.labels(_method(request)).inc()
        return bool(super().can_retry(state=state, request=request, response=response, error=error))

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
        method = _method(request)
        log.warning("Slack rate limit on %s: waiting %.0f s", method, wait)
        if self._pacer is not None:
            self._pacer.hold(method, wait)
        self._sleep(wait + random.random())
        state.increment_current_attempt()


def _with_sleep(handler: RetryHandler, sleep: Sleep) -> RetryHandler:
    """Make a backoff handler sleep through `sleep` (exponential backoff with jitter), and
    leave the methods whose retry could double a message to the outbox."""
    can_retry = handler._can_retry

    def safe_can_retry(
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if _method(request) in NOT_RETRIED_IN_CLIENT:
            return False
        return can_retry(state=state, request=request, response=response, error=error)

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
    handler._can_retry = safe_can_retry  # type: ignore[method-assign]
    return handler


def build_client(
    *,
    token: str,
    base_url: str,
    sleep: Sleep = time.sleep,
    timeout: int = 15,
    pacer: Pacer | None = None,
) -> WebClient:
    """The one WebClient of the process (Bolt's per-request clients copy its settings)."""
    return WebClient(
        token=token,
        base_url=base_url,
        timeout=timeout,
        retry_handlers=[
            _with_sleep(ConnectionErrorRetryHandler(max_retry_count=2), sleep),
            _with_sleep(ServerErrorRetryHandler(max_retry_count=2), sleep),
            RateLimitRetry(max_retry_count=3, sleep=sleep, pacer=pacer),
        ],
    )


class WebApiGateway:
    """SlackGateway over a WebClient; Slack errors become SlackError with Slack's code."""

    def __init__(self, client: WebClient, pacer: Pacer | None = None) -> None:
        self._client = client
        self._pacer = pacer

    def _call(self, method: str, call: Callable[[], Any], *, channel: str | None = None) -> Any:
        if self._pacer is not None:
            self._pacer.wait(method, channel=channel)
        SLACK_CALLS.labels(method).inc()
        try:
            response = call()
        except SlackApiError as exc:
            raise _api_error(exc, method) from None
        except (SlackClientError, OSError) as exc:
            raise SlackError(f"unreachable ({type(exc).__name__})", method) from None
        if self._pacer is not None:
            self._pacer.accepted(method)
        return response

    def post_message(
        self,
        *,
        channel: str,
        text: str,
        blocks: list[dict[str, Any]],
        thread_ts: str | None = None,
        tag: Tag | None = None,
    ) -> Posted:
        metadata = None
        if tag is not None:
            metadata = {
                "event_type": METADATA_EVENT,
                "event_payload": {"delivery_id": tag.delivery_id, "part": tag.part},
            }
        response = self._call(
            "chat.postMessage",
            lambda: self._client.chat_postMessage(
                channel=channel,
                text=text,
                blocks=blocks,
                thread_ts=thread_ts,
                unfurl_links=False,
                metadata=metadata,
            ),
            channel=channel,
        )
        return Posted(channel=response["channel"], ts=response["ts"])

    def find_tagged(
        self, *, channel: str, delivery_id: int, thread_ts: str | None = None
    ) -> dict[int, Posted]:
        found: dict[int, Posted] = {}
        cursor: str | None = None
        for _ in range(10):  # at most 2,000 messages back: a delivery is looked for soon after
            if thread_ts:
                response = self._call(
                    "conversations.replies",
                    partial(
                        self._client.conversations_replies,
                        channel=channel,
                        ts=thread_ts,
                        limit=200,
                        cursor=cursor,
                        include_all_metadata=True,
                    ),
                )
            else:
                response = self._call(
                    "conversations.history",
                    partial(
                        self._client.conversations_history,
                        channel=channel,
                        limit=200,
                        cursor=cursor,
                        include_all_metadata=True,
                    ),
                )
            for message in response.get("messages") or []:
                metadata = message.get("metadata") or {}
                payload = metadata.get("event_payload") or {}
                if (
                    metadata.get("event_type") == METADATA_EVENT
                    and payload.get("delivery_id") == delivery_id
                ):
                    found[int(payload.get("part") or 1)] = Posted(channel, str(message["ts"]))
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                break
        return found

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

    def auth_test(self) -> str:
        response = self._call("auth.test", self._client.auth_test)
        return str(response.get("user_id") or "")

    def join_channel(self, channel: str) -> None:
        self._call("conversations.join", lambda: self._client.conversations_join(channel=channel))

    def lookup_user(self, user_id: str) -> UserProfile:
        response = self._call(
            "users.info", lambda: self._client.users_info(user=user_id, include_locale=True)
        )
        return _profile(response["user"])

    def list_users(self, on_page: Callable[[], None] | None = None) -> list[UserProfile]:
        profiles: list[UserProfile] = []
        cursor: str | None = None
        while True:
            response = self._call(
                "users.list",
                partial(self._client.users_list, limit=200, cursor=cursor, include_locale=True),
            )
            profiles.extend(_profile(member) for member in response.get("members") or [])
            if on_page is not None:
                on_page()
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return profiles

    def upload_file(
        self,
        *,
        channel: str,
        thread_ts: str | None,
        filename: str,
        content: bytes,
        title: str,
        alt_text: str,
    ) -> None:
        """files_upload_v2: files.getUploadURLExternal (with the alt text), the bytes to the
        upload URL, files.completeUploadExternal (channel, thread, title). Both Web API calls
        are paced; a failure at any step is a SlackError naming the step ("upload" for the
        bytes), so the caller can carry on without the file."""
        if self._pacer is not None:
            self._pacer.wait(UPLOAD_URL_METHOD)

        def upload() -> Any:
            try:
                return self._client.files_upload_v2(
                    channel=channel,
                    thread_ts=thread_ts,
                    filename=filename,
                    content=content,
                    title=title,
                    alt_txt=alt_text[:MAX_ALT_TEXT],
                )
            except SlackApiError as exc:  # either Web API call: say which
                raise _api_error(exc, _method_of(exc, default=COMPLETE_UPLOAD_METHOD)) from None
            except urllib.error.HTTPError as exc:  # only the upload URL answers HTTPError:
                raise SlackError(f"http_{exc.code}", "upload") from None  # WebClient reads them
            except SlackRequestError:  # the upload URL answered, but not 200
                raise SlackError("upload_failed", "upload") from None

        self._call(COMPLETE_UPLOAD_METHOD, upload)


def _api_error(exc: SlackApiError, method: str) -> SlackError:
    """Slack's `error` code for an `ok: false` answer, else `http_<status>`."""
    response = exc.response
    status = response.status_code if response is not None else 0
    code = response.get("error") if response is not None and status == 200 else None
    return SlackError(str(code or f"http_{status}"), method)


def _method_of(exc: SlackApiError, *, default: str) -> str:
    """The Web API method a SlackApiError answered (from its URL)."""
    url = getattr(exc.response, "api_url", "") or ""
    method = str(url).rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0]
    return method or default


def _profile(user: dict[str, Any]) -> UserProfile:
    profile = user.get("profile") or {}
    try:
        expiration = int(profile.get("status_expiration") or 0)
    except (TypeError, ValueError):
        expiration = 0
    return UserProfile(
        user_id=str(user.get("id")),
        tz=user.get("tz"),
        locale=user.get("locale"),
        name=profile.get("display_name") or user.get("real_name") or user.get("name"),
        deleted=bool(user.get("deleted")),
        is_bot=bool(user.get("is_bot")),
        status_text=str(profile.get("status_text") or ""),
        status_emoji=str(profile.get("status_emoji") or ""),
        status_expiration=expiration,
    )
