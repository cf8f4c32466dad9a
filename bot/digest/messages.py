"""A digest as Slack messages: the channel message, then its thread replies, within limits."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from bot.digest.model import Digest, ProjectLine
from bot.render import (
    MAX_BLOCKS_PER_MESSAGE,
    Message,
    Renderer,
    as_message,
)

# Slack rejects a message whose blocks add up to about 13,000 characters with
# `msg_blocks_too_long` (undocumented; slackapi/bolt-js#2509 and #2867 found it between 11,000
# and 13,300 characters of text). Every digest message keeps its blocks, serialized as JSON,
# within this budget: the packing of the thread counts it, and a channel message or a project
# over it is rendered again in its compact form.
MAX_MESSAGE_JSON = 11_000
_INTRO_ROOM = 700  # characters kept in each thread reply for its opening line
_DIVIDER: dict[str, Any] = {"type": "divider"}


def message_size(blocks: Sequence[Mapping[str, Any]]) -> int:
    """The characters of a message's blocks as sent (JSON), which MAX_MESSAGE_JSON bounds."""
    return len(json.dumps(list(blocks), ensure_ascii=False))


def _fitting(render: Callable[[bool], Any]) -> Message:
    """Render a message; when its blocks are over MAX_MESSAGE_JSON, render its compact form."""
    message = as_message(render(False))
    if message_size(message.blocks) > MAX_MESSAGE_JSON:
        message = as_message(render(True))
    return message


def pack(
    sizes: Sequence[tuple[int, int]], *, max_blocks: int, max_chars: int, dividers: bool = True
) -> list[list[int]]:
    """Group parts, given as (blocks, characters) in order, into as few consecutive groups as
    possible within both limits, a divider between two parts (unless `dividers` is false); a
    part is never split, and one that does not fit even alone gets a group of its own. Returns
    the parts' indexes."""
    divider = message_size([_DIVIDER]) if dividers else 0
    groups: list[list[int]] = []
    blocks = chars = 0
    for index, (part_blocks, part_chars) in enumerate(sizes):
        extra_blocks = part_blocks + (1 if dividers and groups and groups[-1] else 0)
        extra_chars = part_chars + (divider if groups and groups[-1] else 0)
        if not groups or (
            groups[-1] and (blocks + extra_blocks > max_blocks or chars + extra_chars > max_chars)
        ):
            groups.append([])
            blocks = chars = 0
            extra_blocks, extra_chars = part_blocks, part_chars
        groups[-1].append(index)
        blocks += extra_blocks
        chars += extra_chars
    return groups


def digest_messages(renderer: Renderer, digest: Digest) -> list[Message]:
    """The digest as Slack messages: the first is posted in the channel, the others as replies
    in its thread, holding the full report of each project (the first THREAD_SHOWN of them,
    those needing attention first; the last reply says how many more there are), as many to a
    reply as fit in 50 blocks and MAX_MESSAGE_JSON characters, a project never split across
    two replies."""
    language = digest.subscription.language

    def main(compact: bool) -> Any:
        return renderer.render("digest", language, digest=digest, compact=compact)

    first = _fitting(main)
    # Built-in templates stay within the limits even in the worst case (tests/unit/test_render
    # checks it); a custom one, or a compact form still too long, goes on in the thread.
    groups = pack(
        [(1, message_size([block])) for block in first.blocks],
        max_blocks=MAX_BLOCKS_PER_MESSAGE,
        max_chars=MAX_MESSAGE_JSON,
        dividers=False,
    ) or [[]]
    messages = [Message(first.text, [first.blocks[i] for i in group]) for group in groups]
    return messages + _thread(renderer, digest, language)


def _thread(renderer: Renderer, digest: Digest, language: str) -> list[Message]:
    shown = digest.thread_list
    parts: list[list[dict[str, Any]]] = []
    for line in shown.shown:

        def project(compact: bool, line: ProjectLine = line) -> Any:
            return renderer.render(
                "digest_project", language, digest=digest, line=line, compact=compact
            )

        parts.append(_fitting(project).blocks)
    groups = pack(
        [(len(part), message_size(part)) for part in parts],
        max_blocks=MAX_BLOCKS_PER_MESSAGE - 1,
        max_chars=MAX_MESSAGE_JSON - _INTRO_ROOM,
    )
    replies: list[Message] = []
    for number, group in enumerate(groups, start=1):
        intro = as_message(
            renderer.render(
                "digest_continued",
                language,
                digest=digest,
                part=number,
                parts=len(groups),
                lines=[shown.shown[i] for i in group],
            )
        )
        blocks = list(intro.blocks)
        for position, index in enumerate(group):
            blocks += ([_DIVIDER] if position else []) + parts[index]
        replies.append(Message(text=intro.text, blocks=blocks))
    if shown.more:
        replies.append(
            as_message(renderer.render("digest_more", language, digest=digest, more=shown.more))
        )
    return replies
