"""A stateful fake of the Slack Web API, served over real HTTP for tests.

The bot talks to it exactly as it talks to Slack: point a ``slack_sdk.WebClient`` at
``FakeSlack.base_url`` and every Web API call, every ``response_url`` post and every file upload
goes over a real socket to ``127.0.0.1:<ephemeral port>``.

What it imitates (see /work/shared/SLACK.md §1.3, §1.8, §1.9, §2.3, §3.2-3.4):

* Wire formats: JSON bodies (``chat.*``, ``views.*``), form bodies with JSON-in-string parameters
  (``blocks``, ``view``, ``files``, ``metadata``...) and query strings (``users.info``).
* Auth: ``Authorization: Bearer <token>`` (or a ``token`` form/query parameter; Slack ignores a
  token inside a JSON body). No token -> ``not_authed``, unknown token -> ``invalid_auth``, both
  as HTTP 200 ``{"ok": false}`` like Slack.
* State: users (time zones), channels (public or private) and the bot's membership, DM
  channels, messages and threads
  (monotonic unique ``ts``), ephemeral messages, views and view stacks, files, single-use
  ``trigger_id``s with a TTL, ``response_url``s with 5 uses.
* The app's scopes, where they change an answer: ``chat:write.public`` lets
  ``chat.postMessage`` post to a public channel the bot is not in (reading it still answers
  ``not_in_channel``); ``conversations.join`` needs ``channels:join`` (``missing_scope`` with
  ``needed`` and ``provided``, as Slack answers) and joins public channels only. A private
  channel the bot is not in does not exist for it (``channel_not_found``).
* Slack's error codes for the mistakes the bot can make (§3.4), and injectable faults: 429 with
  ``Retry-After``, 5xx, ``ok: false``, dropped connections (before or after the call was
  handled), slow answers; for a method, or for a method's calls to one channel.
* Rate limits (§3.1-3.2), off by default: ``enforce_rate_limits()`` adds token buckets per
  method by Slack's tiers and per channel (plus optionally workspace-wide) for
  ``chat.postMessage``, on an injectable clock; over a limit the fake answers 429 with
  ``Retry-After`` and does not handle the call.
* Users' status (``status_text``/``status_emoji``/``status_expiration`` in ``profile``), message
  ``metadata``, and Slack's paging: ``oldest``/``latest``/``inclusive``/``limit``/``cursor`` on
  ``conversations.history`` and ``conversations.replies``, ``limit``/``cursor`` on ``users.list``.

It is independent of the bot's code on purpose. Everything is guarded by one lock; the recording
API (``calls``, ``messages``, ``views``...) returns copies.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import json
import math
import random
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

JSON = dict[str, Any]

# Parameters that form-encoded clients send as JSON strings (slack_sdk does this for lists/dicts).
JSON_STRING_PARAMS = ("blocks", "attachments", "view", "files", "metadata", "outputs")

MESSAGE_BLOCK_LIMIT = 50  # "up to 50 blocks in each message"
VIEW_BLOCK_LIMIT = 100  # "... and 100 blocks in modals or Home tabs"
VIEW_STACK_LIMIT = 3
VIEW_MAX_BYTES = 250_000

# Slack's rate-limit tiers in calls per minute, per app per workspace (SLACK.md §3.1).
TIER_PER_MINUTE = {1: 1.0, 2: 20.0, 3: 50.0, 4: 100.0}
# Each method's tier, from Slack's method reference. chat.postMessage is "Special" (see
# FakeSlack.enforce_rate_limits); auth.test is "Special" too and is not limited by the fake.
METHOD_TIERS = {
    "chat.update": 3,
    "conversations.join": 3,
    "chat.postEphemeral": 4,
    "chat.scheduleMessage": 3,
    "chat.deleteScheduledMessage": 3,
    "chat.scheduledMessages.list": 3,
    "conversations.open": 3,
    "conversations.info": 3,
    "conversations.list": 2,
    "conversations.history": 3,
    "conversations.replies": 3,
    "users.info": 4,
    "users.list": 2,
    "users.lookupByEmail": 3,
    "views.open": 4,
    "views.push": 4,
    "views.update": 4,
    "views.publish": 4,
    "files.getUploadURLExternal": 4,
    "files.completeUploadExternal": 4,
}
# Who an app-level token (xapp-, Socket Mode's) authenticates as: the app, no user.
_APP_LEVEL = "app-level"
# Float slack when comparing token counts and waits (clocks are floats).
_EPSILON = 1e-9
# The app's bot scopes unless told otherwise: manifest.yml's, less the two that let it reach
# channels it is not a member of (chat:write.public, channels:join): grant them to test that.
DEFAULT_SCOPES = frozenset(
    {
        "chat:write",
        "commands",
        "files:write",
        "im:write",
        "im:history",
        "channels:history",
        "groups:history",
        "users:read",
    }
)


@dataclass(frozen=True)
class Fault:
    """What the fake serves instead of a normal answer (see ``FakeSlack.fail``)."""

    status: int = 200
    error: str | None = None
    retry_after: float | None = None
    drop: bool = False
    delay: float = 0.0
    body: str | None = None
    drop_after: bool = False
    channel: str | None = None  # only for calls to this channel (see ``FakeSlack.fail``)

    @property
    def delay_only(self) -> bool:
        """True if this fault only slows the call down; the call is then handled normally."""
        return (
            not self.drop
            and not self.drop_after
            and self.status == 200
            and self.error is None
            and self.body is None
        )

    @property
    def handled(self) -> bool:
        """True if the call is handled normally despite this fault (``delay``, ``drop_after``)."""
        return self.delay_only or self.drop_after


@dataclass(frozen=True)
class Call:
    """One request the fake received.

    ``method`` is the Web API method (``"chat.postMessage"``), or ``"upload"`` for a file upload
    to an ``upload_url``, or ``"response_url"`` for a post to a ``response_url``. ``at`` is the
    fake's clock (``time.monotonic`` unless injected). ``status``/``error`` say what was answered
    (``error`` is the ``ok: false`` code, if any; ``status`` 0 means the connection was dropped;
    after a ``drop_after`` fault ``error`` is what the handled call would have answered);
    ``fault`` is the injected fault, if one was served. ``rate_limited`` is True when the rate-limit
    emulation (``FakeSlack.enforce_rate_limits``) answered 429 instead of handling the call.
    """

    method: str
    params: JSON
    headers: dict[str, str]
    token: str | None
    at: float
    status: int = 200
    error: str | None = None
    fault: Fault | None = None
    rate_limited: bool = False


class _SlackError(Exception):
    """Raised by method handlers: becomes ``{"ok": false, "error": code, **extra}`` (plus
    ``response_metadata.messages`` when ``messages`` are given)."""

    def __init__(self, error: str, *messages: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.messages = list(messages)
        self.extra = extra

    def as_json(self) -> JSON:
        body: JSON = {"ok": False, "error": self.error, **self.extra}
        if self.messages:
            body["response_metadata"] = {"messages": self.messages}
        return body


@dataclass
class _Reply:
    status: int
    body: bytes = b""
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False
    error: str | None = None
    rate_limited: bool = False

    @classmethod
    def json(cls, status: int, data: JSON, **headers: str) -> _Reply:
        error = data.get("error") if data.get("ok") is False else None
        return cls(status, json.dumps(data).encode(), headers=headers, error=error)

    @classmethod
    def text(cls, status: int, text: str, content_type: str = "text/plain") -> _Reply:
        return cls(status, text.encode(), content_type=f"{content_type}; charset=utf-8")


@dataclass
class _Trigger:
    issued_at: float
    user_id: str | None
    view_id: str | None
    used: bool = False


@dataclass
class _ResponseUrl:
    issued_at: float
    channel: str | None
    message_ts: str | None
    user_id: str | None
    uses: int = 0


@dataclass
class _Bucket:
    """A token bucket: holds up to ``capacity`` calls, refills at ``rate`` calls per second."""

    rate: float
    capacity: float
    tokens: float
    at: float

    def refill(self, now: float) -> None:
        if now > self.at:  # a clock that goes backwards refills nothing
            self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.rate)
            self.at = now

    def wait(self) -> float:
        """Seconds until one token is free (0 if one is free now)."""
        missing = 1.0 - self.tokens
        return 0.0 if missing <= _EPSILON else missing / self.rate


@dataclass
class _RateLimits:
    """The configuration of ``FakeSlack.enforce_rate_limits`` and its buckets."""

    clock: Callable[[], float] | None
    per_minute: dict[str, float]  # method -> calls per minute (tiers merged with overrides)
    method_burst: float | None
    channel_rate: float  # chat.postMessage per channel, per second
    channel_burst: float
    workspace_per_minute: float | None
    workspace_burst: float | None
    buckets: dict[tuple[str, ...], _Bucket] = field(default_factory=dict)

    def bucket(self, key: tuple[str, ...], rate: float, capacity: float, now: float) -> _Bucket:
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = self.buckets[key] = _Bucket(rate, capacity, capacity, now)
        bucket.refill(now)
        return bucket


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() in ("1", "true", "yes")


def _text_of(obj: Any) -> str:
    """The string inside a text object (``{"type": "plain_text", "text": ...}``) or a string."""
    if isinstance(obj, dict):
        return str(obj.get("text", ""))
    return "" if obj is None else str(obj)


def _too_long(limit: int, pointer: str) -> str:
    return f"[ERROR] must be less than {limit + 1} characters [json-pointer:{pointer}]"


def _check_blocks(blocks: Any, limit: int, error: str, pointer: str = "/blocks") -> None:
    """Slack's server-side Block Kit checks for the limits the bot can hit (§3.3).

    Messages answer ``invalid_blocks`` (``invalid_blocks_format`` when ``blocks`` is not a list);
    views answer ``invalid_arguments``; both list the problems in ``response_metadata.messages``.
    """
    if blocks is None:
        return
    if not isinstance(blocks, list):
        raise _SlackError(
            "invalid_blocks_format" if error == "invalid_blocks" else error,
            f"[ERROR] expected an array [json-pointer:{pointer}]",
        )
    if len(blocks) > limit:
        raise _SlackError(
            error, f"[ERROR] no more than {limit} items allowed [json-pointer:{pointer}]"
        )
    problems = []
    for i, block in enumerate(blocks):
        at = f"{pointer}/{i}"
        if not isinstance(block, dict) or "type" not in block:
            problems.append(f"[ERROR] missing required field: type [json-pointer:{at}]")
            continue
        kind = block["type"]
        if len(str(block.get("block_id", ""))) > 255:
            problems.append(_too_long(255, f"{at}/block_id"))
        if kind == "section":
            if "text" not in block and "fields" not in block:
                problems.append(f"[ERROR] must provide either text or fields [json-pointer:{at}]")
            if len(_text_of(block.get("text"))) > 3000:
                problems.append(_too_long(3000, f"{at}/text/text"))
            fields = block.get("fields") or []
            if len(fields) > 10:
                problems.append(f"[ERROR] no more than 10 items allowed [json-pointer:{at}/fields]")
            problems += [
                _too_long(2000, f"{at}/fields/{j}/text")
                for j, f in enumerate(fields)
                if len(_text_of(f)) > 2000
            ]
        elif kind == "header" and len(_text_of(block.get("text"))) > 150:
            problems.append(_too_long(150, f"{at}/text/text"))
        elif kind == "actions" and len(block.get("elements") or []) > 25:
            problems.append(f"[ERROR] no more than 25 items allowed [json-pointer:{at}/elements]")
        elif kind == "context" and len(block.get("elements") or []) > 10:
            problems.append(f"[ERROR] no more than 10 items allowed [json-pointer:{at}/elements]")
    if problems:
        raise _SlackError(error, *problems)


def _check_view(view: Any, *, allowed_types: tuple[str, ...]) -> JSON:
    """Slack's checks on a view (§1.8, §3.3): ``invalid_arguments`` or ``view_too_large``."""
    if not isinstance(view, dict):
        raise _SlackError("invalid_arguments", "[ERROR] missing required field: view")
    if len(json.dumps(view)) > VIEW_MAX_BYTES:
        raise _SlackError("view_too_large")
    kind = view.get("type")
    if kind not in allowed_types:
        raise _SlackError("invalid_arguments", "[ERROR] invalid `type` [json-pointer:/view/type]")
    problems = []
    if kind == "modal":
        if not _text_of(view.get("title")):
            problems.append("[ERROR] missing required field: title [json-pointer:/view]")
        for key in ("title", "submit", "close"):
            if len(_text_of(view.get(key))) > 24:
                problems.append(_too_long(24, f"/view/{key}/text"))
        has_input = any(
            isinstance(b, dict) and b.get("type") == "input" for b in view.get("blocks") or []
        )
        if has_input and not view.get("submit"):
            problems.append("[ERROR] must provide a submit property when using input blocks")
    if len(str(view.get("private_metadata", ""))) > 3000:
        problems.append(_too_long(3000, "/view/private_metadata"))
    for key in ("callback_id", "external_id"):
        if len(str(view.get(key, ""))) > 255:
            problems.append(_too_long(255, f"/view/{key}"))
    if problems:
        raise _SlackError("invalid_arguments", *problems)
    if "blocks" not in view:
        raise _SlackError("invalid_arguments", "[ERROR] missing required field: blocks")
    _check_blocks(view["blocks"], VIEW_BLOCK_LIMIT, "invalid_arguments", "/view/blocks")
    return view


