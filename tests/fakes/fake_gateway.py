"""FakeGateway: the SlackGateway Protocol in memory, for use-case tests (zulip's StubBotHandler).

It records every call in order, keeps what was posted per channel (with threads), knows the
users it was given, and can be told to refuse a method with a Slack error. Channels in
`outside` are public channels the bot is not a member of: it may post there (chat:write.public)
but reading them answers not_in_channel until it joins them (join_channel). No HTTP, no
threads: what a use case asked of Slack is in `calls` when it returns. The end-to-end tests use
FakeSlack over real HTTP instead (tests/fakes/fake_slack.py), for what only Bolt can show.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.slack.gateway import Posted, SlackError, Tag, UserProfile
from bot.slack.user_ids import is_user_id


@dataclass(frozen=True, slots=True)
class Call:
    method: str  # the Slack method the real gateway would call
    params: dict[str, Any]


@dataclass
class FakeGateway:
    users: dict[str, UserProfile] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    posted: list[dict[str, Any]] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)  # method -> Slack error code
    outside: set[str] = field(default_factory=set)  # public channels the bot has not joined
    _ts: int = 0

    def add_user(self, user_id: str, *, tz: str | None = None, locale: str | None = None) -> None:
        self.users[user_id] = UserProfile(user_id, tz, locale, f"Name of {user_id}")

    def _call(self, method: str, **params: Any) -> None:
        self.calls.append(Call(method, params))
        if method in self.refuse:
            raise SlackError(self.refuse[method], method)

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def messages(self, channel: str, *, thread_ts: str | None = None) -> list[dict[str, Any]]:
        """What was posted in a channel (top level), or in one thread."""
        return [
            m for m in self.posted if m["channel"] == channel and m.get("thread_ts") == thread_ts
        ]

    # --- the Protocol ---------------------------------------------------------------------

    def post_message(
        self,
        *,
        channel: str,
        text: str,
        blocks: list[dict[str, Any]],
        thread_ts: str | None = None,
        tag: Tag | None = None,
    ) -> Posted:
        self._call("chat.postMessage", channel=channel, text=text, thread_ts=thread_ts, tag=tag)
        if is_user_id(channel):  # as Slack does: a post to a user goes to the app's DM with them
            channel = f"D{channel}"
        self._ts += 1
        ts = f"1800000000.{self._ts:06d}"
        self.posted.append(
            {"channel": channel, "ts": ts, "text": text, "blocks": blocks, "thread_ts": thread_ts}
            | {"tag": tag}
        )
        return Posted(channel, ts)

    def find_tagged(
        self, *, channel: str, delivery_id: int, thread_ts: str | None = None
    ) -> dict[int, Posted]:
        self._call("conversations.history", channel=channel, thread_ts=thread_ts)
        if channel in self.outside:
            raise SlackError("not_in_channel", "conversations.history")
        return {
            m["tag"].part: Posted(channel, m["ts"])
            for m in self.posted
            if m["channel"] == channel and m["tag"] and m["tag"].delivery_id == delivery_id
        }

    def join_channel(self, channel: str) -> None:
        self._call("conversations.join", channel=channel)
        self.outside.discard(channel)

    def update_message(
        self, *, channel: str, ts: str, text: str, blocks: list[dict[str, Any]]
    ) -> None:
        self._call("chat.update", channel=channel, ts=ts, text=text)

    def open_view(self, *, trigger_id: str, view: dict[str, Any]) -> None:
        self._call("views.open", trigger_id=trigger_id, view=view)

    def publish_home(self, *, user_id: str, view: dict[str, Any]) -> None:
        self._call("views.publish", user_id=user_id, view=view)

    def auth_test(self) -> str:
        self._call("auth.test")
        return "U0PMOBOT"

    def open_dm(self, user_id: str) -> str:
        self._call("conversations.open", users=user_id)
        return f"D{user_id}"

    def lookup_user(self, user_id: str) -> UserProfile:
        self._call("users.info", user=user_id)
        if user_id not in self.users:
            raise SlackError("user_not_found", "users.info")
        return self.users[user_id]

    def list_users(self, on_page: Callable[[], None] | None = None) -> list[UserProfile]:
        self._call("users.list")
        if on_page is not None:
            on_page()
        return list(self.users.values())

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
        self._call("files.upload", channel=channel, thread_ts=thread_ts, filename=filename)
