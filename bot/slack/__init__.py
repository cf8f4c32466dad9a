"""Slack, seen from the product: the gateway Protocol, its slack_sdk implementation, pacing to
Slack's rate limits, and the people we write to (profiles, timezones, locales, user ids)."""