def _ts_value(ts: Any, error: str) -> Decimal:
    """A ``ts`` (``"1700000000.000100"``) or unix time (``"1700000000"``) as a number, for
    comparisons as Slack makes them; ``error`` (e.g. ``invalid_ts_oldest``) if it is not one."""
    try:
        value = Decimal(str(ts).strip())
    except InvalidOperation:
        raise _SlackError(error) from None
    if not value.is_finite() or value < 0:
        raise _SlackError(error)
    return value


def _in_range(ts: str, oldest: Decimal | None, latest: Decimal | None, inclusive: bool) -> bool:
    """Slack's ``oldest``/``latest`` window: exclusive unless ``inclusive``."""
    value = Decimal(ts)
    if oldest is not None and (value < oldest or (value == oldest and not inclusive)):
        return False
    return latest is None or value < latest or (value == latest and inclusive)


def _page_size(p: JSON, default: int, maximum: int | None) -> int:
    """``limit`` as Slack reads it: absent or 0 means ``default``, above ``maximum`` is clamped,
    anything else that is not a non-negative integer is ``invalid_limit``."""
    raw = p.get("limit")
    if raw is None or raw == "":
        return default
    try:
        limit = int(raw)
    except (TypeError, ValueError):
        raise _SlackError("invalid_limit") from None
    if limit < 0:
        raise _SlackError("invalid_limit")
    if limit == 0:
        return default
    return limit if maximum is None else min(limit, maximum)


def _cursor(kind: str, value: str) -> str:
    """An opaque cursor as Slack makes them: base64 of ``next_ts:<ts>`` or ``user:<id>``."""
    return base64.b64encode(f"{kind}:{value}".encode()).decode()


def _read_cursor(cursor: Any, kind: str) -> str | None:
    """The value inside a cursor from ``_cursor(kind, ...)``; None for no cursor."""
    if cursor is None or cursor == "":
        return None
    try:
        text = base64.b64decode(str(cursor), validate=True).decode()
    except (ValueError, UnicodeDecodeError):  # binascii.Error is a ValueError
        raise _SlackError("invalid_cursor") from None
    prefix, _, value = text.partition(":")
    if prefix != kind or not value:
        raise _SlackError("invalid_cursor")
    return value


def _check_metadata(metadata: Any) -> JSON | None:
    """Message metadata as Slack takes it: ``{"event_type": str, "event_payload": object}``
    (a JSON string in form bodies), else ``invalid_metadata_format``. Returns a copy to store."""
    if metadata is None or metadata == "":
        return None
    if (
        not isinstance(metadata, dict)
        or not isinstance(metadata.get("event_type"), str)
        or not metadata["event_type"]
        or not isinstance(metadata.get("event_payload"), dict)
    ):
        raise _SlackError("invalid_metadata_format")
    return {
        "event_type": metadata["event_type"],
        "event_payload": copy.deepcopy(metadata["event_payload"]),
    }


