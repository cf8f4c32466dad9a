"""Clocks for the pacer's tests (bot/slack/pacing.py takes a `clock` and a `sleep`): time that
moves only when slept on, or time that stands still. Neither reads the wall clock."""

from __future__ import annotations


class Virtual:
    """Time that moves only when the pacer sleeps on it (one caller after another)."""

    def __init__(self) -> None:
        self.at = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.at

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.at += seconds


class Instant(Virtual):
    """Time that stands still: every call happens at the same instant, as calls from many
    threads (or replicas) at once do; what each was asked to sleep is recorded, so a sleep is
    when that call may go."""

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
