"""A closed project's full record, as a Markdown document (kept in the database, and uploaded
to the PM and the PMO admins when the project is closed).

Pure: it is given everything it shows, and the words of one language (`projects.archive`,
`projects.field`, `rag`, `state`, `dimension` of a catalogue). Every text people typed is
escaped, so a summary cannot add headings, links or HTML to the record; long texts are quoted
line by line, so their line breaks survive.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from bot.portfolio.file import PROJECT_FIELDS
from bot.portfolio.lines import dependency_line
from bot.stages.history import RequestRecord, request_records
from storage.audit import AuditEntry
from storage.records import (
    Action,
    Baseline,
    Blocker,
    Decision,
    ItemStatus,
    Milestone,
    Project,
    Report,
    RequestKind,
    RequestState,
    Risk,
    StageRequest,
)

# Characters Markdown (CommonMark, GitHub's, Slack's preview) may read as markup.
_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+!|~])")
PEOPLE_FIELDS = ("pm", "sponsor", "delegates")
# The project's fields, in the order the record lists them (the portfolio file's names and
# order; milestones have a section of their own).
RECORD_FIELDS = tuple(name for name in PROJECT_FIELDS if name != "milestones")


def inline(text: Any) -> str:
    """User text on one line, every Markdown control character escaped."""
    flat = " ".join(str(text).split())
    return _SPECIAL.sub(r"\\\1", flat)


def quote(text: Any) -> list[str]:
    """User text as a block quote, line by line, escaped."""
    lines = str(text).replace("\r\n", "\n").replace("\r", "\n").strip("\n").split("\n")
    return [("> " + _SPECIAL.sub(r"\\\1", line.strip())).rstrip() for line in lines]


def _day(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).date().isoformat()
    return value.isoformat()


def _moment(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


class _Writer:
    def __init__(self, words: Mapping[str, Any], names: Mapping[str, str]) -> None:
        self.words = words
        self.a: Mapping[str, Any] = words["projects"]["archive"]
        self.field: Mapping[str, Any] = words["projects"]["field"]
        self.names = names
        self.lines: list[str] = []

    def say(self, word: str, /, **params: Any) -> str:
        text = str(self.a[word])
        return text % params if params else text

    def who(self, user_id: str | None) -> str:
        if not user_id:
            return self.nothing()
        name = self.names.get(user_id)
        return f"{inline(name)} ({inline(user_id)})" if name else inline(user_id)

    def nothing(self) -> str:
        return str(self.words["projects"]["nothing"])

    def rag(self, value: Any) -> str:
        return str(self.words["rag"].get(str(value), str(value)))

    def _allocation(self, allocation: Any) -> str:
        """An allocation as stored (Allocation), or as the audit log kept it before it kept
        the modal's line (a mapping)."""
        a = allocation if isinstance(allocation, Mapping) else asdict(allocation)
        who = self.who(str(a["person"])) if a.get("person") else inline(a.get("team"))
        return f"{who} {_plain(a['share'])} ({str(a['first'])[:7]} → {str(a['last'])[:7]})"

    def value(self, name: str, value: Any) -> str:
        """A project field's value (as stored, or as the audit log keeps it), for people."""
        if value is None or value == [] or value == ():
            return self.nothing()
        if name == "roles":  # RACI, as stored (Roles) or as the audit log keeps it (a mapping)
            found = value if isinstance(value, Mapping) else asdict(value)
            named = self.words.get("raci", {})
            parts = []
            for role, people in found.items():
                listed = people if isinstance(people, list | tuple) else [people] if people else []
                if listed:
                    who = ", ".join(self.who(str(p)) for p in listed)
                    parts.append(f"{named.get(role, role)}: {who}")
            return "; ".join(parts) or self.nothing()
        if name == "allocations":  # as stored (Allocation) or as the audit log keeps them
            return "; ".join(
                inline(a) if isinstance(a, str) else self._allocation(a) for a in value
            )
        if name == "depends_on":  # as stored (Dependency) or as the audit log keeps them
            return "; ".join(inline(d if isinstance(d, str) else dependency_line(d)) for d in value)
        if name in PEOPLE_FIELDS:
            people = value if isinstance(value, list | tuple) else [value]
            return ", ".join(self.who(str(p)) for p in people)
        if isinstance(value, bool):
            return str(self.words["projects"]["answer_yes" if value else "answer_no"])
        if name == "state":
            return inline(self.words["state"].get(str(value), str(value)))
        if isinstance(value, list | tuple):
            return ", ".join(inline(_plain(v)) for v in value)
        return inline(_plain(value))

    def heading(self, level: int, text: str) -> None:
        if self.lines and self.lines[-1] != "":
            self.lines.append("")
        self.lines += [f"{'#' * level} {text}", ""]

    def text_block(self, label: str, text: str | None) -> None:
        if not text or not text.strip():
            return
        self.lines += [f"**{label}**", "", *quote(text), ""]


