"""Builders for test data, with sensible defaults and any field overridable."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from storage.records import (
    Action,
    ActionState,
    Decision,
    DecisionState,
    Project,
    ProjectSpec,
    Rag,
    Report,
    ReportDraft,
    Skip,
    SkipReason,
    Subscription,
)

T0 = datetime(2026, 11, 19, 10, 0, tzinfo=UTC)


def project_spec(key: str = "ATLAS", **overrides: Any) -> ProjectSpec:
    values: dict[str, Any] = {"key": key, "name": f"{key.title()} project", "pm": "U0PM00001"}
    values.update(overrides)
    return ProjectSpec(**values)


def project(key: str = "ATLAS", *, id: int = 1, **overrides: Any) -> Project:
    values: dict[str, Any] = {"key": key, "name": f"{key.title()} project", "pm": "U0PM00001"}
    values.update(overrides)
    return Project(id=id, **values)


def draft(overall: str = "green", **overrides: Any) -> ReportDraft:
    values: dict[str, Any] = {
        "overall": Rag(overall),
        "schedule": Rag(overall),
        "budget": Rag.GREEN,
        "scope": Rag.GREEN,
        "summary": "On track.",
    }
    if overall != "green":
        values["path_to_green"] = "Recover by next month."
    values.update(overrides)
    return ReportDraft(**values)


def report(
    project_id: int = 1, period_start: datetime = T0, overall: str = "green", **overrides: Any
) -> Report:
    report_id = overrides.pop("id", project_id * 100_000 + int(period_start.timestamp()) % 100_000)
    base = draft(overall, **overrides)
    return Report(
        id=report_id,
        project_id=project_id,
        period_start=period_start,
        submitted_by="U0PM00001",
        submitted_at=period_start,
        **{f: getattr(base, f) for f in ReportDraft.__dataclass_fields__},
    )


def subscription(channel: str = "C0LEADERS", **overrides: Any) -> Subscription:
    return Subscription(id=overrides.pop("id", 1), channel=channel, **overrides)


def copy_of(source: Report, period_start: datetime, **overrides: Any) -> Report:
    """A "No change" copy of `source` for the period beginning at `period_start`."""
    values: dict[str, Any] = {f: getattr(source, f) for f in ReportDraft.__dataclass_fields__}
    values.update(
        id=source.id + 1,
        project_id=source.project_id,
        period_start=period_start,
        submitted_by=source.submitted_by,
        submitted_at=period_start,
        copied_from_id=source.id,
    )
    values.update(overrides)
    return Report(**values)


def skip(
    project_id: int = 1,
    period_start: datetime = T0,
    reason: str = "on_leave",
    note: str | None = None,
    **overrides: Any,
) -> Skip:
    values: dict[str, Any] = {
        "project_id": project_id,
        "period_start": period_start,
        "reason": SkipReason(reason),
        "note": note,
        "skipped_by": "U0PM00001",
        "skipped_at": period_start,
    }
    values.update(overrides)
    return Skip(**values)


def decision(
    project_id: int = 1,
    question: str = "Move go-live by eight weeks?",
    state: str = "open",
    **overrides: Any,
) -> Decision:
    """A decision; a decided one has an outcome, a rationale and who decided it, when."""
    values: dict[str, Any] = {
        "id": project_id,
        "project_id": project_id,
        "question": question,
        "needed_by": date(2026, 11, 27),
        "report_id": None,
        "state": DecisionState(state),
        "opened_at": T0,
        "updated_at": T0,
    }
    if state == "decided":
        values |= {
            "outcome": "rejected",
            "rationale": "Not this quarter.",
            "decided_by": "U0SPONS001",
            "decided_at": T0 + timedelta(days=1),
        }
    values.update(overrides)
    return Decision(**values)


def action(decision_id: int = 1, title: str = "Draft the new plan", **overrides: Any) -> Action:
    values: dict[str, Any] = {
        "id": decision_id,
        "decision_id": decision_id,
        "project_id": decision_id,
        "title": title,
        "owner": "U0OWNER001",
        "due_on": date(2026, 11, 16),
        "state": ActionState.OPEN,
        "created_at": T0,
    }
    values.update(overrides)
    return Action(**values)
