"""The governance rules that need no database: the decision form's checks
(bot.governance.decisions.check_form), who may close an action
(bot.access.permissions.can_close_action), when an action is overdue, and when a report's ask
is answered (bot.digest.model.ask_answered, which takes a decided ask out of "Needs your
attention")."""

from __future__ import annotations

from datetime import date

import pytest

from bot.access.permissions import can_close_action
from bot.digest.model import ask_answered
from bot.governance.actions import is_overdue, reminder_day
from bot.governance.decisions import (
    MAX_ACTION_TITLE,
    MAX_RATIONALE,
    ActionDraft,
    DecisionOutcome,
    check_form,
)
from storage.records import DEFAULT_CALENDAR, ActionState
from tests import factories

TODAY = date(2026, 12, 3)
GOOD = ActionDraft("Tell the vendor", "U0OWNER001", "2026-12-10")


@pytest.mark.parametrize(
    ("outcome", "rationale", "actions", "problems"),
    [
        ("approved", None, [], []),  # approved: no rationale needed
        ("approved", "  ", [GOOD, ActionDraft(), GOOD], []),  # an empty row is no action
        ("rejected", None, [], [("rationale", "required")]),
        ("deferred", " \n ", [], [("rationale", "required")]),
        ("more_information", "Which date?", [], []),
        ("maybe", "x", [], [("outcome", "unknown")]),
        ("", None, [], [("outcome", "unknown")]),
        ("approved", "x" * (MAX_RATIONALE + 1), [], [("rationale", "long")]),
        (
            "approved",
            None,
            [ActionDraft("Title only")],
            [("action.1.owner", "required"), ("action.1.due", "required")],
        ),
        (
            "approved",
            None,
            [GOOD, ActionDraft(None, "U0OWNER001", "2026-12-02")],
            [("action.2.title", "required"), ("action.2.due", "past")],
        ),
        (
            "approved",
            None,
            [ActionDraft("x" * (MAX_ACTION_TITLE + 1), "<@U0FORGED>", "not a date")],
            [
                ("action.1.title", "long"),
                ("action.1.owner", "required"),  # a crafted value is no one
                ("action.1.due", "required"),
            ],
        ),
    ],
)
def test_the_decision_form_lists_every_problem_by_field(
    outcome: str,
    rationale: str | None,
    actions: list[ActionDraft],
    problems: list[tuple[str, str]],
) -> None:
    chosen, _, kept, found = check_form(outcome, rationale, actions, today=TODAY)
    assert found == problems
    if not problems:
        assert chosen is DecisionOutcome(outcome)
        assert kept == [("Tell the vendor", "U0OWNER001", date(2026, 12, 10))] * sum(
            1 for a in actions if a == GOOD
        )


def test_an_action_due_today_is_accepted_and_at_most_three_are_read() -> None:
    today = ActionDraft("Now", "U0OWNER001", TODAY.isoformat())
    _, why, kept, problems = check_form("approved", " Fine. ", [today] * 5, today=TODAY)
    assert problems == [] and why == "Fine." and len(kept) == 3


@pytest.mark.parametrize(
    ("user", "allowed"),
    [
        ("U0OWNER001", True),  # its owner
        ("U0SPONSOR", True),  # who took the decision
        ("U0ADMIN01", True),  # a PMO admin
        ("U0PM00001", False),  # the PM: not theirs
        ("", False),
    ],
)
def test_who_may_close_an_action(user: str, allowed: bool) -> None:
    assert can_close_action(user, "U0OWNER001", "U0SPONSOR", {"U0ADMIN01"}) is allowed
    assert can_close_action("", "U0OWNER001", None, set()) is False


def test_an_open_action_past_its_due_date_is_overdue() -> None:
    due = factories.action(due_on=TODAY)
    assert not is_overdue(due, TODAY)
    assert is_overdue(due, date(2026, 12, 4))
    assert not is_overdue(factories.action(due_on=TODAY, state=ActionState.DONE), date(2026, 12, 4))


def test_an_ask_is_answered_by_a_decision_on_that_very_question() -> None:
    report = factories.report(1, help_needed="  Move go-live?  ")
    decided = factories.decision(1, "Move go-live?", "decided")
    assert ask_answered(report, decided)
    assert not ask_answered(report, factories.decision(1, "Move go-live?", "open"))
    assert not ask_answered(report, factories.decision(1, "Another question?", "decided"))
    assert not ask_answered(report, None)


@pytest.mark.parametrize(
    ("due", "holidays", "expected"),
    [
        (date(2026, 12, 3), (), date(2026, 12, 3)),  # a Thursday: that day
        (date(2026, 12, 6), (), date(2026, 12, 4)),  # a Sunday: the Friday before
        (date(2026, 12, 28), (date(2026, 12, 28),), date(2026, 12, 25)),  # a holiday Monday
        # no working day in the week before: the due date itself
        (date(2026, 12, 31), tuple(date(2026, 12, d) for d in range(21, 32)), date(2026, 12, 31)),
    ],
)
def test_the_reminder_comes_on_the_last_working_day_by_the_due_date(
    due: date, holidays: tuple[date, ...], expected: date
) -> None:
    assert reminder_day(due, DEFAULT_CALENDAR, holidays) == expected
