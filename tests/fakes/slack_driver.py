"""Plays Slack calling the bot: signed slash commands, interactions and events over real HTTP.

Payload shapes follow Slack's documented examples (slash command form body, ``block_actions``,
``view_submission``, ``view_closed``, ``event_callback``); every interaction carries a fresh
``trigger_id`` and ``response_url`` issued by the ``FakeSlack`` the bot talks to. Requests are
signed as Slack signs them (§1.4 of /work/shared/SLACK.md): ``v0=HMAC-SHA256(secret,
"v0:{timestamp}:{raw body}")`` in ``X-Slack-Signature``, with ``X-Slack-Request-Timestamp`` set to
the real current time (Bolt verifies against the wall clock).
"""

from __future__ import annotations

import datetime as dt
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

from .fake_slack import FakeSlack

JSON = dict[str, Any]
Signature = Literal["valid", "bad", "stale", "missing"]

VERIFICATION_TOKEN = "fake-verification-token"  # the deprecated "token" field Slack still sends


@dataclass(frozen=True)
class Response:
    status: int
    body: str
    json: JSON | None
    headers: dict[str, str] | None = None
    trigger_id: str | None = None  # the trigger_id the request carried, if any
    response_url: str | None = None  # the response_url the request carried, if any


# element type -> (state key, initial key) for elements whose state is one value
_VALUE_STATE = {
    "plain_text_input": ("value", "initial_value"),
    "number_input": ("value", "initial_value"),
    "email_text_input": ("value", "initial_value"),
    "url_text_input": ("value", "initial_value"),
    "datepicker": ("selected_date", "initial_date"),
    "timepicker": ("selected_time", "initial_time"),
    "users_select": ("selected_user", "initial_user"),
    "conversations_select": ("selected_conversation", "initial_conversation"),
    "channels_select": ("selected_channel", "initial_channel"),
    "static_select": ("selected_option", "initial_option"),
    "radio_buttons": ("selected_option", "initial_option"),
    "external_select": ("selected_option", "initial_option"),
}
# element type -> (state key, initial key) for elements whose state is a list
_LIST_STATE = {
    "checkboxes": ("selected_options", "initial_options"),
    "multi_static_select": ("selected_options", "initial_options"),
    "multi_users_select": ("selected_users", "initial_users"),
    "multi_conversations_select": ("selected_conversations", "initial_conversations"),
    "multi_channels_select": ("selected_channels", "initial_channels"),
}
_OPTION_ELEMENTS = {"static_select", "radio_buttons", "checkboxes", "multi_static_select"}


def _options(element: JSON) -> list[JSON]:
    opts = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        opts += group.get("options") or []
    return opts


def _pick_option(element: JSON, block_id: str, value: Any) -> JSON:
    if isinstance(value, dict):
        value = value.get("value")
    for opt in _options(element):
        if opt.get("value") == value:
            return dict(opt)
    known = [o.get("value") for o in _options(element)]
    raise ValueError(f"block {block_id!r}: no option with value {value!r} (options: {known})")


def _element_state(block_id: str, element: JSON, given: Any, touched: bool) -> JSON:
    """``state.values[block_id][action_id]`` for one element, as Slack sends it."""
    kind = element.get("type", "")
    state: JSON = {"type": kind}
    if kind in _VALUE_STATE:
        key, initial = _VALUE_STATE[kind]
        if not touched or given is None:
            state[key] = element.get(initial)
        elif kind in _OPTION_ELEMENTS:
            state[key] = _pick_option(element, block_id, given)
        elif isinstance(given, dt.date | dt.time):
            state[key] = given.isoformat()[: 5 if isinstance(given, dt.time) else 10]
        else:
            state[key] = str(given)
    elif kind in _LIST_STATE:
        key, initial = _LIST_STATE[kind]
        if not touched or given is None:
            state[key] = list(element.get(initial) or [])
        elif kind in _OPTION_ELEMENTS:
            state[key] = [_pick_option(element, block_id, v) for v in given]
        else:
            state[key] = list(given)
    else:
        raise ValueError(
            f"block {block_id!r}: element type {kind!r} is not supported by the driver"
        )
    return state


def _stateful(element: JSON) -> bool:
    return element.get("type") in _VALUE_STATE or element.get("type") in _LIST_STATE


