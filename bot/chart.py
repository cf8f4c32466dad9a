"""The digest's picture: RAG distribution over the last periods, and the risk heatmap.

`ChartData` is what the digest computes (bot/digest.py); `render_chart` draws it as a PNG.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PeriodCounts:
    """How many covered projects were red, amber, green or missing at one past digest."""

    label: str  # the period as the language writes it, e.g. "19 Nov"
    red: int
    amber: int
    green: int
    missing: int


@dataclass(frozen=True, slots=True)
class ChartData:
    periods: tuple[PeriodCounts, ...]  # oldest first, at most eight
    heatmap: tuple[tuple[int, ...], ...]  # open risks: heatmap[impact - 1][probability - 1]
    title: str  # e.g. the subscription's name or channel, for the image title
