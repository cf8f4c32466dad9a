"""Project administration without YAML: add, edit (which also puts on hold, closes and
reassigns), close with an archived record, and grant the PMO admin role. No Slack objects:
handlers/projects.py reads the modals into plain forms and turns results into Slack answers.

Rules (checked on the server at submission, whatever the modal or the payload says):

- Only PMO admins (PMO_ADMINS plus those granted with `/pmo admin add`) change the portfolio:
  add, edit, close, grant. A project's PM cannot close it: closing is a portfolio decision.
- A modal validates with the portfolio file's own checks (`PROJECT_FIELDS`), reports every
  problem at once, inline, and stores nothing when there is one. A project's key is set when
  it is added and never changes (digests, files and subscriptions name it). Past its planning
  gate, a project's budget and end date are its approved baseline: a change of either is
  refused on its field (`/pmo change KEY` asks for it; bot/stages/compliance.py), the other
  fields edit as before.
- Every change is recorded in the audit log: who, when, and `field: [before, after]` for each
  field that changed (the import records its own, as actor "import").
- Closing sets the state to closed (closed_at as the import sets it), records "closed",
  builds the project's full record (bot/archive.py), keeps it (project_archives) and sends it
  to the PM and every admin in their DM. Those its roles name accountable or informed get a
  short closing summary instead (queued in the same transaction, sent in their working hours,
  once). A project closed and archived cannot be closed again until it is reopened (edit its
  state).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, fields, is_dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy.orm import Session

from bot.access.admins import admins_in, current_admins, is_admin
from bot.access.permissions import kept_informed
from bot.languages import DEFAULT_LANGUAGE
from bot.portfolio import archive
from bot.portfolio.file import (
    PROJECT_FIELDS,
    PROJECT_REQUIRED,
    ROLE_NAMES,
    allocation_issues,
    dependency_issues,
    score_issues,
)
from bot.portfolio.lines import (
    Entry,
    allocation_line,
    allocations_text,
    benefit_line,
    benefits_text,
    dependencies_text,
    dependency_line,
    parse_allocations,
    parse_benefits,
    parse_dependencies,
    parse_scores,
    score_line,
    scores_text,
)
from bot.priorities.stored import refresh_rank_scores
from bot.reporting.form import FieldError
from bot.services import Services
from bot.slack.gateway import SlackError
from bot.slack.people import dm_channel
from bot.slack.user_ids import is_user_id
from bot.stages.compliance import baseline_changes
from bot.stages.requests import ask_new_approvers, withdraw_stale
from storage import (
    archives,
    audit,
    decisions,
    deliveries,
    items,
    portfolio,
    reports,
    stages,
    users,
)
from storage.deliveries import Claim
from storage.records import (
    DEFAULT_CADENCE,
    Allocation,
    DeliveryKind,
    Dependency,
    Planning,
    Project,
    ProjectSpec,
    ProjectState,
    Staffing,
)

log = logging.getLogger(__name__)

IMPORT_ACTOR = "import"
MAX_CLOSING_TEXT = 3000
# The project modal's input blocks, each named after the portfolio file's field; the two
# booleans are the options of one checkboxes block, `flags`.
FLAGS = ("confidential", "escalate_to_sponsor")
# The portfolio file's order; holidays, milestones, the planned progress curve, the
# tolerances have no field here (the file sets them; editing keeps them); nor has the phase,
# which only a stage gate moves (issue 17).
KEPT_FIELDS = ("holidays", "milestones", "plan", "tolerances", "phase")
# The planning fields, after the others under a header: `mandatory` a checkbox (its one
# option's value is "mandatory"), `cost` a number, the roles one user picker each (block ids:
# the role names), and three texts of one entry a line (bot/portfolio/lines.py).
LINE_FIELDS: dict[str, Callable[[str], list[Entry]]] = {
    "scores": parse_scores,
    "benefits": parse_benefits,
    "allocations": parse_allocations,
    "depends_on": parse_dependencies,
}
MODAL_PLANNING = ("scores", "mandatory", "benefits", "cost", "roles", "allocations", "depends_on")
MANDATORY_BLOCK = "mandatory"
ROLE_BLOCKS = ROLE_NAMES  # accountable (one person), responsible, consulted, informed (lists)
MODAL_FIELDS = tuple(
    name for name in PROJECT_FIELDS if name not in (*KEPT_FIELDS, *FLAGS, *MODAL_PLANNING)
)
FLAGS_BLOCK = "flags"
# A text longer than Slack lets a modal's input hold is not shown there, and is kept.
MAX_INPUT = 3000
SPEC_FIELDS = tuple(f.name for f in fields(ProjectSpec))
# Where a refusal that concerns the whole modal is shown (a block both modals have).
PROJECT_GENERAL_BLOCK = "name"
CLOSE_GENERAL_BLOCK = "summary"

# What a submitted project modal holds: text (None when empty) for each input, and the
# chosen user ids (`delegates`, the roles but `accountable`) and ticked options (`flags`,
# `mandatory`) as tuples. A text of LINE_FIELDS the modal did not show is absent (kept).
ProjectForm = Mapping[str, str | tuple[str, ...] | None]


# --- metadata --------------------------------------------------------------------------------


def metadata(project_id: int | None, language: str) -> str:
    """The modal's private_metadata: which project (none when adding) and the admin's language
    (for the inline errors). Never trusted for permissions."""
    return json.dumps({"project": project_id, "language": language})


def read_metadata(text: str) -> tuple[int | None, str]:
    try:
        data = json.loads(text or "{}")
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    project = data.get("project")
    language = data.get("language")
    return (
        project if isinstance(project, int) and not isinstance(project, bool) else None,
        language if isinstance(language, str) and len(language) <= 8 else DEFAULT_LANGUAGE,
    )


# --- validation and the audit diff -----------------------------------------------------------


def spec_of(project: Project) -> ProjectSpec:
    """A stored project as the portfolio describes it (without id and closed_at)."""
    return ProjectSpec(**{name: getattr(project, name) for name in SPEC_FIELDS})


def validate_project(
    form: ProjectForm,
    *,
    current: Project | None,
    planning: Planning | None = None,
    staffing: Staffing | None = None,
    links: Links | None = None,
) -> tuple[ProjectSpec | None, list[FieldError]]:
    """The project the modal describes, checked field by field with the portfolio file's own
    checks (the scores against the stored criteria, the allocations against the stored people
    and teams, as the import does; none when not given); or every problem, each on its block.
    Editing keeps the key, the holidays, the plan and the tolerances."""
    raw: dict[str, Any] = {}
    for name in MODAL_FIELDS:
        value = form.get(name)
        raw[name] = (value.strip() or None) if isinstance(value, str) else value
    if current is not None:
        raw["key"] = current.key
    if isinstance(raw["tags"], str):
        raw["tags"] = [tag.strip() for tag in raw["tags"].split(",") if tag.strip()]
    raw["delegates"] = list(dict.fromkeys(raw["delegates"] or ()))
    flags = form.get(FLAGS_BLOCK) or ()
    for flag in FLAGS:
        raw[flag] = "true" if flag in flags else "false"
    values: dict[str, Any] = {}
    errors: list[FieldError] = []
    for name, value in raw.items():
        if value is None:
            if name in PROJECT_REQUIRED or name == "state":
                errors.append(FieldError(name, "required"))
            continue
        attribute, check = PROJECT_FIELDS[name]
        try:
            values[attribute] = check(value)
        except ValueError:
            errors.append(
                FieldError(FLAGS_BLOCK if name in FLAGS else name, "invalid", {"field": name})
            )
    start, end = values.get("start"), values.get("end")
    if isinstance(start, date) and isinstance(end, date) and end < start:
        errors.append(FieldError("end", "end_before_start", {"start": start.isoformat()}))
    planned, planning_errors = _planning_values(
        form,
        current=current,
        planning=planning or Planning(),
        staffing=staffing or Staffing(),
        links=links or Links(),
        key=str(values.get("key") or ""),
    )
    errors += planning_errors
    if errors:
        return None, errors
    values.setdefault("cadence", DEFAULT_CADENCE)
    values["holidays"] = current.holidays if current is not None else ()
    values["plan"] = current.plan if current is not None else ()
    values["tolerances"] = current.tolerances if current is not None else None
    values["phase"] = current.phase if current is not None else None
    return ProjectSpec(**values, **planned), []


def _checked(name: str, value: Any) -> Any:
    """`value` (the file's form of field `name`) as the portfolio file's check makes it;
    ValueError when the file would refuse it."""
    return PROJECT_FIELDS[name][1](value)


def _refused(name: str, value: Any) -> bool:
    try:
        _checked(name, value)
    except ValueError:
        return True
    return False


def _as_field(name: str, values: list[Any]) -> Any:
    """Entries' values as the file writes the field: scores a mapping, the others a list."""
    return dict(values) if name == "scores" else values


@dataclass(frozen=True, slots=True)
class Links:
    """What a project's dependencies are checked against: every stored project's, by key, and
    each one's milestone names (the import's rule: bot/portfolio/file.dependency_issues)."""

    needs: Mapping[str, tuple[Dependency, ...]] = field(default_factory=dict)
    milestones: Mapping[str, list[str]] = field(default_factory=dict)


def _planning_values(
    form: ProjectForm,
    *,
    current: Project | None,
    planning: Planning,
    staffing: Staffing,
    links: Links,
    key: str,
) -> tuple[dict[str, Any], list[FieldError]]:
    """The planning fields the modal describes, or their problems (inline, on their blocks)."""
    values: dict[str, Any] = {"mandatory": MANDATORY_BLOCK in (form.get(MANDATORY_BLOCK) or ())}
    errors: list[FieldError] = []
    cost = form.get("cost")
    if isinstance(cost, str) and cost.strip():
        try:
            values["cost"] = _checked("cost", cost.strip())
        except ValueError:
            errors.append(FieldError("cost", "invalid", {"field": "cost"}))
    roles: dict[str, Any] = {}
    for role in ROLE_BLOCKS:
        chosen = form.get(role)
        if role == "accountable":
            value: Any = chosen.strip() if isinstance(chosen, str) and chosen.strip() else None
        else:
            value = list(dict.fromkeys(chosen or ())) or None
        if value is not None and _refused("roles", {role: value}):
            errors.append(FieldError(role, "invalid", {"field": role}))
        elif value is not None:
            roles[role] = value
    if roles:
        values["roles"] = _checked("roles", roles)
    for name, parse in LINE_FIELDS.items():
        text = form.get(name)
        if name not in form and current is not None:  # not shown (too long to edit there)
            values[name] = getattr(current, name)
            continue
        entries = parse(text if isinstance(text, str) else "")
        bad = [e for e in entries if e.value is None or _refused(name, _as_field(name, [e.value]))]
        if name == "scores":
            bad += _twice(entries)
        if bad:
            errors.append(FieldError(name, "bad_line", {"field": name, "line": bad[0].line}))
            continue
        try:
            values[name] = _checked(name, _as_field(name, [e.value for e in entries]))
        except ValueError:  # too many entries, a year twice
            errors.append(FieldError(name, "invalid", {"field": name}))
            continue
        lines = [e.line for e in entries]
        if name == "scores":
            errors += _score_errors(values[name], lines, planning)
        if name == "allocations":
            errors += _allocation_errors(values[name], lines, staffing)
        if name == "depends_on" and key:
            errors += _dependency_errors(key, values[name], lines, links)
    return values, errors


def _dependency_errors(
    key: str, dependencies: tuple[Dependency, ...], lines: list[int], links: Links
) -> list[FieldError]:
    """The project's dependencies as the import would judge them, with every other project's
    as stored: the first problem, on the field, naming its line."""
    needs = {**links.needs, key: dependencies}
    for issue in dependency_issues(needs, links.milestones):
        if issue.code == "cycle" and key in issue.cycle:
            loop = " → ".join([*issue.cycle, issue.cycle[0]])
            return [FieldError("depends_on", "dependency_cycle", {"cycle": loop})]
        if issue.key == key and issue.index is not None and issue.dependency is not None:
            d = issue.dependency
            params = {"line": lines[issue.index], "project": d.project, "milestone": d.milestone}
            return [FieldError("depends_on", f"dependency_{issue.code}", params)]
    return []


def _twice(entries: list[Entry]) -> list[Entry]:
    """The score entries that name a criterion already named above (the file's mapping cannot
    hold a name twice)."""
    seen: set[str] = set()
    twice = []
    for entry in entries:
        name = str(entry.value[0]).casefold() if entry.value is not None else ""
        if name in seen:
            twice.append(entry)
        seen.add(name)
    return twice


def _score_errors(
    scores: tuple[tuple[str, Decimal], ...], lines: list[int], planning: Planning
) -> list[FieldError]:
    errors = []
    known = ", ".join(c.name for c in planning.criteria)
    for issue in score_issues(scores, planning):
        params: dict[str, Any] = {"line": lines[issue.index], "name": issue.name, "known": known}
        if issue.criterion is not None:
            params |= {
                "lowest": _plain(issue.criterion.lowest),
                "highest": _plain(issue.criterion.highest),
            }
        code = f"score_{issue.code}" if known or issue.code != "unknown" else "no_criteria"
        errors.append(FieldError("scores", code, params))
    return errors


def _allocation_errors(
    allocations: tuple[Allocation, ...], lines: list[int], staffing: Staffing
) -> list[FieldError]:
    errors = []
    for index, kind in allocation_issues(allocations, staffing):
        allocation = allocations[index]
        errors.append(
            FieldError(
                "allocations",
                f"unknown_{kind}",
                {
                    "line": lines[index],
                    "person": allocation.person or "",
                    "team": allocation.team or "",
                },
            )
        )
    return errors


def modal_texts(project: Project | None) -> dict[str, str | None]:
    """The planning texts the project modal is prefilled with; None for a text too long for
    Slack's input (the modal then does not show it, and saving keeps it)."""
    if project is None:
        return dict.fromkeys(LINE_FIELDS, "")
    texts = {
        "scores": scores_text(project.scores),
        "benefits": benefits_text(project.benefits),
        "allocations": allocations_text(project.allocations),
        "depends_on": dependencies_text(project.depends_on),
    }
    return {name: text if len(text) <= MAX_INPUT else None for name, text in texts.items()}


def _plain(value: Any, name: str = "") -> Any:
    """A field's value as the audit log keeps it (JSON): the scores, the benefits and the
    allocations as the lines the project modal shows them in (`strategic: 4`), and the
    dependencies as `KEY "milestone" by DATE: note`."""
    if name == "scores":
        return [score_line(criterion, score) for criterion, score in value]
    if name == "benefits":
        return [benefit_line(year, amount) for year, amount in value]
    if name == "allocations":
        return [allocation_line(a) for a in value]
    if name == "depends_on":
        return [dependency_line(d) for d in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if is_dataclass(value) and not isinstance(value, type):  # a plan point, tolerances
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    return value


def diff(before: ProjectSpec | None, after: ProjectSpec) -> dict[str, list[Any]]:
    """`field: [before, after]` for every field that changed (for a new project: every field
    that has a value)."""
    changes: dict[str, list[Any]] = {}
    for name in SPEC_FIELDS:
        new = _plain(getattr(after, name), name)
        old = _plain(getattr(before, name), name) if before is not None else None
        if before is None and new in (None, [], ""):
            continue
        if old != new:
            changes[name] = [old, new]
    return changes


def action_of(before: ProjectSpec | None, after: ProjectSpec) -> str:
    if before is None:
        return "created"
    if after.state is ProjectState.CLOSED and before.state is not ProjectState.CLOSED:
        return "closed"
    if before.state is ProjectState.CLOSED and after.state is not ProjectState.CLOSED:
        return "reopened"
    return "updated"


def record_change(
    session: Session,
    *,
    actor: str,
    at: datetime,
    project_id: int,
    before: ProjectSpec | None,
    after: ProjectSpec,
) -> tuple[str, dict[str, list[Any]]]:
    """Write the audit entry of a change to a project (none when nothing changed); return its
    action and changes ("unchanged", {} when nothing changed)."""
    changes = diff(before, after)
    if not changes:
        return "unchanged", {}
    action = action_of(before, after)
    audit.record(session, actor=actor, at=at, action=action, project_id=project_id, changes=changes)
    return action, changes


def error_texts(words: Mapping[str, Any], errors: Sequence[FieldError]) -> dict[str, str]:
    """Slack's inline errors ({block_id: text}) in the admin's language; one per block."""
    texts: dict[str, str] = {}
    catalogue = words["projects"]
    for error in errors:
        if error.field in texts:
            continue
        if error.code in ("invalid", "bad_line"):
            text = str(catalogue["invalid"][error.params.get("field", error.field)])
            if error.code == "bad_line":  # "Line 3: " and what the field takes
                text = str(catalogue["errors"]["bad_line"]) % dict(error.params) + " " + text
        else:
            text = str(catalogue["errors"][error.code])
            text = text % dict(error.params) if error.params else text
        texts[error.field] = text
    return texts


# --- add and edit ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProjectSaved:
    project: Project
    action: str  # created, updated, closed, reopened, unchanged
    changes: dict[str, list[Any]] = field(default_factory=dict)
    language: str = DEFAULT_LANGUAGE


def ask_waiting_approvers(services: Services) -> int:
    """After a grant of the admin role: ask the new admin what waits on the admins (every
    pending gate or change request they may now decide, once each; bot.stages.requests)."""
    with services.sessions.begin() as session:
        admins = admins_in(session, services.settings.admins)
        return ask_new_approvers(session, admins=admins, now=services.clock())


def find_for_edit(services: Services, key: str) -> Project | None:
    with services.sessions.begin() as session:
        return portfolio.find_project(session, key) if key else None


def save_project(
    services: Services, *, actor: str, private_metadata: str, form: ProjectForm
) -> ProjectSaved | tuple[list[FieldError], str]:
    """Add or update the project the modal describes; or the problems (and the language to
    word them in), with nothing stored."""
    project_id, language = read_metadata(private_metadata)
    if not is_admin(actor, current_admins(services)):
        return [FieldError(PROJECT_GENERAL_BLOCK, "not_allowed")], language
    now = services.clock()
    with services.sessions.begin() as session:
        current: Project | None = None
        if project_id is not None:
            # locked first, as asking and deciding a gate do: the edit is judged (the lock on
            # budget and end) and written on the project as committed, never over a gate
            # approved while the modal was open
            decisions.lock_project(session, project_id)
            current = portfolio.find_project_by_id(session, project_id)
            if current is None:
                return [FieldError(PROJECT_GENERAL_BLOCK, "not_found")], language
        spec, errors = validate_project(
            form,
            current=current,
            planning=portfolio.load_planning(session),
            staffing=portfolio.load_staffing(session),
            links=_links(session, current),
        )
        if spec is None:
            return errors, language
        if current is None and portfolio.find_project(session, spec.key) is not None:
            return [FieldError("key", "key_taken", {"key": spec.key})], language
        if current is not None:  # past its planning gate, its baseline is approved
            locked = baseline_changes(current, spec, portfolio.load_process(session))
            if locked:
                return [
                    FieldError(name, f"baseline_{name}", {"key": current.key}) for name in locked
                ], language
        before = spec_of(current) if current is not None else None
        portfolio.upsert_projects(session, [spec], now=now)
        refresh_rank_scores(session)
        saved = portfolio.find_project(session, spec.key)
        assert saved is not None  # written in this transaction
        action, changes = record_change(
            session, actor=actor, at=now, project_id=saved.id, before=before, after=spec
        )
        if action == "closed":  # as /pmo project close: what waits is asked no more
            withdraw_stale(session, actor=actor, now=now, project_ids=[saved.id])
        elif current is not None and changes:  # a new sponsor, or one who may now see it
            admins = admins_in(session, services.settings.admins)
            ask_new_approvers(session, admins=admins, now=now, project_ids=[saved.id])
    return ProjectSaved(saved, action, changes, language)


def _links(session: Session, current: Project | None) -> Links:
    """Every other stored project's dependencies, and every project's milestone names (the
    edited project's own dependencies come from the modal)."""
    projects = portfolio.list_projects(session)
    others = [p for p in projects if current is None or p.id != current.id]
    held = items.list_milestones(session, [p.id for p in projects])
    keys = {p.id: p.key for p in projects}
    return Links(
        needs={p.key: p.depends_on for p in others},
        milestones={keys[pid]: [m.name for m in found] for pid, found in held.items()},
    )


# --- closing ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Closed:
    project: Project
    markdown: str
    language: str
    informed: tuple[str, ...] = ()  # who will get the closing summary (not the record)

    @property
    def filename(self) -> str:
        return f"{self.project.key}-record.md"


def is_archived(session: Session, project: Project) -> bool:
    """Closed, and archived since it was closed (a reopened project may be closed again)."""
    if project.state is not ProjectState.CLOSED or project.closed_at is None:
        return False
    return archives.archived_since(session, project.id, project.closed_at)


def find_for_close(services: Services, key: str) -> tuple[Project | None, bool]:
    """The project to close, and whether it is already closed and archived."""
    with services.sessions.begin() as session:
        project = portfolio.find_project(session, key) if key else None
        return project, project is not None and is_archived(session, project)


def close_project(
    services: Services,
    *,
    actor: str,
    private_metadata: str,
    summary: str | None,
    lessons: str | None,
) -> Closed | tuple[list[FieldError], str]:
    """Close the project, record it, build and keep its full record; or the problems (and the
    language to word them in), with nothing changed."""
    project_id, language = read_metadata(private_metadata)
    admins = current_admins(services)
    if not is_admin(actor, admins):
        return [FieldError(CLOSE_GENERAL_BLOCK, "not_allowed")], language
    texts = {"summary": (summary or "").strip(), "lessons": (lessons or "").strip()}
    errors = [FieldError(name, "required") for name, text in texts.items() if not text]
    errors += [
        FieldError(name, "too_long", {"limit": MAX_CLOSING_TEXT})
        for name, text in texts.items()
        if len(text) > MAX_CLOSING_TEXT
    ]
    if errors:
        return errors, language
    now = services.clock()
    with services.sessions.begin() as session:
        if project_id:
            decisions.lock_project(session, project_id)  # a gate asked meanwhile is withdrawn
        current = portfolio.find_project_by_id(session, project_id) if project_id else None
        if current is None:
            return [FieldError(CLOSE_GENERAL_BLOCK, "not_found")], language
        if is_archived(session, current):
            return [FieldError(CLOSE_GENERAL_BLOCK, "archived")], language
        before = spec_of(current)
        after = replace(before, state=ProjectState.CLOSED)
        portfolio.upsert_projects(session, [after], now=now)
        audit.record(
            session,
            actor=actor,
            at=now,
            action="closed",
            project_id=current.id,
            changes=diff(before, after),
        )
        session.flush()
        # a closed project is asked nothing more: its pending gate or change is withdrawn
        withdraw_stale(session, actor=actor, now=now, project_ids=[current.id])
        closed = portfolio.find_project_by_id(session, current.id)
        assert closed is not None
        markdown = build_record(
            session,
            closed,
            summary=texts["summary"],
            lessons=texts["lessons"],
            closed_by=actor,
            closed_at=now,
            words=services.renderer.words(language),
        )
        archives.save_archive(
            session,
            project_id=closed.id,
            closed_by=actor,
            closed_at=now,
            summary=texts["summary"],
            lessons=texts["lessons"],
            markdown=markdown,
        )
        told = tell_informed(session, closed, admins=admins, now=now)
    return Closed(closed, markdown, language, told)


def tell_informed(
    session: Session, project: Project, *, admins: Collection[str], now: datetime
) -> tuple[str, ...]:
    """Queue the closing summary (a short DM, sent in working hours, once) to each person the
    project's roles name accountable or informed, but the PM and the admins: they get the
    whole record. Who will get it."""
    told = [
        (user, role)
        for user, role in kept_informed(project).items()
        if user != project.pm and user not in admins
    ]
    deliveries.enqueue(
        session,
        [
            Claim(
                DeliveryKind.CLOSING_SUMMARY,
                f"{user}:closed:{project.id}",
                now,  # the closing's time: closed again later, told again
                project_id=project.id,
                payload={"user": user, "role": role},
            )
            for user, role in told
        ],
        now=now,
    )
    return tuple(user for user, _ in told)


def build_record(
    session: Session,
    project: Project,
    *,
    summary: str,
    lessons: str,
    closed_by: str,
    closed_at: datetime,
    words: Mapping[str, Any],
) -> str:
    """Gather everything stored about the project and write its Markdown record."""
    found = reports.latest_reports(session, [project.id], per_project=1_000_000)
    risks = items.all_risks(session, project.id)
    blockers = items.all_blockers(session, project.id)
    milestones = items.list_milestones(session, [project.id]).get(project.id, [])
    history = audit.project_changes(session, project.id, limit=1_000_000)
    created_at = portfolio.project_created_at(session, project.id)
    asked = decisions.of_projects(session, [project.id])
    actions = decisions.actions_of(session, project_ids=[project.id])
    requests = stages.requests_of(session, [project.id])
    baselines = stages.baselines_of(session, [project.id])
    people = {project.pm, project.sponsor, closed_by, *project.delegates}
    people |= {d.decided_by for d in asked if d.decided_by} | {a.owner for a in actions}
    people |= {r.requested_by for r in requests} | {r.decided_by for r in requests if r.decided_by}
    people |= {b.recorded_by for b in baselines}
    people |= {r.submitted_by for r in found.get(project.id, [])}
    people |= {e.actor for e in history}
    people |= {r.owner for r in risks if r.owner} | {b.unblocker for b in blockers if b.unblocker}
    known = users.find_users(session, [p for p in people if is_user_id(p)])
    names = {uid: user.name for uid, user in known.items() if user.name}
    return archive.project_record(
        project=project,
        reports=found.get(project.id, []),
        risks=risks,
        blockers=blockers,
        milestones=milestones,
        changes=history,
        decisions=asked,
        actions=actions,
        requests=requests,
        baselines=baselines,
        summary=summary,
        lessons=lessons,
        closed_by=closed_by,
        closed_at=closed_at,
        created_at=created_at,
        names=names,
        words=words,
    )


def send_record(services: Services, closed: Closed) -> tuple[list[str], list[str]]:
    """Upload the record to the PM's and every admin's DM; who got it, and who could not get
    it (logged: the closing stands whatever Slack says)."""
    words = services.renderer.words(closed.language)["projects"]["archive"]
    key = closed.project.key
    recipients = [closed.project.pm]
    recipients += sorted(current_admins(services) - {closed.project.pm})
    sent: list[str] = []
    failed: list[str] = []
    for user_id in recipients:
        try:
            with services.sessions.begin() as session:
                cached = users.find_users(session, [user_id]).get(user_id)
            channel = dm_channel(
                services.sessions, services.gateway, cached, user_id, now=services.clock()
            )
            services.gateway.upload_file(
                channel=channel,
                thread_ts=None,
                filename=closed.filename,
                content=closed.markdown.encode("utf-8"),
                title=str(words["file_title"]) % {"key": key},
                alt_text=str(words["alt_text"]) % {"key": key},
            )
            sent.append(user_id)
        except SlackError as exc:
            log.warning("could not send %s's record to %s: %s", key, user_id, exc)
            failed.append(user_id)
    return sent, failed