def _plain(value: Any) -> str:
    if isinstance(value, date | datetime):
        return _day(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, list | tuple) and len(value) == 2 and isinstance(value[0], str):
        return f"{value[0]} {_plain(value[1])}"  # a score: (criterion, value)
    return str(value)


def project_record(
    *,
    project: Project,
    reports: Sequence[Report],
    risks: Sequence[Risk],
    blockers: Sequence[Blocker],
    milestones: Sequence[Milestone],
    changes: Sequence[AuditEntry],
    decisions: Sequence[Decision] = (),
    actions: Sequence[Action] = (),
    requests: Sequence[StageRequest] = (),
    baselines: Sequence[Baseline] = (),
    summary: str,
    lessons: str,
    closed_by: str,
    closed_at: datetime,
    created_at: datetime | None,
    names: Mapping[str, str],
    words: Mapping[str, Any],
) -> str:
    """The record: the closing summary and lessons, the project's fields, every report in
    period order, its risks and blockers (opened, updated, closed), milestones, and the audit
    log's changes, oldest first; the decisions asked of leadership and their actions. When
    the project has any (issue 17), its gates and change requests (each with its decision
    record and conditions) and its baselines, between the milestones and the decisions."""
    w = _Writer(words, names)
    say = w.say
    lines = w.lines
    lines += [
        f"# {say('title', key=inline(project.key), name=inline(project.name))}",
        "",
        say("closed", date=_day(closed_at), who=w.who(closed_by)),
    ]
    w.heading(2, inline(w.field["summary"]))
    lines += [*quote(summary), ""]
    w.heading(2, inline(w.field["lessons"]))
    lines += [*quote(lessons), ""]

    w.heading(2, say("project"))
    for name in RECORD_FIELDS:
        lines.append(f"- {w.field[name]}: {w.value(name, getattr(project, name))}")
    if created_at is not None:
        lines.append(f"- {say('created')}: {_moment(created_at)}")
    if project.closed_at is not None:
        lines.append(f"- {say('closed_at')}: {_moment(project.closed_at)}")

    w.heading(2, f"{say('reports')} ({len(reports)})")
    if not reports:
        lines.append(say("no_reports"))
    for report in sorted(reports, key=lambda r: r.period_start):
        _report(w, report)

    w.heading(2, f"{say('risks')} ({len(risks)})")
    if not risks:
        lines.append(say("no_risks"))
    for risk in risks:
        _risk(w, risk)

    w.heading(2, f"{say('blockers')} ({len(blockers)})")
    if not blockers:
        lines.append(say("no_blockers"))
    for blocker in blockers:
        _blocker(w, blocker)

    w.heading(2, f"{say('milestones')} ({len(milestones)})")
    if not milestones:
        lines.append(say("no_milestones"))
    for milestone in sorted(milestones, key=lambda m: (m.due, m.name)):
        done = say("reached", date=_day(milestone.done_on)) if milestone.done_on else None
        lines.append(
            f"- {inline(milestone.name)}: {say('due', date=_day(milestone.due))}, "
            f"{done or say('not_reached')}"
        )

    records = request_records(requests, baselines, decisions, actions)
    if records or baselines:
        _requests(w, records)
        _baselines(w, baselines)
    # A gate's or a change's decision is told with its request; the rest are the asks.
    told = {r.decision.id for r in records if r.decision is not None}
    asked = [d for d in decisions if d.id not in told]
    w.heading(2, f"{say('decisions')} ({len(asked)})")
    if not asked:
        lines.append(say("no_decisions"))
    for decision in sorted(asked, key=lambda d: (d.opened_at, d.id)):
        _decision(w, decision, [a for a in actions if a.decision_id == decision.id])

    w.heading(2, f"{say('changes')} ({len(changes)})")
    if not changes:
        lines.append(say("no_changes"))
    for entry in sorted(changes, key=lambda e: (e.at, e.id)):
        _change(w, entry)
    return "\n".join(lines).rstrip() + "\n"


