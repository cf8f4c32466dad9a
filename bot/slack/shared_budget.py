"""The workspace's chat.postMessage budget, shared by every replica through the database.

Slack's workspace-wide limit on posts is one for the whole workspace, however many processes
post: three replicas that each adapt on their own climb together until Slack answers 429 to
all three. So on PostgreSQL the budget (its rate, the slot the next post is due at, and the
end of the last Retry-After) is one row: each post reserves its slot in one short transaction
(SELECT … FOR UPDATE, UPDATE), a 429 halves the rate for every replica at once, and a
replica that starts late joins the pace the others found. The rule itself
(`bot.slack.pacing.BudgetRule`) is the same one a single process applies in memory.

Times in the row are seconds since the epoch: the pacer of every replica must use that clock
(`time.time`; hosts keep it within milliseconds of each other through NTP, which is far below
the pace's interval). On SQLite, one process sends (as the README says) and the budget stays
in memory (`ProcessBudget`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.orm import Session, sessionmaker

from storage import coordination
from storage.records import SendBudget

T = TypeVar("T")
POST_BUDGET = "chat.postMessage"


class SharedBudget:
    """A `BudgetStore` in the database: one row, locked for each change."""

    def __init__(
        self, sessions: sessionmaker[Session], start: float, name: str = POST_BUDGET
    ) -> None:
        self._sessions, self._start, self._name = sessions, SendBudget(rate=start), name

    def update(self, change: Callable[[SendBudget], tuple[SendBudget, T]]) -> T:
        with self._sessions.begin() as session:
            budget = coordination.lock_budget(session, self._name, start=self._start)
            after, result = change(budget)
            if after != budget:
                coordination.save_budget(session, self._name, after)
        return result