def view_state(view: JSON, inputs: dict[str, Any]) -> JSON:
    """``state`` for a view as Slack sends it on submission: every input block, and every
    actions block's stateful elements (selects, checkboxes, pickers; not buttons), with the
    given values for the blocks in ``inputs`` and initial values (or empty) for the others.

    An input block takes one value; an actions block takes a dict of action_id -> value for the
    elements to set (or a bare value when it has a single stateful element)."""
    values: JSON = {}
    input_blocks = {}
    actions_blocks = {}
    for i, block in enumerate(view.get("blocks") or []):
        block_id = block.get("block_id") or f"fake-block-{i}"  # Slack generates random ids
        if block.get("type") == "input":
            input_blocks[block_id] = block
        elif block.get("type") == "actions" and any(
            _stateful(e) for e in block.get("elements") or []
        ):
            actions_blocks[block_id] = block
    unknown = set(inputs) - set(input_blocks) - set(actions_blocks)
    if unknown:
        raise ValueError(
            f"no input block(s) {sorted(unknown)} (nor actions blocks) in view "
            f"{view.get('callback_id')!r}; input blocks are {sorted(input_blocks)}, "
            f"actions blocks {sorted(actions_blocks)}"
        )
    for block_id, block in input_blocks.items():
        element = block.get("element") or {}
        action_id = element.get("action_id") or f"fake-action-{block_id}"
        touched = block_id in inputs
        values[block_id] = {
            action_id: _element_state(block_id, element, inputs.get(block_id), touched)
        }
    for block_id, block in actions_blocks.items():
        elements = [e for e in block.get("elements") or [] if _stateful(e)]
        given = inputs.get(block_id)
        if block_id in inputs and not isinstance(given, dict):
            if len(elements) != 1:
                raise ValueError(
                    f"actions block {block_id!r} has {len(elements)} elements: "
                    "give a dict of action_id -> value"
                )
            given = {elements[0].get("action_id"): given}
        given = given or {}
        known = {e.get("action_id") for e in elements}
        if set(given) - known:
            raise ValueError(
                f"actions block {block_id!r} has no element(s) {sorted(set(given) - known)}; "
                f"its elements are {sorted(str(k) for k in known)}"
            )
        state: JSON = {}
        for index, element in enumerate(elements):
            action_id = element.get("action_id") or f"fake-action-{block_id}-{index}"
            state[action_id] = _element_state(
                block_id, element, given.get(action_id), action_id in given
            )
        values[block_id] = state
    return {"values": values}