def _report(w: _Writer, report: Report) -> None:
    say, lines = w.say, w.lines
    w.heading(3, f"{say('period', date=_day(report.period_start))}: {w.rag(report.overall)}")
    dimension = w.words["dimension"]
    ratings = " · ".join(
        f"{dimension[d]} {w.rag(getattr(report, d))}"
        for d in ("overall", "schedule", "budget", "scope")
    )
    lines.append(f"- {ratings}")
    lines.append(
        f"- {say('submitted', who=w.who(report.submitted_by), at=_moment(report.submitted_at))}"
    )
    if report.copied_from_id is not None:
        lines.append(f"- {say('copy')}")
    if report.percent_complete is not None:
        lines.append(f"- {say('percent_complete')}: {report.percent_complete}%")
    if report.forecast_end is not None:
        lines.append(f"- {say('forecast_end')}: {_day(report.forecast_end)}")
    if report.budget_spent is not None:
        lines.append(f"- {say('budget_spent')}: {_plain(report.budget_spent)}")
    if report.forecast_at_completion is not None:
        at_completion = _plain(report.forecast_at_completion)
        lines.append(f"- {say('forecast_at_completion')}: {at_completion}")
    lines.append("")
    w.text_block(say("summary"), report.summary)
    w.text_block(say("path_to_green"), report.path_to_green)
    w.text_block(say("accomplishments"), report.accomplishments)
    w.text_block(say("next_steps"), report.next_steps)
    if report.help_needed:
        w.text_block(say("help_needed"), report.help_needed)
        if report.help_needed_by is not None:
            lines += [say("help_needed_by", date=_day(report.help_needed_by)), ""]
    for label, titles in (("risks_then", report.risks), ("blockers_then", report.blockers)):
        if titles:
            lines += [f"**{say(label)}**", "", *(f"- {inline(t)}" for t in titles), ""]


def _risk(w: _Writer, risk: Risk) -> None:
    say, lines = w.say, w.lines
    status = say("open") if risk.status is ItemStatus.OPEN else say("closed_item")
    w.heading(3, f"{inline(risk.title)} ({status})")
    lines.append(
        "- " + say("score", score=risk.score, probability=risk.probability, impact=risk.impact)
    )
    if risk.owner:
        lines.append(f"- {say('owner')}: {w.who(risk.owner)}")
    history = [
        say("opened_on", date=_day(risk.opened_at)),
        say("updated_on", date=_day(risk.updated_at)),
    ]
    if risk.closed_at is not None:
        history.append(say("closed_on", date=_day(risk.closed_at)))
    lines += [f"- {', '.join(history)}", ""]
    w.text_block(say("mitigation"), risk.mitigation)


