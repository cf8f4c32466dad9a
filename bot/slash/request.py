"""What a `/pmo` verb is given and what it answers.

A verb gets a `Request` (who asked, where, in which language, the rest of the text) and answers
with a response for Slack's response_url (a dict: ephemeral unless the user ended the command
with `public`), or `OpenModal` when the answer is a modal (opened with the command's trigger_id).
A verb whose answer takes long may first `tell` the asker what it is doing (an ephemeral
response sent at once, before its answer).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.services import Services

# Sends a response to the asker at once (what it returns is not read).
Tell = Callable[[dict[str, Any]], object]


def unheard(message: dict[str, Any]) -> None:
    """Where a verb's progress message goes when no one listens for it (the tests, the
    benchmark): nowhere."""


@dataclass(frozen=True, slots=True)
class Request:
    services: Services
    user_id: str
    channel_id: str
    verb: str
    args: tuple[str, ...]  # the words after the verb (without a final `public`)
    text: str  # the text after the verb, as typed (for options with quotes)
    language: str  # the asker's language ("en", "fr", ...)
    admins: frozenset[str]  # the PMO admins now (PMO_ADMINS and those granted in Slack)
    trigger_id: str  # to open a modal (valid 3 seconds)
    public: bool  # the user asked for the answer in the channel
    # sends a response to the asker at once, ahead of the answer (Bolt's respond, ephemeral)
    tell: Tell = unheard

    def render(self, name: str, **context: Any) -> dict[str, Any]:
        """A template rendered in the asker's language."""
        return dict(self.services.renderer.render(name, self.language, **context))


@dataclass(frozen=True, slots=True)
class OpenModal:
    """Answer by opening this modal (views.open with the command's trigger_id)."""

    view: dict[str, Any]


class Private(dict[str, Any]):
    """An answer only the asker sees, whatever `public` says: the confirmation of a change
    they made (`/pmo actions done N`) is not the channel's news, and may name what the channel
    must not see."""


Result = dict[str, Any] | OpenModal
Verb = Callable[[Request], Result]