class SlackDriver:
    """Sends Slack's requests to the bot at ``url + path``, signed with ``signing_secret``."""

    def __init__(
        self,
        url: str,
        signing_secret: str,
        fake: FakeSlack,
        *,
        team_id: str = "T0TEST",
        path: str = "/slack/events",
        timeout: float = 10.0,
    ) -> None:
        self.endpoint = url.rstrip("/") + path
        self.signing_secret = signing_secret
        self.fake = fake
        self.team_id = team_id
        self.timeout = timeout
        self._verifier = SignatureVerifier(signing_secret)
        self._seq = 0
        # no proxies: the bot listens on localhost whatever HTTP(S)_PROXY says
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    # ----------------------------------------------------------------- signing and sending

    def sign(self, body: str | bytes, timestamp: int | str) -> str:
        """Slack's ``X-Slack-Signature`` value for a body sent at ``timestamp``."""
        signature = self._verifier.generate_signature(timestamp=str(timestamp), body=body)
        assert signature is not None
        return signature

    def post(
        self,
        body: str,
        content_type: str,
        *,
        signature: Signature = "valid",
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
        trigger_id: str | None = None,
        response_url: str | None = None,
    ) -> Response:
        """POST a raw body to the bot, signed (or mis-signed) as asked."""
        now = int(time.time())
        timestamp = now - 600 if signature == "stale" else now
        headers = {
            "Content-Type": content_type,
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        }
        if signature != "missing":
            sig = self.sign(body, timestamp)
            if signature == "bad":
                sig = sig[:-4] + ("0000" if not sig.endswith("0000") else "1111")
            headers.update({"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": sig})
        if retry_num is not None:
            headers.update(
                {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason}
            )
        request = urllib.request.Request(
            self.endpoint, data=body.encode(), headers=headers, method="POST"
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as resp:
                status, text, resp_headers = resp.status, resp.read().decode(), dict(resp.headers)
        except urllib.error.HTTPError as e:
            status, text, resp_headers = e.code, e.read().decode(), dict(e.headers)
        try:
            parsed = json.loads(text) if text.strip()[:1] == "{" else None
        except ValueError:
            parsed = None
        return Response(status, text, parsed, resp_headers, trigger_id, response_url)

    def _post_payload(self, payload: JSON, **options: Any) -> Response:
        body = urlencode({"payload": json.dumps(payload)})
        return self.post(
            body,
            "application/x-www-form-urlencoded",
            trigger_id=payload.get("trigger_id"),
            response_url=payload.get("response_url"),
            **options,
        )

    def _next_ts(self) -> str:
        self._seq += 1
        return f"{int(time.time())}.{self._seq:06d}"

    def _user(self, user_id: str, user_name: str | None = None) -> JSON:
        name = user_name or user_id.lower()
        return {"id": user_id, "username": name, "name": name, "team_id": self.team_id}

    def _team(self) -> JSON:
        return {"id": self.team_id, "domain": self.fake.team_domain}

    # ----------------------------------------------------------------- slash commands

    def command(
        self,
        user_id: str,
        text: str,
        *,
        command: str = "/pmo",
        channel_id: str = "C0GENERAL",
        user_name: str | None = None,
        signature: Signature = "valid",
        retry_num: int | None = None,
    ) -> Response:
        """A slash command, form-encoded as Slack sends it."""
        trigger_id = self.fake.new_trigger_id(user_id=user_id)
        response_url = self.fake.new_response_url(channel=channel_id, user_id=user_id)
        body = urlencode(
            {
                "token": VERIFICATION_TOKEN,
                "team_id": self.team_id,
                "team_domain": self.fake.team_domain,
                "channel_id": channel_id,
                "channel_name": self.fake.channel_name(channel_id),
                "user_id": user_id,
                "user_name": user_name or user_id.lower(),
                "command": command,
                "text": text,
                "api_app_id": self.fake.app_id,
                "is_enterprise_install": "false",
                "response_url": response_url,
                "trigger_id": trigger_id,
            }
        )
        return self.post(
            body,
            "application/x-www-form-urlencoded",
            signature=signature,
            retry_num=retry_num,
            trigger_id=trigger_id,
            response_url=response_url,
        )

    # ----------------------------------------------------------------- interactivity

    def block_action(
        self,
        user_id: str,
        action_id: str,
        *,
        value: str | None = None,
        block_id: str = "b",
        message: JSON | None = None,
        channel_id: str | None = None,
        container: JSON | None = None,
        view: JSON | None = None,
        action: JSON | None = None,
        signature: Signature = "valid",
        retry_num: int | None = None,
    ) -> Response:
        """A ``block_actions`` payload for a button click (``action`` overrides/extends the action
        dict, e.g. ``{"type": "static_select", "selected_option": {...}}``).

        ``message``: the message the button was on (e.g. from ``fake.messages(...)``); ``view``: the
        modal or Home view it was in (from ``fake.views``). Without either it is a message action
        in ``channel_id``.
        """
        view_id = view.get("id") if view else None
        trigger_id = self.fake.new_trigger_id(user_id=user_id, view_id=view_id)
        payload: JSON = {
            "type": "block_actions",
            "user": self._user(user_id),
            "api_app_id": self.fake.app_id,
            "token": VERIFICATION_TOKEN,
            "trigger_id": trigger_id,
            "team": self._team(),
            "enterprise": None,
            "is_enterprise_install": False,
        }
        if view is not None:
            payload["container"] = container or {"type": "view", "view_id": view_id}
            wire = {k: v for k, v in view.items() if k not in ("method", "user_id")}
            payload["view"] = {**wire, "state": view_state(view, {})}
        else:
            channel_id = channel_id or (message or {}).get("channel") or "C0GENERAL"
            message_ts = message["ts"] if message else None
            payload["container"] = container or {
                "type": "message",
                "message_ts": message_ts,
                "channel_id": channel_id,
                "is_ephemeral": False,
            }
            payload["channel"] = {"id": channel_id, "name": self.fake.channel_name(channel_id)}
            if message is not None:
                payload["message"] = {
                    "type": "message",
                    **{k: v for k, v in message.items() if k != "channel" and v is not None},
                }
            payload["state"] = {"values": {}}
            payload["response_url"] = self.fake.new_response_url(
                channel=channel_id, message_ts=message_ts, user_id=user_id
            )
        payload["actions"] = [
            {
                "action_id": action_id,
                "block_id": block_id,
                "type": "button",
                "text": {"type": "plain_text", "text": action_id, "emoji": True},
                **({"value": value} if value is not None else {}),
                "action_ts": self._next_ts(),
                **(action or {}),
            }
        ]
        return self._post_payload(payload, signature=signature, retry_num=retry_num)

    def _view_payload(self, kind: str, user_id: str, view: JSON | str, state: JSON) -> JSON:
        if isinstance(view, str):
            view = self.fake.view(view)
        missing = [k for k in ("id", "hash", "type", "callback_id") if k not in view]
        if missing:
            raise ValueError(f"view lacks {missing}: pass a view as FakeSlack recorded it")
        wire = {k: v for k, v in view.items() if k not in ("method", "user_id")}
        wire.setdefault("private_metadata", "")
        wire["state"] = state
        return {
            "type": kind,
            "team": self._team(),
            "user": self._user(user_id),
            "api_app_id": self.fake.app_id,
            "token": VERIFICATION_TOKEN,
            "trigger_id": self.fake.new_trigger_id(user_id=user_id, view_id=view["id"]),
            "view": wire,
            "response_urls": [],
            "enterprise": None,
            "is_enterprise_install": False,
        }

    def submit_view(
        self,
        user_id: str,
        view: JSON | str,
        inputs: dict[str, Any],
        *,
        signature: Signature = "valid",
        retry_num: int | None = None,
    ) -> Response:
        """A ``view_submission`` of ``view`` (a view dict from ``fake.views``/``fake.view(id)``,
        or its id) with ``inputs`` mapping block_id -> value: a string (or number/date) for text,
        number and date inputs, an option value for selects and radio buttons, a user id for user
        selects, a list of option values for checkboxes; for an actions block, a dict of
        action_id -> such a value."""
        resolved = self.fake.view(view) if isinstance(view, str) else view
        payload = self._view_payload(
            "view_submission", user_id, resolved, view_state(resolved, inputs)
        )
        return self._post_payload(payload, signature=signature, retry_num=retry_num)

    def close_view(
        self, user_id: str, view: JSON | str, *, signature: Signature = "valid"
    ) -> Response:
        """A ``view_closed`` (sent only when the view has ``notify_on_close``)."""
        resolved = self.fake.view(view) if isinstance(view, str) else view
        payload = self._view_payload("view_closed", user_id, resolved, view_state(resolved, {}))
        payload["is_cleared"] = False
        return self._post_payload(payload, signature=signature)

    # ----------------------------------------------------------------- events

    def event(
        self,
        event: JSON,
        *,
        event_id: str | None = None,
        signature: Signature = "valid",
        retry_num: int | None = None,
    ) -> Response:
        """An ``event_callback`` envelope around ``event`` (JSON body)."""
        now = time.time()
        event = {"event_ts": f"{now:.6f}", **event}
        self._seq += 1
        envelope = {
            "token": VERIFICATION_TOKEN,
            "team_id": self.team_id,
            "api_app_id": self.fake.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{self._seq:08d}",
            "event_time": int(now),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.team_id,
                    "user_id": self.fake.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": f"4-fake-{self._seq}",
        }
        return self.post(
            json.dumps(envelope), "application/json", signature=signature, retry_num=retry_num
        )

    def app_home_opened(self, user_id: str, *, tab: str = "home", **options: Any) -> Response:
        event: JSON = {
            "type": "app_home_opened",
            "user": user_id,
            "channel": self.fake.dm_channel(user_id),
            "tab": tab,
        }
        home = self.fake.home_view(user_id)
        if home is not None:
            event["view"] = home
        return self.event(event, **options)

    def url_verification(self, challenge: str = "fake-challenge") -> Response:
        body = {"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"}
        return self.post(json.dumps(body), "application/json")
