"""`/pmo <text>`: who asks, in which language, which word; the answer comes from the table
(bot/slash/table.py), in the asker's language, in the channel when the text ends with `public`.
"""

from __future__ import annotations

from bot.access.admins import current_admins
from bot.languages import language_of
from bot.render import Message, as_message
from bot.services import Services
from bot.slack.people import user_locale
from bot.slash.help import answer_unknown
from bot.slash.lookups import mine_reply
from bot.slash.request import Private, Request, Result, Tell, unheard
from bot.slash.table import VERBS


def answer(
    services: Services,
    *,
    user_id: str,
    text: str,
    channel_id: str = "",
    trigger_id: str = "",
    tell: Tell = unheard,
) -> Result:
    """The response to `/pmo <text>` from `user_id` in `channel_id`: a dict for Bolt's
    respond() in the asker's language (in the channel when the text ends with `public`), or a
    modal to open. A verb whose answer takes long may first `tell` the asker (an ephemeral
    response, whatever `public` says: it is no answer)."""
    words = text.split()
    public = len(words) > 1 and words[-1].lower() == "public"
    if public:
        words = words[:-1]
    name = words[0].lower() if words else "help"
    rest = text.strip()[len(words[0]) :].strip() if words else ""
    if public:
        rest = rest[: rest.lower().rfind("public")].strip()
    request = _request(
        services,
        user_id=user_id,
        channel_id=channel_id,
        verb=name,
        args=tuple(words[1:]),
        text=rest,
        trigger_id=trigger_id,
        public=public,
        tell=tell,
    )
    result = VERBS.get(name, answer_unknown)(request)
    if (
        public
        and isinstance(result, dict)
        and not isinstance(result, Private)
        and result.get("response_type") != "in_channel"
    ):
        result = {**result, "response_type": "in_channel"}
    return result


def answer_direct_message(services: Services, *, user_id: str, channel_id: str) -> Message:
    """What the bot replies to someone who writes to it in its Messages tab: it reads no
    messages, so a short note in their language with their projects and what they owe
    (`/pmo mine`'s answer) and where to go from there."""
    request = _request(
        services, user_id=user_id, channel_id=channel_id, verb="mine", args=(), text=""
    )
    return as_message(mine_reply(request, in_dm=True))


def _request(
    services: Services,
    *,
    user_id: str,
    channel_id: str,
    verb: str,
    args: tuple[str, ...],
    text: str,
    trigger_id: str = "",
    public: bool = False,
    tell: Tell = unheard,
) -> Request:
    """A request from `user_id`, in their language (their Slack locale), with today's admins."""
    locale = user_locale(services.sessions, services.gateway, user_id, now=services.clock())
    return Request(
        services=services,
        user_id=user_id,
        channel_id=channel_id,
        verb=verb,
        args=args,
        text=text,
        language=language_of(locale),
        admins=current_admins(services),
        trigger_id=trigger_id,
        public=public,
        tell=tell,
    )
