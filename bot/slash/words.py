"""Reading what people type after `/pmo`: Slack's escaping undone, words split as quoted."""

from __future__ import annotations

# Double quotes group a value that has spaces; Slack clients may turn " into typographic ones.
_QUOTES = frozenset('"“”„‟«»')


def slack_unescape(text: str) -> str:
    """Slack sends a command's text with &, < and > escaped; options are read as typed."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def split_words(text: str) -> tuple[list[str], bool]:
    """The words of a command, split on spaces except inside double quotes (straight or
    typographic), which are dropped; and whether every quote was closed."""
    found: list[str] = []
    current: list[str] = []
    quoted = started = False
    for char in text:
        if char in _QUOTES:
            quoted, started = not quoted, True
        elif char.isspace() and not quoted:
            if started:
                found.append("".join(current))
            current, started = [], False
        else:
            current.append(char)
            started = True
    if started:
        found.append("".join(current))
    return found, not quoted
