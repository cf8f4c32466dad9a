"""The languages people are addressed in: English by default, a Slack locale's language part."""

from __future__ import annotations

DEFAULT_LANGUAGE = "en"


def language_of(locale: str | None) -> str:
    """The language part of a Slack locale ("fr-FR" → "fr"); English when unknown."""
    return (locale or DEFAULT_LANGUAGE).replace("_", "-").split("-")[0].lower() or "en"
