"""The `/pmo` words, each with the function that answers it: the whole command in one table.

A verb gets a `Request` and answers with a response for Slack's response_url, or a modal to
open (bot/slash/request.py). A word not listed gets `/pmo help`'s answer.
"""

from __future__ import annotations

from bot.slash.actions import answer_remind, answer_report
from bot.slash.exports import answer_export
from bot.slash.help import answer_help
from bot.slash.lookups import (
    answer_actions,
    answer_blockers,
    answer_budget,
    answer_capacity,
    answer_decisions,
    answer_deps,
    answer_history,
    answer_list,
    answer_mine,
    answer_rank,
    answer_risks,
    answer_status,
)
from bot.slash.projects import answer_admin, answer_project
from bot.slash.request import Verb
from bot.slash.stages import answer_change, answer_gate
from bot.slash.subscriptions import answer_subscription

VERBS: dict[str, Verb] = {
    "help": answer_help,
    "status": answer_status,
    "list": answer_list,
    "risks": answer_risks,
    "blockers": answer_blockers,
    "decisions": answer_decisions,
    "actions": answer_actions,
    "budget": answer_budget,
    "rank": answer_rank,
    "capacity": answer_capacity,
    "deps": answer_deps,
    "history": answer_history,
    "mine": answer_mine,
    "report": answer_report,
    "remind": answer_remind,
    "gate": answer_gate,
    "change": answer_change,
    "export": answer_export,
    "subscribe": answer_subscription,
    "unsubscribe": answer_subscription,
    "project": answer_project,
    "projects": answer_project,
    "admin": answer_admin,
}
