"""Every action the audit log records of a project has its words, in English and French, in
both places that show it: a closed project's record (words.projects.action,
bot/portfolio/archive.py) and `/pmo history` (words.lookup.action). A missing one would show
its raw key ("rebaseline") to a reader, in English even in French."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.render import Renderer

ROOT = Path(__file__).resolve().parents[3]
LITERAL = re.compile(r'\baction="([a-z_]+)"')
NOT_AUDIT = {"append", "store_true", "version"}  # argparse's, in bot/cli
NOT_A_PROJECTS = {"admin_added", "person_forgotten"}  # the audit log's, of no project
# actions the code composes rather than writes out (bot/portfolio/admin.action_of, the
# governance and stage rules' f-strings and conditionals)
COMPOSED = {
    "created",
    "updated",
    "closed",
    "reopened",
    "decision_opened",
    "decision_updated",
    "decision_withdrawn",
    "decision_lapsed",
    "decision_decided",
    "gate_requested",
    "change_requested",
    "gate_decided",
    "change_decided",
}


def recorded_actions() -> set[str]:
    found = set()
    for path in (ROOT / "bot").rglob("*.py"):
        found |= set(LITERAL.findall(path.read_text(encoding="utf-8")))
    return (found - NOT_AUDIT - NOT_A_PROJECTS) | COMPOSED


def test_the_scan_finds_the_literal_actions() -> None:
    assert {"rebaseline", "request_withdrawn", "baseline_recorded"} <= recorded_actions()


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("where", ["projects", "lookup"])
def test_every_project_action_has_words(language: str, where: str) -> None:
    words = Renderer().words(language)[where]["action"]
    assert sorted(recorded_actions() - set(words)) == []
    assert all(isinstance(words[a], str) and words[a] for a in recorded_actions())
