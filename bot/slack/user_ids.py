"""A Slack user id, and someone a record names: the one rule for telling a user from text.

Slack user ids start with U (or W on Enterprise Grid) followed by capitals and digits. Every
surface asks this module: the portfolio file and PMO_ADMINS (validation), the modal's user
pickers (a crafted value is no one), mentions in messages (a crafted id cannot inject markup),
`/pmo admin add @someone`, and the people records name (a risk owner typed as text is a name,
not a user). Also the pseudonym a person erased by `pmo-bot forget-user` is known by: text,
never a user, which a closed project may keep in place of a user id.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeGuard

USER_ID = re.compile(r"^[UW][A-Z0-9]{2,30}$")
_MENTION = re.compile(r"^<@([UW][A-Z0-9]{2,30})(?:\|[^>]*)?>$")
PSEUDONYM = re.compile(r"^former member [0-9a-f]{6}$")


def is_user_id(value: str | None) -> TypeGuard[str]:
    """Whether `value` is a Slack user id (as opposed to a name typed as text, or a forgery)."""
    return value is not None and USER_ID.match(value) is not None


def user_id_or_none(value: str | None) -> str | None:
    """`value` when it is a Slack user id; anything else (a crafted value) is no one."""
    return value if is_user_id(value) else None


def mentioned_user(text: str) -> str | None:
    """The user a command names: a mention as Slack sends it (`<@U123|name>`, `<@U123>`) or
    a bare user id."""
    word = text.strip()
    found = _MENTION.match(word)
    if found:
        return found.group(1)
    return user_id_or_none(word)


@dataclass(frozen=True, slots=True)
class Person:
    """Someone a record or a report names: a Slack user (`user_id`, with a cached display name
    when known) or a name typed as text (`user_id` None)."""

    user_id: str | None
    name: str | None


def person(value: str | None, names: Mapping[str, str]) -> Person | None:
    """The person `value` names: a Slack user (named from `names` when known) or text."""
    if not value:
        return None
    if is_user_id(value):
        return Person(value, names.get(value))
    return Person(None, value)


def new_pseudonym() -> str:
    """A fresh pseudonym for a person being erased ("former member 3f9a1c"): random, so it
    says nothing of who they were."""
    return f"former member {secrets.token_hex(3)}"


def is_pseudonym(value: str | None) -> bool:
    """Whether `value` is the pseudonym of an erased person (see `new_pseudonym`)."""
    return value is not None and PSEUDONYM.match(value) is not None
