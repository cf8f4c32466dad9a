"""Bolt listeners for projects (filled in by its feature)."""

from __future__ import annotations

from slack_bolt import App

from bot.services import Services


def register(app: App, services: Services) -> None:
    """Nothing yet."""
