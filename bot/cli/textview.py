"""Block Kit as terminal text: what a message would say in Slack, readable without Slack.

Used by `pmo-bot demo` to show the digest offline. mrkdwn is turned back into what a reader sees:
mentions become names, date tokens their fallback, links their label, `&lt; &gt; &amp;` the
characters they stand for, the emoji codes our templates use their emoji, and a code block loses
its fences. `*bold*` markers stay, as they read well enough in a terminal.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from bot.render import Message

Block = Mapping[str, Any]

EMOJI = {
    "red_circle": "🔴",
    "large_orange_circle": "🟠",
    "large_green_circle": "🟢",
    "white_circle": "⚪",
    "double_vertical_bar": "⏸",
    "arrow_down_small": "🔽",
    "arrow_up_small": "🔼",
    "repeat": "🔁",  # a "No change" copy of the last report
    "next_track_button": "⏭",  # a skipped period
    "checkered_flag": "🏁",  # a project closed this period
    "raising_hand": "🙋",  # asks leadership for help
    "new": "🆕",  # blockers raised since the previous report
    "calendar": "📆",  # a date: forecast end, a milestone due
    "warning": "⚠️",  # late, or stale
    "hourglass": "⌛",  # a project's target end date
    "hourglass_flowing_sand": "⏳",  # a gate or change waiting on its approvers
    "vertical_traffic_light": "🚦",  # the phases line
    "triangular_flag_on_post": "🚩",  # a consistency flag
    "tada": "🎉",  # a milestone reached
    "white_check_mark": "✅",
    "thread": "🧵",
    "money_with_wings": "💸",  # over a tolerance on cost or time
    "link": "🔗",  # a dependency at risk
    "busts_in_silhouette": "👥",  # people over 100 %
    "moneybag": "💰",  # earned value: CPI, SPI, EAC, VAC
    "ballot_box_with_check": "☑️",  # an ask decided
    "no_entry": "⛔",  # a decision: rejected
    "question": "❓",  # a decision: more information needed
}
ENTITIES = {"lt": "<", "gt": ">", "amp": "&"}
# One pass over the text, so what one rule produces is never read again by another: an escaped
# `&lt;@U1&gt;` typed by a user becomes the text "<@U1>", never a mention.
_MRKDWN = re.compile(
    r"<(?P<token>[^<>]*)>"
    r"|&(?P<entity>lt|gt|amp);"
    r"|:(?P<emoji>" + "|".join(map(re.escape, EMOJI)) + r"):"
)
_CODE_FENCE = re.compile(r"\n?```\n?")  # a code block shows without its fences
_SPECIAL = {"here": "@here", "channel": "@channel", "everyone": "@everyone"}
RULE = "─"
THREAD_LINE = "— continued in the thread —"
DEFAULT_WIDTH = 100


def unescape(text: str) -> str:
    """Undo Slack's three escapes (`&amp;` last, so `&amp;lt;` stays `&lt;`)."""
    return re.sub(r"&(lt|gt|amp);", lambda m: ENTITIES[m.group(1)], text)


def _token(token: str, names: Mapping[str, str]) -> str:
    body, _, label = token.partition("|")
    if body.startswith("@"):
        return "@" + names.get(body[1:], unescape(label) or body[1:])
    if body.startswith("#"):
        return "#" + unescape(label or body[1:])
    if body.startswith("!date^"):
        return unescape(label)
    if body.startswith("!subteam^"):
        return unescape(label) or "@group"
    if body.startswith("!"):
        return _SPECIAL.get(body[1:], unescape(label or body))
    return unescape(label or body)


def mrkdwn_to_text(text: str, *, names: Mapping[str, str]) -> str:
    """What a reader sees of a mrkdwn text, without the styling."""

    def replace(match: re.Match[str]) -> str:
        if match.group("token") is not None:
            return _token(match.group("token"), names)
        if match.group("entity") is not None:
            return ENTITIES[match.group("entity")]
        return EMOJI[match.group("emoji")]

    return _CODE_FENCE.sub("\n", _MRKDWN.sub(replace, text))


