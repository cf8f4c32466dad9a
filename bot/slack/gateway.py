"""The seam between the product and Slack: what `bot/` may ask of Slack, as a Protocol.

The real implementation is `bot.slack.web_api.WebApiGateway`; use-case tests pass
`tests.fakes.fake_gateway.FakeGateway`, which records every call. Nothing here imports
slack_sdk.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

MAX_ALT_TEXT = 1000  # Slack refuses longer alt text for a file (alt_txt_too_large)


class SlackError(Exception):
    """Slack refused or could not be reached; `code` is Slack's error (e.g. channel_not_found)."""

    def __init__(self, code: str, method: str = "") -> None:
        super().__init__(f"{method}: {code}" if method else code)
        self.code = code
        self.method = method


@dataclass(frozen=True, slots=True)
class Posted:
    channel: str
    ts: str


@dataclass(frozen=True, slots=True)
class Tag:
    """What the bot attaches to a message it sends on its own (as Slack message metadata), so
    that after a crash it can find out whether the message went out: the delivery and which of
    its messages (a digest may take several)."""

    delivery_id: int
    part: int = 1


@dataclass(frozen=True, slots=True)
class UserProfile:
    user_id: str
    tz: str | None
    locale: str | None
    name: str | None
    deleted: bool = False
    is_bot: bool = False
    status_text: str = ""
    status_emoji: str = ""
    status_expiration: int = 0  # Unix time; 0 means the status does not expire


class SlackGateway(Protocol):
    def post_message(
        self,
        *,
        channel: str,
        text: str,
        blocks: list[dict[str, Any]],
        thread_ts: str | None = None,
        tag: Tag | None = None,
    ) -> Posted: ...

    def find_tagged(
        self, *, channel: str, delivery_id: int, thread_ts: str | None = None
    ) -> dict[int, Posted]:
        """The messages of a delivery already in a channel (or in a thread), by part."""
        ...

    def join_channel(self, channel: str) -> None:
        """Join a public channel (conversations.join, scope channels:join), so that its history
        can be read; raises SlackError if Slack refuses (a private channel, a missing scope)."""
        ...

    def update_message(
        self, *, channel: str, ts: str, text: str, blocks: list[dict[str, Any]]
    ) -> None: ...

    def open_view(self, *, trigger_id: str, view: dict[str, Any]) -> None: ...

    def publish_home(self, *, user_id: str, view: dict[str, Any]) -> None: ...

    def open_dm(self, user_id: str) -> str: ...

    def auth_test(self) -> str:
        """Does Slack accept the bot token? auth.test: the bot's user id, or SlackError with
        Slack's refusal (invalid_auth, token_revoked...)."""
        ...

    def lookup_user(self, user_id: str) -> UserProfile: ...

    def list_users(self, on_page: Callable[[], None] | None = None) -> list[UserProfile]:
        """Every user of the workspace (users.list, paginated): warms the profile cache.
        `on_page` is called after each page (to renew a lease while a long list goes on)."""
        ...

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
        """Share a file in a channel (in the thread of `thread_ts`, if given), e.g. the digest's
        chart: files.getUploadURLExternal, the upload, files.completeUploadExternal. `alt_text`
        is what screen readers say for an image. Raises SlackError whichever step fails."""
        ...
