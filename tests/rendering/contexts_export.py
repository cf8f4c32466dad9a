"""Contexts for the `/pmo export` answer (message_templates/*/export.json.j2), merged into
tests/rendering/test_render.py's checks: rendered with hostile text in every language and checked
for escaping and Slack's limits, in each of its outcomes (the notice told before a large file
is built given only what the answer gives it)."""

from __future__ import annotations

from typing import Any


def contexts(text: str) -> dict[str, list[dict[str, Any]]]:
    portfolios = tuple(f"{text[:99]}{i}" for i in range(20))  # portfolios: 100 characters
    tags = tuple(f"{text[:49]}{i}" for i in range(30))  # tags: 50 characters
    base = {
        "wanted": text,
        "count": 1234,
        "withheld": 12,
        "portfolios": portfolios,
        "tags": tags,
        "filename": f"pmo-status-2026-11-16-{text[:40]}.csv",
        "code": text,
        "workbook": False,
    }
    return {
        "export": [
            {**base, "outcome": "uploaded"},
            {**base, "outcome": "uploaded", "wanted": "", "count": 1, "withheld": 0},
            {**base, "outcome": "uploaded", "withheld": 1},
            {**base, "outcome": "failed"},
            {**base, "outcome": "failed", "wanted": ""},
            {**base, "outcome": "nothing", "count": 0},
            {**base, "outcome": "nothing", "count": 0, "wanted": "", "withheld": 1},
            {**base, "outcome": "nothing", "count": 0, "portfolios": (), "tags": (), "withheld": 0},
            # /pmo export xlsx: the steering pack
            {**base, "outcome": "uploaded", "workbook": True},
            {**base, "outcome": "uploaded", "workbook": True, "wanted": "", "count": 1},
            {**base, "outcome": "failed", "workbook": True},
            {**base, "outcome": "nothing", "count": 0, "workbook": True},
            {**base, "outcome": "nothing", "count": 0, "workbook": True, "wanted": ""},
            # told at once, before a large file: how many, or no number for a colour or missing
            {"outcome": "preparing", "wanted": text, "count": 5000, "workbook": False},
            {"outcome": "preparing", "wanted": "", "count": 201, "workbook": False},
            {"outcome": "preparing", "wanted": text, "count": None, "workbook": False},
            {"outcome": "preparing", "wanted": text, "count": 5000, "workbook": True},
            {"outcome": "preparing", "wanted": "", "count": None, "workbook": True},
        ]
    }
