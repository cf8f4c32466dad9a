"""Bolt listeners: turn Slack payloads into calls to `bot/` and results into Slack answers."""
