"""Every text a person reads comes from a Jinja2 template in message_templates/<lang>/.

Languages: a language is a folder of templates plus its catalogue of words (`words.yml`, read
as `words.…` in templates); a template or word a language lacks falls back to English. Dates
and numbers are formatted for the language with Babel (`day`, `number`, `percent` filters).
Adding a language is adding a folder, no code.

Templates write JSON (Block Kit). Escaping cannot be forgotten: `finalize` turns every `{{ }}`
value into Slack-escaped (`&`, `<`, `>`), JSON-escaped text, so a summary containing
`<!channel>` arrives as `&lt;!channel&gt;` and pings no one. Two explicit opt-outs:
`Trusted` (tokens built by code: mentions, dates, emoji, web links) and the `plain` filter
for plain_text fields, which Slack shows literally (escaping there would show `&amp;`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Decimal
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml
from babel import Locale
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent
from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
    TemplateNotFound,
    pass_context,
)
from jinja2.runtime import Context

import message_templates
from bot.languages import DEFAULT_LANGUAGE, language_of
from bot.slack.user_ids import is_user_id
from storage.records import Rag

BUILTIN_TEMPLATES = Path(str(resources.files(message_templates)))
MAX_BLOCKS_PER_MESSAGE = 50


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
    if not is_user_id(user_id):
        return Trusted(slack_escape(user_id or "?"))
    return Trusted(f"<@{user_id}>")


_WEB_LINK = re.compile(r"https?://\S", re.IGNORECASE)
_LINK_BREAKERS = re.compile(r"[\s|]")  # they would end Slack's <url|text> early


def slack_link(url: Any, limit: int = 60) -> Trusted:
    """A web link as Slack's `<url|text>`, whole, never cut: the URL's `&`, `<` and `>`
    escaped as Slack asks and its `|` and whitespace percent-encoded; its text is the URL
    without its scheme, shortened to `limit` characters. Anything but an http(s) URL is shown
    escaped, as text. The caller bounds the URL's length (a rule's limit), not this."""
    text = "" if url is None else str(url).strip()
    if not _WEB_LINK.match(text):
        return Trusted(slack_escape(text))
    target = _LINK_BREAKERS.sub(lambda m: quote(m.group(), safe=""), text)
    shown = clip(target.split("://", 1)[1], limit)
    return Trusted(f"<{slack_escape(target)}|{slack_escape(shown)}>")


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


def day(value: date | datetime | None, tz: tzinfo | None = None, language: str = "en") -> str:
    """A date as people write it ("Thu 19 Nov 2026", "jeu. 19 nov. 2026"); an instant is first
    placed in `tz`."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = (value.astimezone(tz) if tz is not None else value).date()
    return _formatted_day(value, language)


@lru_cache(maxsize=8192)
def _formatted_day(value: date, language: str) -> str:
    """Babel's formatting, once per day and language: a digest writes the same few days
    thousands of times."""
    return str(format_date(value, "EEE d MMM y", locale=language))


@pass_context
def _day(context: Context, value: date | datetime | None, tz: tzinfo | None = None) -> str:
    return day(value, tz, context.get("language", DEFAULT_LANGUAGE))


@pass_context
def _month(context: Context, value: date | None) -> str:
    """A month as the language writes it, short ("Apr 2027", "avr. 2027")."""
    if value is None:
        return ""
    return str(format_date(value, "MMM y", locale=context.get("language", DEFAULT_LANGUAGE)))


@pass_context
def _number(context: Context, value: float | int | None, digits: int = 0) -> str:
    if value is None:
        return ""
    fmt = "#,##0" + ("." + "0" * digits if digits else "")
    return str(format_decimal(value, fmt, locale=context.get("language", DEFAULT_LANGUAGE)))


@pass_context
def _decimal(context: Context, value: Decimal | float | int | None, digits: int = 1) -> str:
    """A number with up to `digits` decimals, only those it has ("7.5", "5"), the language's
    way: a percentage or tolerance is never rounded into another."""
    if value is None:
        return ""
    fmt = "#,##0." + "#" * digits
    language = context.get("language", DEFAULT_LANGUAGE)
    return str(format_decimal(value, fmt, locale=language, decimal_quantization=False))


@pass_context
def _money(context: Context, value: Decimal | float | int | None, currency: str | None) -> str:
    """An amount in the portfolio's currency the way the language writes it, in whole units
    ("€1,250,000", "1 250 000 €"); a plain number when the portfolio names no currency."""
    if value is None:
        return ""
    language = context.get("language", DEFAULT_LANGUAGE)
    if not currency:
        return str(format_decimal(value, "#,##0", locale=language))
    pattern = currency_pattern(language)
    return str(format_currency(value, currency, pattern, locale=language, currency_digits=False))