def _blocker(w: _Writer, blocker: Blocker) -> None:
    say, lines = w.say, w.lines
    status = say("open") if blocker.status is ItemStatus.OPEN else say("resolved")
    w.heading(3, f"{inline(blocker.title)} ({status})")
    if blocker.unblocker:
        lines.append(f"- {say('unblocker')}: {w.who(blocker.unblocker)}")
    if blocker.needs_leadership:
        lines.append(f"- {say('needs_leadership')}")
    history = [
        say("opened_on", date=_day(blocker.raised_at)),
        say("updated_on", date=_day(blocker.updated_at)),
    ]
    if blocker.resolved_at is not None:
        history.append(say("resolved_on", date=_day(blocker.resolved_at)))
    lines += [f"- {', '.join(history)}", ""]


def _decision(w: _Writer, decision: Decision, actions: Sequence[Action]) -> None:
    say, lines = w.say, w.lines
    w.heading(3, inline(decision.question))
    asked = say("asked_on", date=_day(decision.opened_at))
    if decision.needed_by is not None:
        asked += ", " + say("needed_by", date=_day(decision.needed_by))
    lines.append(f"- {asked}")
    if decision.decided_at is not None and decision.outcome is not None:
        outcome = w.a["outcomes"].get(decision.outcome, decision.outcome)
        lines.append(
            "- "
            + say(
                "decided",
                date=_day(decision.decided_at),
                who=w.who(decision.decided_by),
                outcome=inline(outcome),
            )
        )
    else:
        state = w.a["states"].get(decision.state.value, decision.state.value)
        lines.append("- " + say("decision_state", state=inline(state)))
    lines.append("")
    w.text_block(say("rationale"), decision.rationale)
    _actions(w, say("actions"), actions)


def _actions(w: _Writer, label: str, actions: Sequence[Action]) -> None:
    """A decision's actions (a gate's or a change's conditions), each with its owner, due
    date and state."""
    if not actions:
        return
    say, lines = w.say, w.lines
    lines += [f"**{label}**", ""]
    for action in actions:
        state = (
            say("action_done", date=_day(action.done_at))
            if action.done_at is not None
            else say("action_open")
        )
        line = say(
            "action_line",
            title=inline(action.title),
            who=w.who(action.owner),
            date=_day(action.due_on),
            state=state,
        )
        lines.append(f"- {line}")
    lines.append("")


def _requests(w: _Writer, records: Sequence[RequestRecord]) -> None:
    """Every gate and change request, oldest first: who asked what when (a gate's checklist
    as answered; a change's new end and budget beside the baseline's), why, and how it was
    decided (the decision record: by whom, when, its rationale and its conditions)."""
    say, lines = w.say, w.lines
    w.heading(2, f"{say('requests')} ({len(records)})")
    if not records:
        lines.append(say("no_requests"))
    for record in records:
        request = record.request
        if request.kind is RequestKind.GATE:
            title = say(
                "gate", start=inline(request.from_phase or ""), then=inline(request.to_phase or "")
            )
        else:
            title = say("change", what=_change_kinds(w, request))
        w.heading(3, title)
        lines.append(
            "- "
            + say("requested", date=_day(request.requested_at), who=w.who(request.requested_by))
        )
        if request.kind is RequestKind.CHANGE:
            lines += [f"- {line}" for line in _new_values(w, record)]
        lines.append("")
        if request.checklist:
            lines += [f"**{say('checklist')}**", ""]
            for item in request.checklist:
                lines.append(
                    "- " + _checklist_item(w, item.name, item.mandatory, item.done, item.link)
                )
            lines.append("")
        w.text_block(
            say("reason" if request.kind is RequestKind.CHANGE else "note"), request.reason
        )
        _settled(w, record)


def _change_kinds(w: _Writer, request: StageRequest) -> str:
    kinds = w.a["change_kinds"]
    return ", ".join(inline(kinds.get(k.value, k.value)) for k in request.changes)


