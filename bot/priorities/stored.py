"""Each project's score kept in the database (`projects.rank_score`), so that a list the
database sorts (the App Home's projects needing attention) ranks them as the digest does.

The rule is `bot.priorities.ranking.project_score`; this only stores what it says. It is
written whenever what it depends on may change: an import (the criteria, the method, the
scores), a project saved from its modal, and by the hourly watch (bot/delivery/watch.py),
which also fills it in after the migration that added it.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.priorities.ranking import project_score
from storage import portfolio


def refresh_rank_scores(session: Session) -> int:
    """Store every project's current score; how many changed."""
    planning = portfolio.load_planning(session)
    projects = portfolio.list_projects(session)
    return portfolio.set_rank_scores(session, {p.id: project_score(p, planning) for p in projects})