def _text(obj: Any, names: Mapping[str, str]) -> str:
    """A text object (plain_text or mrkdwn); anything else is empty."""
    if not isinstance(obj, Mapping):
        return ""
    text = str(obj.get("text", ""))
    return mrkdwn_to_text(text, names=names) if obj.get("type") == "mrkdwn" else text


def _buttons(elements: Any, names: Mapping[str, str]) -> str:
    labels = [
        f"[ {_text(e.get('text'), names)} ]"
        for e in elements or ()
        if isinstance(e, Mapping) and e.get("type") == "button"
    ]
    return " ".join(labels)


def _wrap(text: str, width: int) -> str:
    """Wrap each line to `width`; a bullet's continuation lines align under its text."""
    out: list[str] = []
    for line in text.splitlines() or [""]:
        indent = " " * (len(line) - len(line.lstrip()))
        hang = indent + ("  " if line.lstrip().startswith(("• ", "- ")) else "")
        out.append(
            textwrap.fill(
                line,
                width,
                subsequent_indent=hang,
                break_long_words=False,
                break_on_hyphens=False,
            )
            or line
        )
    return "\n".join(out)


def _header(block: Block, names: Mapping[str, str], width: int) -> str:
    title = _text(block.get("text"), names)
    return f"{title}\n{'=' * min(len(title), width)}"


def _section(block: Block, names: Mapping[str, str], width: int) -> str:
    parts = [_text(block.get("text"), names)]
    parts += [_text(field, names) for field in block.get("fields") or ()]
    accessory = block.get("accessory")
    if isinstance(accessory, Mapping):
        parts.append(_buttons([accessory], names))
    return _wrap("\n".join(p for p in parts if p), width)


def _context(block: Block, names: Mapping[str, str], width: int, dim: bool) -> str:
    texts = [_text(e, names) for e in block.get("elements") or ()]
    line = _wrap("  " + "  ".join(t for t in texts if t), width)
    return f"\x1b[2m{line}\x1b[0m" if dim else line


def _block(block: Block, names: Mapping[str, str], width: int, dim: bool) -> str | None:
    kind = block.get("type")
    renderers: dict[str, Callable[[], str]] = {
        "header": lambda: _header(block, names, width),
        "section": lambda: _section(block, names, width),
        "context": lambda: _context(block, names, width, dim),
        "divider": lambda: RULE * width,
        "actions": lambda: _buttons(block.get("elements"), names),
        "image": lambda: f"[image: {block.get('alt_text', '')}]",
    }
    render = renderers.get(str(kind))
    return render() if render else None


def blocks_to_text(
    blocks: Sequence[Block],
    *,
    names: Mapping[str, str],
    width: int = DEFAULT_WIDTH,
    dim: bool = False,
) -> str:
    """Block Kit blocks as terminal text, a paragraph per block (a context line stays with the
    block above it). `names` maps user ids to display names for mentions; `dim` greys context
    lines with ANSI codes, for a terminal."""
    lines: list[str] = []
    previous: object = None
    for block in blocks:
        text = _block(block, names, width, dim)
        if text is None:
            continue
        kind = block.get("type")
        if lines and previous not in ("header", "divider") and kind != "context":
            lines.append("")
        lines.append(text)
        previous = kind
    return "\n".join(lines)


def messages_to_text(
    messages: Sequence[Message],
    *,
    names: Mapping[str, str],
    width: int = DEFAULT_WIDTH,
    dim: bool = False,
) -> str:
    """A message and its thread replies (messages after the first), as terminal text."""
    parts: list[str] = []
    for index, message in enumerate(messages):
        if index:
            parts.append(f"\n{THREAD_LINE}\n")
        parts.append(blocks_to_text(message.blocks, names=names, width=width, dim=dim))
    return "\n".join(parts)