def currency_pattern(language: str) -> str:
    """How the language writes an amount of money in whole units, as a CLDR pattern where ¤
    stands for the currency's symbol: "¤#,##0" in English, "#,##0\u00a0¤" in French (the
    digest's amounts, and the steering pack's number format)."""
    pattern = Locale.parse(language_of(language)).currency_formats["standard"].pattern
    return re.sub(r"\.0+", "", pattern.split(";")[0])  # "¤#,##0.00" -> "¤#,##0"


@pass_context
def _percent(context: Context, value: float | int | None) -> str:
    """A share (0.42) as a percentage the way the language writes it ("42%", "42 %")."""
    if value is None:
        return ""
    return str(format_percent(value, locale=context.get("language", DEFAULT_LANGUAGE)))


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        out[key] = (
            _merge(out[key], value)
            if isinstance(value, dict) and isinstance(out.get(key), dict)
            else value
        )
    return out


class Words(dict[str, Any]):
    """A language's catalogue: nested mappings read as attributes (`words.rag.red`)."""

    def __getattr__(self, name: str) -> Any:
        try:
            value = self[name]
        except KeyError:
            raise AttributeError(f"no word {name!r} in the catalogue") from None
        return Words(value) if isinstance(value, dict) else value


def available_languages(templates_dir: Path | None = None) -> tuple[str, ...]:
    """The languages with a folder of templates, built in or custom."""
    found = {p.name for p in BUILTIN_TEMPLATES.iterdir() if p.is_dir() and len(p.name) == 2}
    if templates_dir is not None and templates_dir.is_dir():
        found |= {p.name for p in templates_dir.iterdir() if p.is_dir() and len(p.name) == 2}
    return tuple(sorted(found))


class Renderer:
    """Renders `<lang>/<name>.json.j2` into a dict; custom templates override built-in ones."""

    def __init__(self, templates_dir: Path | None = None) -> None:
        self.templates_dir = templates_dir
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
            slack_link=slack_link,
            day=_day,
            month=_month,
            number=_number,
            percent=_percent,
            money=_money,
            decimal=_decimal,
            rag_emoji=rag_emoji,
            slack_date=slack_date,
            trusted=Trusted,
            # Output of our own macros, whose {{ }} values were already escaped inside them.
            raw=Raw,
        )
        self.env.globals.update(mention=mention, rag_emoji=rag_emoji, slack_date=slack_date)
        # `value is user_id`: a Slack user id, not a name or an erased person's pseudonym
        # (a user picker's initial value must be a user, or Slack refuses the view).
        self.env.tests["user_id"] = is_user_id

    def words(self, language: str) -> Words:
        """The catalogue of a language, over English's (a missing word falls back)."""
        return self._words(language_of(language))

    @cache  # noqa: B019 - one Renderer per process; the catalogues never change while it runs
    def _words(self, language: str) -> Words:
        merged: dict[str, Any] = {}
        for code in dict.fromkeys((DEFAULT_LANGUAGE, language)):
            for root in (BUILTIN_TEMPLATES, self.templates_dir):
                path = root / code / "words.yml" if root is not None else None
                if path is not None and path.is_file():
                    loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
                    merged = _merge(merged, loaded)
        return Words(merged)

    def render(self, name: str, language: str = DEFAULT_LANGUAGE, **context: Any) -> Any:
        """Render a template to its JSON value, in `language` (a Slack locale such as "fr-FR"
        works too), falling back to English when the language lacks the template."""
        language = language_of(language)
        try:
            template = self.env.get_template(f"{language}/{name}.json.j2")
        except TemplateNotFound:  # the whole message in English, dates and numbers too
            template = self.env.get_template(f"{DEFAULT_LANGUAGE}/{name}.json.j2")
            language = DEFAULT_LANGUAGE
        context.setdefault("language", language)
        context.setdefault("words", self.words(language))
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
        """Compile every template and read every catalogue now, so a broken custom one is
        reported at start-up with its file and line, not when a message is sent."""
        for name in self.env.list_templates(extensions=["j2"]):
            try:
                self.env.get_template(name)
            except TemplateError as exc:
                line = getattr(exc, "lineno", None)
                raise RenderError(f"{name}{f' line {line}' if line else ''}: {exc}") from exc
        for language in available_languages(self.templates_dir):
            try:
                self.words(language)
            except yaml.YAMLError as exc:
                mark = getattr(exc, "problem_mark", None)
                where = f" line {mark.line + 1}" if mark else ""
                raise RenderError(f"{language}/words.yml{where}: not valid YAML") from exc


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