def _parse_params(query: str, body: bytes, content_type: str) -> tuple[JSON, bool, bool]:
    """Query string + body -> params. Returns (params, body_was_json, body_was_bad_json)."""
    params: JSON = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
    is_json = content_type.split(";")[0].strip().lower() == "application/json"
    bad = False
    if body and is_json:
        try:
            data = json.loads(body)
        except ValueError:
            data, bad = {}, True
        if isinstance(data, dict):
            params.update(data)
        else:
            bad = True
    elif body:
        form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        params.update({k: v[-1] for k, v in form.items()})
    for key in JSON_STRING_PARAMS:
        value = params.get(key)
        if isinstance(value, str) and value.strip()[:1] in ("[", "{"):
            # bad JSON stays a string: the method then answers *_format / invalid_arguments
            with contextlib.suppress(ValueError):
                params[key] = json.loads(value)
    return params, is_json, bad


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        self.server.fake._serve(self)

    def do_GET(self) -> None:
        self.server.fake._serve(self)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean

    def send_reply(self, reply: _Reply) -> None:
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(reply.body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake: FakeSlack) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return  # the client went away (timeouts, dropped connections): not our problem
        super().handle_error(request, client_address)


class FakeSlack:
    """A fake Slack workspace with one bot, served on ``127.0.0.1`` (port 0) while started.

    ``clock`` (default ``time.monotonic``) measures trigger and response_url ages, stamps
    ``Call.at`` and (unless ``enforce_rate_limits`` gets its own) drives the rate-limit buckets;
    inject one to test expiry and limits without waiting.

    ``wall_clock`` (default None: synthetic time) is a unix-time clock (epoch seconds). Without
    it, message ``ts`` values are synthetic (``1700000000.000100``, ``...000200``...) and users'
    ``tz_offset`` uses the real date. With it, each new ``ts`` is the wall clock's time (still
    strictly increasing, so unique), so callers that filter history by ``oldest=<unix time>``
    work; ``tz_offset`` uses its date, and a user status whose ``status_expiration`` has passed
    reads as cleared, as Slack clears it.
    """

    def __init__(
        self,
        *,
        bot_token: str = "xoxb-test-token",
        team_id: str = "T0TEST",
        bot_user_id: str = "U0PMOBOT",
        bot_id: str = "B0PMOBOT",
        app_id: str = "A0PMOBOT",
        team_name: str = "Test Team",
        team_domain: str = "testteam",
        trigger_ttl: float = 3.0,
        response_url_ttl: float = 1800.0,
        response_url_uses: int = 5,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] | None = None,
        scopes: Iterable[str] = DEFAULT_SCOPES,
    ) -> None:
        self.bot_token, self.team_id, self.bot_user_id = bot_token, team_id, bot_user_id
        self.bot_id, self.app_id = bot_id, app_id
        self.team_name, self.team_domain = team_name, team_domain
        self.trigger_ttl, self.response_url_ttl = trigger_ttl, response_url_ttl
        self.response_url_uses = response_url_uses
        self.clock = clock
        self.wall_clock = wall_clock
        self._scopes = set(scopes)
        # When False, DMs from the bot fail with messages_tab_disabled (App Home Messages tab off).
        self.messages_tab_enabled = True
        # The WebSocket URL apps.connections.open hands an app-level token (Socket Mode): a
        # FakeSocketMode's (tests/fakes/fake_socket_mode.py), once a test sets it.
        self.socket_mode_url: str | None = None
        self.app_token = f"xapp-1-{app_id}-1-test"

        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

        self._tokens: dict[str, tuple[str, str]] = {
            bot_token: (team_id, bot_user_id),
            f"xapp-1-{app_id}-1-test": (team_id, _APP_LEVEL),
        }
        self._refused: dict[str, str] = {}  # token -> the error every call with it answers
        self._users: dict[str, JSON] = {}
        self._channels: dict[str, JSON] = {}
        self._dms: dict[str, str] = {}  # user id -> D id
        self._dm_users: dict[str, str] = {}  # D id -> user id
        self._seq = 0
        self._ts_seq = 0
        self._last_ts = 0  # microseconds of the last ts handed out
        self._limits: _RateLimits | None = None  # see enforce_rate_limits()
        self.add_user(bot_user_id, name="pmo-bot", real_name="PMO Bot", is_bot=True)
        self._clear_records()

        self._methods: dict[str, Callable[[JSON, tuple[str, str]], JSON]] = {
            "auth.test": self._auth_test,
            "apps.connections.open": self._apps_connections_open,
            "chat.postMessage": self._chat_post_message,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.update": self._chat_update,
            "conversations.open": self._conversations_open,
            "conversations.info": self._conversations_info,
            "conversations.join": self._conversations_join,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "users.info": self._users_info,
            "users.list": self._users_list,
            "users.lookupByEmail": self._users_lookup_by_email,
            "views.open": self._views_open,
            "views.push": self._views_push,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
        }

    def _clear_records(self) -> None:
        self._calls: list[Call] = []
        self._messages: dict[str, list[JSON]] = {}
        self._ephemerals: list[JSON] = []
        self._view_log: list[JSON] = []
        self._views: dict[str, JSON] = {}  # view id -> current view
        self._view_users: dict[str, str | None] = {}
        self._stacks: dict[str, list[str]] = {}  # root view id -> stack of view ids
        self._external_ids: dict[str, str] = {}
        self._homes: dict[str, str] = {}  # user id -> home view id
        self._triggers: dict[str, _Trigger] = {}
        self._response_urls: dict[str, _ResponseUrl] = {}
        self._responses: list[JSON] = []
        self._uploads: dict[str, JSON] = {}
        self._files: list[JSON] = []
        self._faults: dict[str, list[Fault]] = {}  # method -> queued faults, one per call
        self._ratio_faults: dict[str, tuple[float, Fault, random.Random]] = {}

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> FakeSlack:
        if self._server is None:
            self._stopping.clear()
            self._server = _Server(self)
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.01},  # so that stop() returns at once
                name="FakeSlack",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._stopping.set()  # wakes up delayed answers
            self._server.shutdown()
            self._server.server_close()
            assert self._thread is not None
            self._thread.join(timeout=5)
            self._server = self._thread = None

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeSlack is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/api/"

    # ----------------------------------------------------------------- workspace setup

    def add_token(
        self, token: str, *, team_id: str | None = None, user_id: str | None = None
    ) -> None:
        """Accept another token (auth.test reports the given team and user)."""
        with self._lock:
            self._tokens[token] = (team_id or self.team_id, user_id or self.bot_user_id)

    def refuse_token(self, token: str | None = None, error: str = "token_revoked") -> None:
        """Make every call with `token` (the bot token by default) answer `error`, as Slack
        does once the app is uninstalled (token_revoked) or the workspace's account is
        deactivated (account_inactive), until `accept_token`."""
        with self._lock:
            self._refused[token or self.bot_token] = error

    def accept_token(self, token: str | None = None) -> None:
        """Undo `refuse_token`: calls with the token work again."""
        with self._lock:
            self._refused.pop(token or self.bot_token, None)

    def add_user(
        self,
        user_id: str,
        *,
        name: str | None = None,
        real_name: str | None = None,
        tz: str = "UTC",
        locale: str = "en-US",
        deleted: bool = False,
        is_bot: bool = False,
        email: str | None = None,
        status_text: str = "",
        status_emoji: str = "",
        status_expiration: int = 0,
    ) -> None:
        """Add (or replace) a user. ``status_*`` are Slack's custom status fields, returned under
        ``user["profile"]`` (``status_expiration``: unix time, 0 = never; see ``wall_clock``)."""
        ZoneInfo(tz)  # fail early on a bad zone name
        name = name or user_id.lower()
        with self._lock:
            self._users[user_id] = {
                "id": user_id,
                "team_id": self.team_id,
                "name": name,
                "real_name": real_name or name,
                "tz": tz,
                "locale": locale,
                "deleted": deleted,
                "is_bot": is_bot,
                "email": email,
                "status_text": status_text,
                "status_emoji": status_emoji,
                "status_expiration": int(status_expiration),
            }

    def set_user_tz(self, user_id: str, tz: str) -> None:
        ZoneInfo(tz)
        with self._lock:
            self._users[user_id]["tz"] = tz

    def set_user_status(
        self, user_id: str, text: str = "", emoji: str = "", expiration: int = 0
    ) -> None:
        """Set (or, with no arguments, clear) a user's custom status, as the user would in Slack.
        ``expiration``: unix time when Slack clears it, 0 = never. KeyError for unknown users."""
        with self._lock:
            self._users[user_id].update(
                status_text=text, status_emoji=emoji, status_expiration=int(expiration)
            )

    def add_channel(
        self,
        channel_id: str,
        *,
        name: str | None = None,
        is_member: bool = True,
        is_private: bool = False,
    ) -> None:
        """Add (or replace) a channel: public unless ``is_private``, with the bot in it unless
        ``is_member=False``."""
        with self._lock:
            self._channels[channel_id] = {
                "id": channel_id,
                "name": name or channel_id.lower(),
                "is_channel": True,
                "is_group": False,
                "is_im": False,
                "is_private": is_private,
                "is_archived": False,
                "is_member": is_member,
            }

    def is_member(self, channel_id: str) -> bool:
        """Whether the bot is in a channel now (``conversations.join`` puts it there)."""
        with self._lock:
            return bool(self._channels[channel_id]["is_member"])

    @property
    def scopes(self) -> frozenset[str]:
        """The bot token's scopes (``DEFAULT_SCOPES`` unless given or changed)."""
        with self._lock:
            return frozenset(self._scopes)

    def grant(self, *scopes: str) -> None:
        """Add scopes to the bot token, as reinstalling the app with them would."""
        with self._lock:
            self._scopes.update(scopes)

    def revoke(self, *scopes: str) -> None:
        """Take scopes from the bot token."""
        with self._lock:
            self._scopes.difference_update(scopes)

    def dm_channel(self, user_id: str) -> str:
        """The bot's DM channel with a user (opened, i.e. allocated, on first use; stable)."""
        with self._lock:
            if user_id not in self._users:
                raise KeyError(f"unknown user {user_id!r}: add_user() it first")
            return self._open_dm(user_id)

    def channel_name(self, channel_id: str) -> str:
        with self._lock:
            if channel_id in self._dm_users:
                return "directmessage"
            return str(self._channels.get(channel_id, {}).get("name", channel_id.lower()))

    # ----------------------------------------------------------------- interaction helpers

    def _next_id(self, prefix: str) -> str:
        self._seq += 1
        return f"{prefix}{self._seq:08d}"

    def new_trigger_id(self, *, user_id: str | None = None, view_id: str | None = None) -> str:
        """A trigger_id as Slack puts in interactions: one ``views.open``/``views.push``, within
        ``trigger_ttl`` seconds. ``view_id``: the modal the interaction came from (for push)."""
        with self._lock:
            self._seq += 1
            trigger = f"{100000000000 + self._seq}.{47445629121}.{self._seq:032x}"
            self._triggers[trigger] = _Trigger(self.clock(), user_id, view_id)
            return trigger

    def new_response_url(
        self,
        *,
        channel: str | None = None,
        message_ts: str | None = None,
        user_id: str | None = None,
    ) -> str:
        """A response_url on the fake (5 posts within ``response_url_ttl``). With ``channel`` and
        ``message_ts`` (the message a button was on) it honours ``replace_original`` and
        ``delete_original``; with ``channel`` it posts ``in_channel`` replies there."""
        with self._lock:
            rid = self._next_id("R")
            self._response_urls[rid] = _ResponseUrl(self.clock(), channel, message_ts, user_id)
            return f"{self.url}/response/{rid}"

    # ----------------------------------------------------------------- fault injection

    def fail(
        self,
        method: str,
        *,
        times: int = 1,
        status: int = 200,
        error: str | None = None,
        retry_after: float | None = None,
        drop: bool = False,
        delay: float = 0.0,
        body: str | None = None,
        drop_after: bool = False,
        channel: str | None = None,
    ) -> None:
        """Serve a fault for the next ``times`` calls to ``method`` (queued after earlier faults);
        with ``channel``, for the next calls whose ``channel`` parameter is that one only (other
        calls pass it by, e.g. a digest's post fails while DMs go through).

        Faults that answer instead of Slack (the call is *not* handled, nothing changes):

        * ``status=429`` answers ``{"ok": false, "error": "ratelimited"}`` (plus ``Retry-After``
          if ``retry_after`` is given);
        * other statuses answer an HTML page (or ``body``, or a JSON error if ``error`` is given);
        * ``error`` alone answers HTTP 200 ``ok: false``;
        * ``drop`` closes the connection without an answer (the client sees
          ``RemoteDisconnected``), as when a request never reached Slack.

        Faults after which the call *is* handled normally (e.g. the message is stored):

        * ``drop_after`` handles the call, then closes the connection without an answer: Slack
          did the work but the answer was lost. A client that retries on connection errors then
          posts twice. Not combinable with ``status``/``error``/``body``/``drop``/``retry_after``.
        * ``delay`` alone waits, then answers normally. A "hang" is a ``delay`` longer than the
          client's ``timeout``: the client gives up with a timeout while the fake still handles
          the call when the delay ends (like Slack answering too late). To hang *without*
          handling the call, combine ``delay`` with ``drop`` (or with a ``status``).

        ``delay`` combines with every fault and is waited first (``stop()`` cuts it short).
        Injected faults are served before rate limits are checked and consume no tokens.
        ``method`` may be ``"upload"`` or ``"response_url"``.
        """
        if drop_after and (
            drop or status != 200 or error is not None or body is not None or retry_after
        ):
            raise ValueError("drop_after cannot be combined with drop, status, error or body")
        fault = Fault(status, error, retry_after, drop, delay, body, drop_after, channel)
        if fault.delay_only and not delay:
            raise ValueError("fail() needs status, error, drop, drop_after, body or delay")
        with self._lock:
            self._faults.setdefault(method, []).extend([fault] * times)

    def fail_ratio(self, method: str, ratio: float, *, seed: int = 0, **fault: Any) -> None:
        """Serve a fault (same keywords as ``fail``, minus ``times``) for a share of calls,
        chosen by ``random.Random(seed)`` so a test run is repeatable. ``ratio=0`` removes it."""
        with self._lock:
            if ratio <= 0:
                self._ratio_faults.pop(method, None)
            else:
                self._ratio_faults[method] = (ratio, Fault(**fault), random.Random(seed))

    def clear_faults(self) -> None:
        """Forget queued and ratio faults (rate limits are not faults: they stay as they are)."""
        with self._lock:
            self._faults.clear()
            self._ratio_faults.clear()

    def _take_fault(self, method: str, params: JSON) -> Fault | None:
        channel = str(params.get("channel") or "")
        queue = self._faults.get(method) or []
        for index, fault in enumerate(queue):
            if fault.channel in (None, channel):
                return queue.pop(index)
        if method in self._ratio_faults:
            ratio, fault, rng = self._ratio_faults[method]
            if fault.channel in (None, channel) and rng.random() < ratio:
                return fault
        return None

    # ----------------------------------------------------------------- rate limits

    def enforce_rate_limits(
        self,
        *,
        clock: Callable[[], float] | None = None,
        per_minute: Mapping[str, float | None] | None = None,
        method_burst: float | None = None,
        post_message_per_second: float = 1.0,
        post_message_burst: float = 3.0,
        post_message_workspace_per_minute: float | None = None,
        post_message_workspace_burst: float | None = None,
    ) -> None:
        """Emulate Slack's rate limits (§3.1) with token buckets, per team (token's workspace).

        Over a limit the fake answers HTTP 429 ``{"ok": false, "error": "ratelimited"}`` with
        ``Retry-After: <n>`` (whole seconds until a token is free, rounded up, at least 1) and
        does not handle the call; the call is recorded with ``status=429`` and
        ``rate_limited=True`` (see ``rate_limited_calls``). A 429 consumes no token; every call
        that passes consumes one, whether it then succeeds or answers ``ok: false``. Calls
        without a valid token, unknown methods, uploads and response_urls are not limited.

        * ``clock``: seconds, for refills; default: the fake's ``clock`` (read on every call).
        * Per-method buckets, for the methods in ``METHOD_TIERS`` (Slack's tiers: Tier 2 = 20,
          Tier 3 = 50, Tier 4 = 100 calls per minute): ``per_minute`` overrides or adds methods
          (``{"users.info": 5}``; ``None`` removes a method's limit, e.g. ``{"users.info":
          None}``). Each bucket refills at that rate and holds ``method_burst`` calls (default: a
          minute's worth, so e.g. 100 ``users.info`` calls pass at once, then 100/min).
        * ``chat.postMessage`` (Slack's "Special" tier): one bucket per channel (a user id and
          the bot's DM with that user are the same channel) refilling at
          ``post_message_per_second`` and holding ``post_message_burst`` messages; plus, if
          ``post_message_workspace_per_minute`` is given, one workspace-wide bucket at that rate,
          holding ``post_message_workspace_burst`` (default: a minute's worth). Slack does not
          publish its workspace limit ("several hundred per minute"), so it is off by default.

        Calling it again replaces the configuration and refills every bucket. ``reset()``
        refills every bucket and keeps the configuration; ``clear_faults()`` leaves both alone;
        ``disable_rate_limits()`` turns the emulation off.
        """
        rates = {m: TIER_PER_MINUTE[tier] for m, tier in METHOD_TIERS.items()}
        for method, rate in (per_minute or {}).items():
            if method == "chat.postMessage":
                raise ValueError("chat.postMessage is limited by the post_message_* arguments")
            if rate is None:
                rates.pop(method, None)
            else:
                rates[method] = float(rate)
        positive = [*rates.values(), post_message_per_second]
        if post_message_workspace_per_minute is not None:
            positive.append(post_message_workspace_per_minute)
        if any(rate <= 0 for rate in positive):
            raise ValueError("rates must be positive (use None to remove a limit)")
        bursts = (method_burst, post_message_burst, post_message_workspace_burst)
        if any(b is not None and b < 1 for b in bursts):
            raise ValueError("bursts must be at least 1")
        with self._lock:
            self._limits = _RateLimits(
                clock=clock,
                per_minute=rates,
                method_burst=method_burst,
                channel_rate=post_message_per_second,
                channel_burst=post_message_burst,
                workspace_per_minute=post_message_workspace_per_minute,
                workspace_burst=post_message_workspace_burst,
            )

    def disable_rate_limits(self) -> None:
        """Stop emulating rate limits (the default) and forget the buckets."""
        with self._lock:
            self._limits = None

    @property
    def rate_limited_calls(self) -> list[Call]:
        """The calls the rate-limit emulation answered with 429, in order (injected 429 faults
        are not included). Cleared by ``reset()`` like ``calls``."""
        with self._lock:
            return [c for c in self._calls if c.rate_limited]

    @property
    def rate_limited_counts(self) -> dict[str, int]:
        """How many calls the rate-limit emulation answered with 429, by method."""
        counts: dict[str, int] = {}
        for call in self.rate_limited_calls:
            counts[call.method] = counts.get(call.method, 0) + 1
        return counts

    def _check_rate_limit(self, method: str, p: JSON, team_id: str) -> _Reply | None:
        """A 429 reply if the call is over a limit; otherwise take its tokens and return None."""
        limits = self._limits
        if limits is None:
            return None
        now = (limits.clock or self.clock)()
        buckets = []
        if method == "chat.postMessage":
            channel = str(p.get("channel") or "")
            channel = self._dm_users.get(channel, channel)  # D id -> user id: one key per DM
            buckets.append(
                limits.bucket(
                    (team_id, method, channel), limits.channel_rate, limits.channel_burst, now
                )
            )
            if limits.workspace_per_minute is not None:
                capacity = limits.workspace_burst or limits.workspace_per_minute
                rate = limits.workspace_per_minute / 60
                buckets.append(limits.bucket((team_id, method), rate, capacity, now))
        elif method in limits.per_minute:
            per_minute = limits.per_minute[method]
            capacity = limits.method_burst or per_minute
            buckets.append(limits.bucket((team_id, method), per_minute / 60, capacity, now))
        wait = max((b.wait() for b in buckets), default=0.0)
        if wait > 0:
            retry_after = max(1, math.ceil(wait - _EPSILON))
            reply = _Reply.json(
                429, {"ok": False, "error": "ratelimited"}, **{"Retry-After": str(retry_after)}
            )
            reply.rate_limited = True
            return reply
        for bucket in buckets:
            bucket.tokens -= 1
        return None

    @staticmethod
    def _fault_reply(fault: Fault) -> _Reply:
        if fault.drop:
            return _Reply(0, drop=True)
        headers = {}
        if fault.retry_after is not None:
            ra = fault.retry_after
            headers["Retry-After"] = str(int(ra)) if float(ra).is_integer() else str(ra)
        if fault.status == 429 or fault.error is not None:
            error = fault.error or "ratelimited"
            return _Reply.json(fault.status, {"ok": False, "error": error}, **headers)
        page = fault.body or (
            f"<html><head><title>{fault.status}</title></head>"
            f"<body><h1>Slack is having trouble ({fault.status})</h1></body></html>"
        )
        reply = _Reply.text(fault.status, page, "text/html")
        reply.headers.update(headers)
        return reply

    # ----------------------------------------------------------------- recording API

    @property
    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self._calls if c.method == method]

    def wait_for(
        self,
        method: str,
        count: int = 1,
        timeout: float = 5.0,
        where: Callable[[Call], bool] | None = None,
    ) -> list[Call]:
        """Block until ``count`` calls to ``method`` (matching ``where``) were received; return
        all of them. Raises AssertionError, listing what was received, on timeout."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                got = [c for c in self._calls if c.method == method and (where is None or where(c))]
                if len(got) >= count:
                    return got
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [
                        f"{c.method}({c.status}{', ' + c.error if c.error else ''})"
                        for c in self._calls
                    ]
                    raise AssertionError(
                        f"expected {count} call(s) to {method} within {timeout}s, got {len(got)}; "
                        f"received: {seen or 'nothing'}"
                    )
                self._changed.wait(remaining)

    def messages(self, channel: str) -> list[JSON]:
        """Every message stored for a channel (top level and thread replies), oldest first.
        A user id means the bot's DM with that user."""
        with self._lock:
            channel = self._dms.get(channel, channel)
            return copy.deepcopy(self._messages.get(channel, []))

    def thread(self, channel: str, ts: str) -> list[JSON]:
        """The replies in the thread under message ``ts`` (without the parent), oldest first."""
        return [m for m in self.messages(channel) if m["thread_ts"] == ts and m["ts"] != ts]

    @property
    def ephemerals(self) -> list[JSON]:
        with self._lock:
            return copy.deepcopy(self._ephemerals)

    @property
    def views(self) -> list[JSON]:
        """Every view opened, pushed, updated or published, in order: the view as Slack stores it
        (``id``, ``hash``, ``root_view_id``...) plus fake-only ``method`` and ``user_id`` keys."""
        with self._lock:
            return copy.deepcopy(self._view_log)

    def view(self, view_id: str) -> JSON:
        """The current state of a view."""
        with self._lock:
            return copy.deepcopy(self._views[view_id])

    def home_view(self, user_id: str) -> JSON | None:
        with self._lock:
            vid = self._homes.get(user_id)
            return copy.deepcopy(self._views[vid]) if vid else None

    @property
    def responses(self) -> list[JSON]:
        """JSON bodies posted to response_urls, each with a ``response_url_id`` key added."""
        with self._lock:
            return copy.deepcopy(self._responses)

    @property
    def files(self) -> list[JSON]:
        """Completed uploads: id, name, title, bytes, channel, thread_ts, initial_comment."""
        with self._lock:
            return copy.deepcopy(self._files)

    def reset(self) -> None:
        """Forget calls, messages, views, files, responses, triggers and faults, and refill the
        rate-limit buckets; keep the workspace (tokens, users, channels, DM channel ids) and the
        rate-limit configuration (``disable_rate_limits()`` turns it off)."""
        with self._lock:
            self._clear_records()
            if self._limits is not None:
                self._limits.buckets.clear()

    # ----------------------------------------------------------------- HTTP plumbing

    def _serve(self, handler: _Handler) -> None:
        """Handle one HTTP request (in the server's thread for that connection)."""
        split = urlsplit(handler.path)
        parts = split.path.strip("/").split("/")
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in handler.headers.items()}
        routes = {"api": None, "upload": "upload", "response": "response_url"}
        if len(parts) != 2 or parts[0] not in routes:
            handler.send_reply(_Reply.text(404, "not_found"))
            return
        method = routes[parts[0]] or parts[1]

        params, is_json, bad_json = _parse_params(split.query, raw, headers.get("content-type", ""))
        token = None
        auth_header = headers.get("authorization", "")
        if auth_header.lower().startswith("bearer "):
            token = auth_header[7:].strip()
        elif not is_json and parts[0] == "api":
            token = params.get("token")
        if parts[0] == "upload":
            params = {"file_id": parts[1], "length": len(raw)}

        with self._lock:
            fault = self._take_fault(method, params)
        if fault is not None and fault.delay:
            self._stopping.wait(fault.delay)  # the only wait in the fake, interrupted by stop()
        with self._lock:
            if fault is not None and not fault.handled:
                reply = self._fault_reply(fault)
            elif parts[0] == "api":
                reply = self._web_api(method, params, token, bad_json)
            elif parts[0] == "upload":
                reply = self._upload(parts[1], raw)
            else:
                reply = self._post_response_url(parts[1], params, bad_json)
            if fault is not None and fault.drop_after:
                reply.status, reply.drop = 0, True  # handled, but the answer is lost
            self._calls.append(
                Call(
                    method,
                    params,
                    headers,
                    token,
                    self.clock(),
                    reply.status,
                    reply.error,
                    fault,
                    reply.rate_limited,
                )
            )
            self._changed.notify_all()
        if reply.drop:
            handler.close_connection = True
            return  # the server closes the socket: the client sees RemoteDisconnected
        with contextlib.suppress(ConnectionError, TimeoutError):  # the client gave up
            handler.send_reply(reply)

    def _web_api(self, method: str, params: JSON, token: str | None, bad_json: bool) -> _Reply:
        handler = self._methods.get(method)
        if handler is None:
            return _Reply.json(200, {"ok": False, "error": "unknown_method"})
        if bad_json:
            return _Reply.json(200, {"ok": False, "error": "invalid_json"})
        if not token:
            return _Reply.json(200, {"ok": False, "error": "not_authed"})
        refused = self._refused.get(token)
        if refused is not None:
            return _Reply.json(200, {"ok": False, "error": refused})
        auth = self._tokens.get(token)
        if auth is None:
            return _Reply.json(200, {"ok": False, "error": "invalid_auth"})
        limited = self._check_rate_limit(method, params, auth[0])
        if limited is not None:
            return limited
        try:
            return _Reply.json(200, {"ok": True, **handler(params, auth)})
        except _SlackError as e:
            return _Reply.json(200, e.as_json())

    # ----------------------------------------------------------------- shared state helpers

    def _next_ts(self) -> str:
        """A new, strictly increasing ``ts``: synthetic, or the ``wall_clock``'s time."""
        self._ts_seq += 1
        if self.wall_clock is None:
            micros = 1_700_000_000_000_000 + self._ts_seq * 100
        else:
            micros = max(int(self.wall_clock() * 1_000_000), self._last_ts + 1)
        self._last_ts = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _now(self) -> datetime:
        """The current date: the ``wall_clock``'s if there is one, else the real one."""
        if self.wall_clock is None:
            return datetime.now(UTC)
        return datetime.fromtimestamp(self.wall_clock(), UTC)

    def _open_dm(self, user_id: str) -> str:
        if user_id not in self._dms:
            dm = self._next_id("D")
            self._dms[user_id], self._dm_users[dm] = dm, user_id
        return self._dms[user_id]

    def _resolve_channel(
        self, target: Any, *, user_ids: bool = True, public_post: bool = False
    ) -> str:
        """Where a message to ``channel`` goes: a channel the bot is in, a DM it opened, or (as
        chat.postMessage allows) a user id, which means the bot's DM with that user. With
        ``public_post`` (chat.postMessage), a public channel the bot is not in when the app
        has ``chat:write.public``. A private channel the bot is not in is not found."""
        channel = str(target or "")
        if user_ids and channel[:1] in ("U", "W"):
            user = self._users.get(channel)
            if user is None:
                raise _SlackError("channel_not_found")
            if user["deleted"]:
                raise _SlackError("user_disabled")
            channel = self._open_dm(channel)
        if channel in self._dm_users:
            if not self.messages_tab_enabled:
                raise _SlackError("messages_tab_disabled")
            return channel
        info = self._visible_channel(channel)
        if not info["is_member"] and not (
            public_post and not info["is_private"] and "chat:write.public" in self._scopes
        ):
            raise _SlackError("not_in_channel")
        return channel

    def _visible_channel(self, channel: str) -> JSON:
        """A channel as the bot may know it: a private one it is not in does not exist."""
        info = self._channels.get(channel)
        if info is None or (info["is_private"] and not info["is_member"]):
            raise _SlackError("channel_not_found")
        return info

    def _need_scope(self, scope: str) -> None:
        if scope not in self._scopes:
            raise _SlackError(
                "missing_scope", needed=scope, provided=",".join(sorted(self._scopes))
            )

    def _find_message(self, channel: str, ts: Any) -> JSON | None:
        return next((m for m in self._messages.get(channel, []) if m["ts"] == ts), None)

    def _store_message(self, channel: str, p: JSON, metadata: JSON | None = None) -> JSON:
        thread_ts = p.get("thread_ts") or None
        msg = {
            "type": "message",
            "ts": self._next_ts(),
            "channel": channel,
            "text": p.get("text") or "",
            "blocks": p.get("blocks"),
            "attachments": p.get("attachments"),
            "thread_ts": str(thread_ts) if thread_ts else None,
            "metadata": metadata,
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "team": self.team_id,
        }
        self._messages.setdefault(channel, []).append(msg)
        return msg

    @staticmethod
    def _check_message_content(p: JSON) -> None:
        if not p.get("text") and not p.get("blocks") and not p.get("attachments"):
            raise _SlackError("no_text")
        _check_blocks(p.get("blocks"), MESSAGE_BLOCK_LIMIT, "invalid_blocks")

    @staticmethod
    def _wire(msg: JSON) -> JSON:
        """A stored message as Slack returns it (no ``channel`` key, no empty optional keys)."""
        return {k: copy.deepcopy(v) for k, v in msg.items() if k != "channel" and v is not None}

    def _user_json(self, user: JSON, *, include_locale: bool = False) -> JSON:
        utc_now = self._now()
        now = utc_now.astimezone(ZoneInfo(user["tz"]))
        offset = now.utcoffset()
        profile_keys = ("locale", "email", "status_text", "status_emoji", "status_expiration")
        out = {k: v for k, v in user.items() if k not in profile_keys}
        status = (user["status_text"], user["status_emoji"], user["status_expiration"])
        expires = status[2]
        if self.wall_clock is not None and expires and expires <= utc_now.timestamp():
            status = ("", "", 0)  # Slack clears an expired status
        out.update(
            tz_label=now.tzname(),
            tz_offset=int(offset.total_seconds()) if offset is not None else 0,
            is_admin=False,
            profile={
                "real_name": user["real_name"],
                "display_name": user["name"],
                **({"email": user["email"]} if user["email"] else {}),
                "status_text": status[0],
                "status_emoji": status[1],
                "status_expiration": status[2],
            },
        )
        if include_locale:
            out["locale"] = user["locale"]
        return out

    # ----------------------------------------------------------------- Web API methods

    def _apps_connections_open(self, p: JSON, auth: tuple[str, str]) -> JSON:
        """A temporary Socket Mode URL, for the app-level token only (a bot token gets
        not_allowed_token_type, as from Slack)."""
        if auth[1] != _APP_LEVEL:
            raise _SlackError("not_allowed_token_type")
        if self.socket_mode_url is None:
            raise _SlackError("internal_error")
        return {"url": self.socket_mode_url}

    def _auth_test(self, p: JSON, auth: tuple[str, str]) -> JSON:
        team_id, user_id = auth
        return {
            "url": f"https://{self.team_domain}.slack.com/",
            "team": self.team_name,
            "team_id": team_id,
            "user": self._users.get(user_id, {}).get("name", user_id),
            "user_id": user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _chat_post_message(self, p: JSON, auth: tuple[str, str]) -> JSON:
        channel = self._resolve_channel(p.get("channel"), public_post=True)
        self._check_message_content(p)
        metadata = _check_metadata(p.get("metadata"))
        msg = self._store_message(channel, p, metadata)
        return {"channel": channel, "ts": msg["ts"], "message": self._wire(msg)}

    def _chat_post_ephemeral(self, p: JSON, auth: tuple[str, str]) -> JSON:
        channel = self._resolve_channel(p.get("channel"), user_ids=False)
        if p.get("user") not in self._users:
            raise _SlackError("user_not_in_channel")
        self._check_message_content(p)
        ts = self._next_ts()
        self._ephemerals.append(
            {
                "ts": ts,
                "channel": channel,
                "user": p["user"],
                "text": p.get("text") or "",
                "blocks": p.get("blocks"),
                "thread_ts": p.get("thread_ts"),
            }
        )
        return {"message_ts": ts}

    def _chat_update(self, p: JSON, auth: tuple[str, str]) -> JSON:
        channel = self._resolve_channel(p.get("channel"), user_ids=False)
        msg = self._find_message(channel, p.get("ts"))
        if msg is None:
            raise _SlackError("message_not_found")
        if len(str(p.get("text") or "")) > 4000:
            raise _SlackError("msg_too_long")
        self._check_message_content(p)
        metadata = _check_metadata(p.get("metadata"))
        for key in ("text", "blocks", "attachments"):
            if key in p:
                msg[key] = p[key]
        if "metadata" in p:
            msg["metadata"] = metadata
        msg["edited"] = {"user": self.bot_user_id, "ts": self._next_ts()}
        return {
            "channel": channel,
            "ts": msg["ts"],
            "text": msg["text"],
            "message": self._wire(msg),
        }

    def _conversations_open(self, p: JSON, auth: tuple[str, str]) -> JSON:
        if p.get("channel"):
            if p["channel"] not in self._dm_users:
                raise _SlackError("channel_not_found")
            return {"channel": {"id": p["channel"]}}
        users = [u.strip() for u in str(p.get("users") or "").split(",") if u.strip()]
        if not users:
            raise _SlackError("users_list_not_supplied")
        if len(users) > 8:
            raise _SlackError("too_many_users")
        if len(users) > 1:
            raise _SlackError("fake_slack_does_not_support_mpims")
        user = self._users.get(users[0])
        if user is None:
            raise _SlackError("user_not_found")
        if user["deleted"]:
            raise _SlackError("user_disabled")
        if user["is_bot"]:
            raise _SlackError("cannot_dm_bot")
        already = users[0] in self._dms
        dm = self._open_dm(users[0])
        out: JSON = {"channel": {"id": dm}}
        if already:
            out.update(no_op=True, already_open=True)
        return out

    def _conversations_info(self, p: JSON, auth: tuple[str, str]) -> JSON:
        channel = str(p.get("channel") or "")
        if channel in self._dm_users:
            return {"channel": {"id": channel, "is_im": True, "user": self._dm_users[channel]}}
        return {"channel": dict(self._visible_channel(channel))}

    def _conversations_join(self, p: JSON, auth: tuple[str, str]) -> JSON:
        """Join a public channel (scope ``channels:join``): Slack's conversation object; when
        the bot is in it already, ``warning: already_in_channel`` too, as Slack answers. A DM
        or a private channel cannot be joined (``method_not_supported_for_channel_type``; a
        private one the bot is not in is ``channel_not_found``)."""
        self._need_scope("channels:join")
        channel = str(p.get("channel") or "")
        if channel in self._dm_users:
            raise _SlackError("method_not_supported_for_channel_type")
        info = self._visible_channel(channel)
        if info["is_private"]:
            raise _SlackError("method_not_supported_for_channel_type")
        out: JSON = {}
        if info["is_member"]:
            out = {
                "warning": "already_in_channel",
                "response_metadata": {"warnings": ["already_in_channel"]},
            }
        info["is_member"] = True
        return {"channel": dict(info), **out}

    def _readable_channel(self, p: JSON) -> str:
        channel = str(p.get("channel") or "")
        if channel in self._dm_users:
            return channel
        if not self._visible_channel(channel)["is_member"]:
            raise _SlackError("not_in_channel")
        return channel

    @staticmethod
    def _window(p: JSON) -> tuple[Decimal | None, Decimal | None, bool]:
        """``oldest``, ``latest`` (ts strings or unix times, compared as numbers) and
        ``inclusive``, as history and replies take them."""
        oldest = _ts_value(p["oldest"], "invalid_ts_oldest") if p.get("oldest") else None
        latest = _ts_value(p["latest"], "invalid_ts_latest") if p.get("latest") else None
        return oldest, latest, _truthy(p.get("inclusive"))

    @staticmethod
    def _page(items: list[JSON], limit: int) -> tuple[list[JSON], JSON]:
        """One page of ``items`` (in answer order) and the paging keys of the answer."""
        page, rest = items[:limit], items[limit:]
        next_cursor = _cursor("next_ts", rest[0]["ts"]) if rest else ""
        return page, {"has_more": bool(rest), "response_metadata": {"next_cursor": next_cursor}}

    def _conversations_history(self, p: JSON, auth: tuple[str, str]) -> JSON:
        """Top-level messages, newest first, with ``reply_count`` on thread parents.

        Paging as Slack's: only messages after ``oldest`` and before ``latest`` (ts strings or
        unix times, compared as numbers; exclusive unless ``inclusive``), ``limit`` per page
        (default 100, at most 999), then ``response_metadata.next_cursor`` (``""`` on the last
        page) and ``has_more`` lead to the next, older page. Metadata is included (Slack returns
        the calling app's own metadata; ``include_all_metadata`` adds other apps', and every
        message here is the bot's)."""
        channel = self._readable_channel(p)
        oldest, latest, inclusive = self._window(p)
        limit = _page_size(p, 100, 999)
        start = _read_cursor(p.get("cursor"), "next_ts")
        until = _ts_value(start, "invalid_cursor") if start is not None else None
        all_msgs = self._messages.get(channel, [])
        top = sorted(
            (
                m
                for m in all_msgs
                if m["thread_ts"] in (None, m["ts"])
                and _in_range(m["ts"], oldest, latest, inclusive)
                and (until is None or Decimal(m["ts"]) <= until)
            ),
            key=lambda m: Decimal(m["ts"]),
            reverse=True,
        )
        page, paging = self._page(top, limit)
        out = []
        for m in page:
            wire = self._wire(m)
            replies = [r for r in all_msgs if r["thread_ts"] == m["ts"] and r["ts"] != m["ts"]]
            if replies:
                wire.update(
                    thread_ts=m["ts"], reply_count=len(replies), latest_reply=replies[-1]["ts"]
                )
            out.append(wire)
        return {"messages": out, **paging, "pin_count": 0}

    def _conversations_replies(self, p: JSON, auth: tuple[str, str]) -> JSON:
        """The thread under ``ts``: the parent, then replies oldest first.

        ``oldest``/``latest``/``inclusive`` filter the replies (the parent always leads the first
        page, as in Slack); ``limit`` (default and maximum 1000) counts the parent; pages after
        the first (``cursor`` = a previous ``response_metadata.next_cursor``) hold replies only,
        as Slack's continuation pages omit the parent."""
        channel = self._readable_channel(p)
        parent = self._find_message(channel, p.get("ts"))
        if parent is None:
            raise _SlackError("thread_not_found")
        oldest, latest, inclusive = self._window(p)
        limit = _page_size(p, 1000, 1000)
        start = _read_cursor(p.get("cursor"), "next_ts")
        since = _ts_value(start, "invalid_cursor") if start is not None else None
        replies = sorted(
            (
                m
                for m in self._messages[channel]
                if m["thread_ts"] == parent["ts"]
                and m is not parent
                and _in_range(m["ts"], oldest, latest, inclusive)
                and (since is None or Decimal(m["ts"]) >= since)
            ),
            key=lambda m: Decimal(m["ts"]),
        )
        items = replies if since is not None else [parent, *replies]
        page, paging = self._page(items, limit)
        return {"messages": [self._wire(m) for m in page], **paging}

    def _users_info(self, p: JSON, auth: tuple[str, str]) -> JSON:
        user = self._users.get(str(p.get("user") or ""))
        if user is None:
            raise _SlackError("user_not_found")
        return {"user": self._user_json(user, include_locale=_truthy(p.get("include_locale")))}

    def _users_list(self, p: JSON, auth: tuple[str, str]) -> JSON:
        """Every user (deleted ones and bots too), in the order they were added. ``limit``
        absent or 0 means all of them, as in Slack; otherwise pages of ``limit`` users joined by
        ``response_metadata.next_cursor`` (``""`` on the last page)."""
        locale = _truthy(p.get("include_locale"))
        limit = _page_size(p, 0, None)
        users = list(self._users.values())
        start = _read_cursor(p.get("cursor"), "user")
        if start is not None:
            ids = [u["id"] for u in users]
            if start not in ids:
                raise _SlackError("invalid_cursor")
            users = users[ids.index(start) :]
        page, rest = (users[:limit], users[limit:]) if limit else (users, [])
        members = [self._user_json(u, include_locale=locale) for u in page]
        next_cursor = _cursor("user", rest[0]["id"]) if rest else ""
        return {"members": members, "response_metadata": {"next_cursor": next_cursor}}

    def _users_lookup_by_email(self, p: JSON, auth: tuple[str, str]) -> JSON:
        for user in self._users.values():
            if user["email"] and user["email"] == p.get("email"):
                return {"user": self._user_json(user)}
        raise _SlackError("users_not_found")

    # views -----------------------------------------------------------------

    def _use_trigger(self, trigger_id: Any) -> _Trigger:
        trigger = self._triggers.get(str(trigger_id or ""))
        if trigger is None:
            raise _SlackError("invalid_trigger_id")
        if trigger.used:
            raise _SlackError("exchanged_trigger_id")
        if self.clock() - trigger.issued_at > self.trigger_ttl:
            raise _SlackError("expired_trigger_id")
        trigger.used = True
        return trigger

    def _store_view(
        self,
        method: str,
        view: JSON,
        *,
        view_id: str | None = None,
        root: str | None = None,
        previous: str | None = None,
        user_id: str | None = None,
    ) -> JSON:
        view_id = view_id or self._next_id("V")
        self._seq += 1
        external_id = str(view.get("external_id") or "")
        stored = {
            "id": view_id,
            "team_id": self.team_id,
            "type": view["type"],
            "title": view.get("title"),
            "submit": view.get("submit"),
            "close": view.get("close"),
            "blocks": copy.deepcopy(view.get("blocks") or []),
            "private_metadata": str(view.get("private_metadata") or ""),
            "callback_id": str(view.get("callback_id") or ""),
            "external_id": external_id,
            "state": {"values": {}},
            "hash": f"1700000000.{self._seq:08x}",
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "root_view_id": root or view_id,
            "previous_view_id": previous,
            "app_id": self.app_id,
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }
        if external_id:
            self._external_ids[external_id] = view_id
        self._views[view_id] = stored
        self._view_users[view_id] = user_id
        self._view_log.append({**copy.deepcopy(stored), "method": method, "user_id": user_id})
        return {"view": copy.deepcopy(stored)}

    def _check_external_id(self, view: JSON, own_id: str | None = None) -> None:
        ext = view.get("external_id")
        if ext and self._external_ids.get(ext, own_id) != own_id:
            raise _SlackError("duplicate_external_id")

    def _views_open(self, p: JSON, auth: tuple[str, str]) -> JSON:
        trigger = self._use_trigger(p.get("trigger_id"))
        view = _check_view(p.get("view"), allowed_types=("modal",))
        self._check_external_id(view)
        result = self._store_view("views.open", view, user_id=trigger.user_id)
        self._stacks[result["view"]["id"]] = [result["view"]["id"]]
        return result

    def _views_push(self, p: JSON, auth: tuple[str, str]) -> JSON:
        trigger = self._use_trigger(p.get("trigger_id"))
        view = _check_view(p.get("view"), allowed_types=("modal",))
        if trigger.view_id in self._views:
            root = self._views[trigger.view_id]["root_view_id"]
        elif self._stacks:
            root = next(reversed(self._stacks))  # the most recently opened modal
        else:
            raise _SlackError("invalid_arguments", "[ERROR] no modal is open to push onto")
        stack = self._stacks[root]
        if len(stack) >= VIEW_STACK_LIMIT:
            raise _SlackError("push_limit_reached")
        self._check_external_id(view)
        result = self._store_view(
            "views.push", view, root=root, previous=stack[-1], user_id=trigger.user_id
        )
        stack.append(result["view"]["id"])
        return result

    def _views_update(self, p: JSON, auth: tuple[str, str]) -> JSON:
        view_id = p.get("view_id") or self._external_ids.get(str(p.get("external_id") or ""))
        if not view_id or view_id not in self._views:
            raise _SlackError("not_found")
        current = self._views[view_id]
        if p.get("hash") and p["hash"] != current["hash"]:
            raise _SlackError("hash_conflict")
        view = _check_view(p.get("view"), allowed_types=("modal", "home"))
        self._check_external_id(view, own_id=view_id)
        return self._store_view(
            "views.update",
            view,
            view_id=view_id,
            root=current["root_view_id"],
            previous=current["previous_view_id"],
            user_id=self._view_users.get(view_id),
        )

    def _views_publish(self, p: JSON, auth: tuple[str, str]) -> JSON:
        user_id = str(p.get("user_id") or "")
        if user_id not in self._users:
            raise _SlackError("user_not_found")
        view = _check_view(p.get("view"), allowed_types=("home",))
        home = self._homes.get(user_id)
        if home and p.get("hash") and p["hash"] != self._views[home]["hash"]:
            raise _SlackError("hash_conflict")
        result = self._store_view("views.publish", view, view_id=home, user_id=user_id)
        self._homes[user_id] = result["view"]["id"]
        return result

    # files -------------------------------------------------------------------

    def _files_get_upload_url(self, p: JSON, auth: tuple[str, str]) -> JSON:
        if not p.get("filename") or not str(p.get("length") or "").isdigit():
            raise _SlackError("invalid_arguments", "[ERROR] filename and length are required")
        file_id = self._next_id("F")
        self._uploads[file_id] = {
            "id": file_id,
            "name": p["filename"],
            "length": int(p["length"]),
            "bytes": None,
        }
        return {"upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id}

    def _upload(self, file_id: str, raw: bytes) -> _Reply:
        """The upload_url: Slack takes the raw bytes (no auth header) and answers ``OK - <n>``."""
        if file_id not in self._uploads:
            return _Reply.text(404, "file_not_found")
        self._uploads[file_id]["bytes"] = raw
        return _Reply.text(200, f"OK - {len(raw)}")

    def _files_complete_upload(self, p: JSON, auth: tuple[str, str]) -> JSON:
        items = p.get("files")
        if not isinstance(items, list) or not items:
            raise _SlackError("invalid_arguments", "[ERROR] files must be a JSON array")
        channels = [c for c in str(p.get("channels") or "").split(",") if c]
        if p.get("channel_id"):
            channels.append(str(p["channel_id"]))
        channels = [self._resolve_channel(c, user_ids=False) for c in channels]
        uploads = []
        for item in items:
            upload = self._uploads.get(str(item.get("id")))
            if upload is None or upload["bytes"] is None:
                raise _SlackError("file_not_found")
            uploads.append((upload, item.get("title") or upload["name"]))
        out = []
        for upload, title in uploads:
            record = {
                "id": upload["id"],
                "name": upload["name"],
                "title": title,
                "bytes": upload["bytes"],
                "channel": channels[0] if channels else None,
                "channels": channels,
                "thread_ts": p.get("thread_ts"),
                "initial_comment": p.get("initial_comment"),
            }
            self._files.append(record)
            out.append({"id": upload["id"], "name": upload["name"], "title": title})
        return {"files": out}

    # response_url --------------------------------------------------------------

    def _post_response_url(self, rid: str, body: JSON, bad_json: bool) -> _Reply:
        """What a response_url does with a post (§1.9): record it; ``delete_original`` /
        ``replace_original`` act on the message the interaction came from; ``in_channel``
        posts a new message; anything else is an ephemeral for the user."""
        rurl = self._response_urls.get(rid)
        if rurl is None:
            return _Reply.text(404, "no_service")
        if self.clock() - rurl.issued_at > self.response_url_ttl:
            return _Reply.text(404, "expired_url")
        if rurl.uses >= self.response_url_uses:
            return _Reply.text(404, "used_url")
        if bad_json:
            return _Reply.text(400, "invalid_payload")
        delete = _truthy(body.get("delete_original"))
        if not delete and not body.get("text") and not body.get("blocks"):
            return _Reply.text(400, "no_text")
        rurl.uses += 1
        self._responses.append({**copy.deepcopy(body), "response_url_id": rid})
        original = (
            self._find_message(rurl.channel, rurl.message_ts)
            if rurl.channel and rurl.message_ts
            else None
        )
        if delete:
            if original is not None:
                self._messages[rurl.channel or ""].remove(original)
        elif _truthy(body.get("replace_original")) and original is not None:
            original.update(text=body.get("text") or "", blocks=body.get("blocks"))
        elif body.get("response_type") == "in_channel" and rurl.channel:
            metadata = None
            with contextlib.suppress(_SlackError):  # malformed metadata is dropped, not refused
                metadata = _check_metadata(body.get("metadata"))
            self._store_message(rurl.channel, body, metadata)
        else:
            self._ephemerals.append(
                {
                    "ts": self._next_ts(),
                    "channel": rurl.channel,
                    "user": rurl.user_id,
                    "text": body.get("text") or "",
                    "blocks": body.get("blocks"),
                    "thread_ts": body.get("thread_ts"),
                }
            )
        return _Reply.text(200, "ok")