def _new_values(w: _Writer, record: RequestRecord) -> list[str]:
    """A change's new end date and budget, each beside the baseline in force's (if any)."""
    request, previous = record.request, record.previous
    found = []
    for word, new, old in (
        ("new_end", request.new_end, previous.end if previous else None),
        ("new_budget", request.new_budget, previous.budget if previous else None),
    ):
        if new is None:
            continue
        line = w.say(word, value=_plain(new))
        if previous is None:
            line += " " + w.say("no_baseline_before")
        else:
            shown = _plain(old) if old is not None else w.nothing()
            line += " " + w.say("in_baseline", value=shown, number=previous.number)
        found.append(line)
    return found


def _checklist_item(w: _Writer, name: str, mandatory: bool, done: bool, link: str | None) -> str:
    state = w.say("item_done" if done else "item_not_done")
    if link:
        state += f", {inline(link)}"
    shown = inline(name) + (f" ({w.say('mandatory')})" if mandatory else "")
    return w.say("item", name=shown, state=state)


def _settled(w: _Writer, record: RequestRecord) -> None:
    """How a request ended (or that it waits), with its decision's rationale and conditions,
    and the baseline its approval recorded."""
    say, lines = w.say, w.lines
    request, decision = record.request, record.decision
    if request.state is RequestState.PENDING:
        lines += ["- " + say("waiting"), ""]
        return
    if request.state is RequestState.WITHDRAWN:
        lines += ["- " + say("withdrawn", date=_day(request.decided_at)), ""]
        return
    outcome = request.outcome or (decision.outcome if decision else None) or ""
    lines.append(
        "- "
        + say(
            "decided",
            date=_day(request.decided_at),
            who=w.who(request.decided_by),
            outcome=inline(w.a["outcomes"].get(outcome, outcome)),
        )
    )
    if record.recorded is not None:
        lines.append("- " + say("baseline_recorded", number=record.recorded.number))
    lines.append("")
    if decision is not None:
        w.text_block(say("rationale"), decision.rationale)
    _actions(w, say("conditions"), record.conditions)


def _baselines(w: _Writer, baselines: Sequence[Baseline]) -> None:
    """Every baseline, in the project's order: where it came from, who recorded it when, its
    budget, end date and milestones' due dates."""
    say, lines = w.say, w.lines
    w.heading(2, f"{say('baselines')} ({len(baselines)})")
    if not baselines:
        lines.append(say("no_baselines"))
    sources = w.a["sources"]
    for baseline in sorted(baselines, key=lambda b: b.number):
        source = inline(sources.get(baseline.source, baseline.source))
        w.heading(3, say("baseline", number=baseline.number, source=source))
        lines.append(
            "- " + say("recorded", date=_day(baseline.recorded_at), who=w.who(baseline.recorded_by))
        )
        lines.append(f"- {w.field['budget']}: {w.value('budget', baseline.budget)}")
        lines.append(f"- {w.field['end']}: {w.value('end', baseline.end)}")
        if baseline.milestones:
            lines.append(f"- {say('baseline_milestones')}")
            for name, due in baseline.milestones:
                when = say("due", date=_day(due)) if due is not None else w.nothing()
                lines.append(f"  - {inline(name)}: {when}")
        lines.append("")


def _change(w: _Writer, entry: AuditEntry) -> None:
    action = w.words["projects"]["action"].get(entry.action, entry.action)
    by = w.say("by", who=w.who(entry.actor) if entry.actor != "import" else "import")
    w.lines.append(f"- {_moment(entry.at)}: {inline(action)}, {by}")
    for name, values in entry.changes.items():
        pair = [*values, None, None][:2] if isinstance(values, list) else [None, values]
        before, after = pair[0], pair[1]
        label = w.field.get(name, name)
        w.lines.append(f"  - {label}: {w.value(name, before)} → {w.value(name, after)}")
