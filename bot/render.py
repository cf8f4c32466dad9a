"""Every text a person reads comes from a Jinja2 template in message_templates/<lang>/.

Templates write JSON (Block Kit). Escaping cannot be forgotten: `finalize` turns every `{{ }}`
value into Slack-escaped (`&`, `<`, `>`), JSON-escaped text, so a summary containing
`<!channel>` arrives as `&lt;!channel&gt;` and pings no one. Two explicit opt-outs:
`Trusted` (tokens built by code: mentions, dates, emoji) and the `plain` filter for plain_text
fields, which Slack shows literally (escaping there would show `&amp;`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
    TemplateNotFound,
)

import message_templates
from storage.records import Rag

BUILTIN_TEMPLATES = Path(str(resources.files(message_templates)))
DEFAULT_LANGUAGE = "en"
MAX_BLOCKS_PER_MESSAGE = 50
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,30}$")


class Trusted(str):
    """Text made by our code that must reach Slack unescaped (mentions, date tokens)."""

    __slots__ = ()


class Plain(str):
    """User text for a plain_text field: JSON-escaped only, since Slack shows it literally."""

    __slots__ = ()


class Raw(str):
    """Output of our own macros, already escaped (the `raw` filter): inserted as is."""

    __slots__ = ()


class RenderError(Exception):
    """A template failed to render or produced invalid JSON; names the template."""


def slack_escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _json_inner(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)[1:-1]


def _finalize(value: Any) -> str:
    if isinstance(value, Raw):
        return str(value)
    if value is None:
        return ""
    if isinstance(value, Trusted | Plain):
        return _json_inner(str(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    return _json_inner(slack_escape(str(value)))


def clip(value: Any, limit: int) -> str:
    """Shorten text so that, once escaped for Slack, it fits in `limit` characters."""
    text = "" if value is None else str(value)
    if len(slack_escape(text)) <= limit:
        return text
    out: list[str] = []
    used = 1  # room for the ellipsis
    for char in text:
        cost = len(slack_escape(char))
        if used + cost > limit:
            break
        out.append(char)
        used += cost
    return "".join(out).rstrip() + "…"


def bullets(items: Iterable[str] | None, limit: int, *, empty: str = "") -> str:
    """Items as "• item" lines, clipped as a whole to `limit` escaped characters."""
    text = "\n".join(f"• {item}" for item in items or ())
    return clip(text or empty, limit)


def clip_plain(value: Any, limit: int) -> Plain:
    text = "" if value is None else str(value)
    return Plain(text if len(text) <= limit else text[: limit - 1].rstrip() + "…")


def mention(user_id: str) -> Trusted:
    """A user mention; the id is checked so a crafted id cannot inject markup."""
    if not _USER_ID.match(user_id or ""):
        return Trusted(slack_escape(user_id or "?"))
    return Trusted(f"<@{user_id}>")


def rag_emoji(rag: Rag | str | None) -> Trusted:
    return Trusted(
        {
            "red": ":red_circle:",
            "amber": ":large_orange_circle:",
            "green": ":large_green_circle:",
        }.get(str(rag), ":white_circle:")
    )


def slack_date(moment: datetime, token_format: str = "{date_short_pretty} {time}") -> Trusted:
    """A Slack date token: each reader sees the time in their own timezone."""
    fallback = moment.strftime("%Y-%m-%d %H:%M UTC")
    return Trusted(f"<!date^{int(moment.timestamp())}^{token_format}|{fallback}>")


def day(value: date | datetime | None, tz: tzinfo | None = None) -> str:
    """A date as people write it ("Thu 19 Nov 2026"); an instant is first placed in `tz`."""
    if value is None:
        return ""
    if isinstance(value, datetime) and tz is not None:
        value = value.astimezone(tz)
    return f"{value:%a} {value.day} {value:%b %Y}"


class Renderer:
    """Renders `<lang>/<name>.json.j2` into a dict; custom templates override built-in ones."""

    def __init__(self, templates_dir: Path | None = None) -> None:
        loaders = [FileSystemLoader(str(templates_dir))] if templates_dir else []
        loaders.append(FileSystemLoader(str(BUILTIN_TEMPLATES)))
        self.env = Environment(
            loader=ChoiceLoader(loaders),
            undefined=StrictUndefined,
            autoescape=False,
            finalize=_finalize,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters.update(
            clip=clip,
            bullets=bullets,
            plain=Plain,
            clip_plain=clip_plain,
            mention=mention,
            day=day,
            rag_emoji=rag_emoji,
            slack_date=slack_date,
            trusted=Trusted,
            # Output of our own macros, whose {{ }} values were already escaped inside them.
            raw=Raw,
        )
        self.env.globals.update(mention=mention, rag_emoji=rag_emoji, slack_date=slack_date)

    def render(self, name: str, language: str = DEFAULT_LANGUAGE, **context: Any) -> Any:
        """Render a template to its JSON value (falls back to English if the language lacks it)."""
        try:
            template = self.env.get_template(f"{language}/{name}.json.j2")
        except TemplateNotFound:
            template = self.env.get_template(f"{DEFAULT_LANGUAGE}/{name}.json.j2")
        try:
            text = template.render(**context)
        except TemplateError as exc:
            raise RenderError(f"{template.filename}: {exc}") from exc
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise RenderError(
                f"{template.filename} did not produce valid JSON (line {exc.lineno}: {exc.msg})"
            ) from exc

    def check_all(self) -> None:
        """Compile every template now, so a broken custom one is reported at start-up."""
        for name in self.env.list_templates(extensions=["j2"]):
            try:
                self.env.get_template(name)
            except TemplateError as exc:
                line = getattr(exc, "lineno", None)
                raise RenderError(f"{name}{f' line {line}' if line else ''}: {exc}") from exc


def split_blocks(
    blocks: list[dict[str, Any]], limit: int = MAX_BLOCKS_PER_MESSAGE
) -> list[list[dict[str, Any]]]:
    """Cut a block list into messages of at most `limit` blocks, never ending a message on a
    header or divider (they belong with what follows)."""
    chunks: list[list[dict[str, Any]]] = []
    current: list[dict[str, Any]] = []
    for block in blocks:
        if len(current) == limit:
            carry: list[dict[str, Any]] = []
            while current and current[-1].get("type") in ("header", "divider") and len(current) > 1:
                carry.insert(0, current.pop())
            chunks.append(current)
            current = carry
        current.append(block)
    if current:
        chunks.append(current)
    return chunks


@dataclass(frozen=True, slots=True)
class Message:
    """A message ready for chat.postMessage: a plain fallback text and its blocks."""

    text: str
    blocks: list[dict[str, Any]]


def as_message(rendered: Any) -> Message:
    return Message(text=str(rendered["text"]), blocks=list(rendered.get("blocks", [])))
