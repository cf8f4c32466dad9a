"""Events: App Home (`app_home_opened`): the user's Home, rebuilt for their role each time they
open the tab (bot/home/view.py); a message written to the bot in its Messages tab
(`message.im`): a short reply with the writer's projects and what they owe; the app
uninstalled or its tokens revoked (`app_uninstalled`, `tokens_revoked`): the bot pauses until
its token works again (bot/slack/access.py)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltRequest

from bot.home.view import publish_home
from bot.services import Services
from bot.slack.gateway import SlackError
from bot.slack.pacing import person_waiting
from bot.slack.user_ids import is_user_id
from bot.slash.dispatch import answer_direct_message

log = logging.getLogger(__name__)


def register(app: App, services: Services) -> None:
    @person_waiting()  # the user is looking at their Home
    def app_home_opened(event: dict[str, Any]) -> None:
        if event.get("tab", "home") != "home":
            return
        publish_home(services, event["user"])

    @person_waiting()  # they wrote and wait for an answer
    def direct_message(event: dict[str, Any], request: BoltRequest) -> None:
        # Only what a person wrote in the bot's DM: not edits, deletions or joins (subtypes),
        # not bots (Bolt already drops the bot's own messages), and not Slack's retry of an
        # event this app has already acked (it would answer twice).
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
            return
        user = event.get("user")
        if not is_user_id(user) or _is_retry(request):
            return
        channel = str(event.get("channel") or "")
        reply = answer_direct_message(services, user_id=user, channel_id=channel)
        try:
            services.gateway.post_message(
                channel=channel,
                text=reply.text,
                blocks=reply.blocks,
                thread_ts=event.get("thread_ts"),  # a reply in a thread is answered there
            )
        except SlackError as exc:
            log.warning("could not answer a direct message from %s: %s", user, exc)

    def app_uninstalled() -> None:
        # Slack revokes the app's tokens with it. Asked rather than assumed: an event that
        # arrives late, or again, at a replica already given a new token must not pause it.
        _verify("app_uninstalled")

    def tokens_revoked(event: dict[str, Any]) -> None:
        # `tokens.bot` lists the bot users whose tokens were revoked (`oauth`: user tokens,
        # which the bot holds none of). Rather than trust that it is ours, ask Slack.
        if (event.get("tokens") or {}).get("bot"):
            _verify("tokens_revoked")

    def _verify(because: str) -> None:
        try:
            services.access.verify(because)
        except SlackError as exc:  # Slack unreachable: the next refused call will tell
            log.warning("could not check the bot token after %s: %s", because, exc)

    app.event("app_home_opened")(app_home_opened)
    app.event("message")(direct_message)
    app.event("app_uninstalled")(app_uninstalled)
    app.event("tokens_revoked")(tokens_revoked)


def _is_retry(request: BoltRequest) -> bool:
    """Slack delivering an event again (its first delivery was not acknowledged in time).
    Over HTTP the header is absent the first time; Bolt's Socket Mode adapter copies the
    envelope's `retry_attempt` into it, which is 0 the first time."""
    values = request.headers.get("x-slack-retry-num") or []
    try:
        return int(values[0]) > 0 if values else False
    except ValueError:
        return False
