"""Rendering: every value users typed is escaped, and every output is valid Block Kit that
fits Slack's limits, for hostile and for maximal inputs."""

from __future__ import annotations

import dataclasses
import functools
import importlib
import json
import logging
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot import ids
from bot.delivery.composers import FailureLine
from bot.digest.compose import compose_digest
from bot.digest.messages import MAX_MESSAGE_JSON, digest_messages, message_size
from bot.digest.model import THREAD_SHOWN, Digest
from bot.lookup.listing import FIXED_FILTERS, ListedProject
from bot.render import (
    BUILTIN_TEMPLATES,
    MAX_BLOCKS_PER_MESSAGE,
    Renderer,
    RenderError,
    clip,
    clip_plain,
    mention,
    slack_escape,
    split_blocks,
)
from bot.reporting.answers import MAX_NOTE
from bot.reporting.form import FieldError
from bot.slash.lookups import LISTED
from bot.slash.subscriptions import MAX_LISTED
from storage.records import Blocker, Milestone, Project, ProjectState, Report, Risk, SkipReason
from tests import factories
from tests.rendering import contexts_digest

UTC_ZONE = ZoneInfo("UTC")
AT = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)  # Friday, after Thursday 19th's prompts
THIS_PERIOD = datetime(2026, 11, 19, 10, 0, tzinfo=UTC)
LAST_PERIOD = THIS_PERIOD - timedelta(days=7)
PM = "U0PM00001"

HOSTILE = {
    "channel": "<!channel> look",
    "here": "<!here|here> & <!everyone>",
    "user": "hi <@U123> and <@W123|bob>",
    "link": "<https://evil.example|click> me",
    "amp": 'Tom & Jerry\'s "R&D" <b>',
    "backslash": 'C:\\temp\\new \\u0041 \\" end\\',
    "newlines": "line one\nline two\r\n\ttabbed\n",
    "markup": "*bold* _it_ ~strike~ `code` ```block``` > quote",
    "emoji": "launch 🚀 — naïve café 漢字 :tada: \u200b\U0001f469\u200d\U0001f4bb",
    "braces": '{{ 7*7 }} {% if %} {# x #} }}"]',
    "long": ("<!channel> & <@U123> " * 200)[:3000],
    "long_plain": "x" * 3000,
}
# Raw control sequences that must never reach Slack from user text.
FORBIDDEN = ("<!channel>", "<!here", "<!everyone>", "<@U123>", "<@W123", "<https://evil")
# Tokens our own code builds: a mention of a checked user id, date tokens, and a web link
# (bot.render.slack_link: nothing in it can end it early or open another).
ALLOWED_TOKEN = re.compile(
    r"<@[UW][A-Z0-9]{2,30}>|<!date\^\d+\^[^|>]*\|[^>]*>|<https?://[^\s<>|]+\|[^\s<>|]+>"
)


@functools.cache
def renderer() -> Renderer:
    """The built-in templates, compiled once for this module's tests (rendering reads them and
    changes nothing, as `pmo-bot serve` has one renderer for its whole life)."""
    return Renderer()


def template_names() -> list[str]:
    """Every template name, in any language."""
    return sorted({name for _, name in templates()})


def templates() -> list[tuple[str, str]]:
    """(language, name) of every built-in template file: each language's own are checked."""
    return sorted(
        (p.parent.name, p.name.removesuffix(".json.j2"))
        for p in BUILTIN_TEMPLATES.glob("*/*.json.j2")
    )


def more_contexts(text: str) -> dict[str, list[dict[str, Any]]]:
    """Contexts contributed by `tests/rendering/contexts_*.py` modules (one per feature area), each
    with a `contexts(text)` function like the one below."""
    merged: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(Path(__file__).parent.glob("contexts_*.py")):
        module = importlib.import_module(f"tests.rendering.{path.stem}")
        for name, found in module.contexts(text).items():
            merged.setdefault(name, []).extend(found)
    return merged


# --- builders --------------------------------------------------------------------------------


def hostile_project(text: str, *, key: str = "ATLAS", id: int = 1, **kw: Any) -> Project:
    # Import limits names to 200 characters, portfolios to 100 and tags to 50.
    return factories.project(
        key=key,
        id=id,
        name=text[:200],
        pm=PM,
        sponsor="U0SPONS001",
        portfolio=text[:100],
        tags=(text[:50],),
        **kw,
    )


def hostile_report(
    text: str,
    *,
    project_id: int = 1,
    period_start: datetime = THIS_PERIOD,
    overall: str = "red",
    items: int = 3,
    item_length: int = 500,
    **kw: Any,
) -> Report:
    item = text[:item_length]
    values: dict[str, Any] = {
        "summary": text,
        "path_to_green": text,
        "accomplishments": text,
        "next_steps": text,
        "help_needed": text,
        "risks": (item,) * items,
        "blockers": (item,) * items,
        "percent_complete": 42,
        "forecast_end": date(2027, 6, 30),
    }
    values.update(kw)
    return factories.report(project_id, period_start, overall, **values)


def hostile_digest(text: str, *, mention_pms: bool = True) -> Digest:
    key = "DG-"
    projects = [
        hostile_project(text, key=f"{key}R", id=1),
        hostile_project(text, key=f"{key}A", id=2),
        hostile_project(text, key=f"{key}G", id=3),
        hostile_project(text, key=f"{key}M", id=4),
        hostile_project(text, key=f"{key}N", id=5),
        hostile_project(text, key=f"{key}H", id=6, state=ProjectState.ON_HOLD),
        hostile_project(text, key=f"{key}S", id=7),  # skipped this period
        hostile_project(text, key=f"{key}C", id=8),  # "No change" copy of last period's report
        # closed this period, with and without a report; closed before: not shown
        hostile_project(text, key=f"{key}X", id=9, state=ProjectState.CLOSED, closed_at=AT),
        hostile_project(text, key=f"{key}Y", id=10, state=ProjectState.CLOSED, closed_at=AT),
        hostile_project(
            text, key=f"{key}Z", id=11, state=ProjectState.CLOSED, closed_at=LAST_PERIOD
        ),
    ]
    copied = hostile_report(text, project_id=8, overall="amber", period_start=LAST_PERIOD)
    history = {
        1: [
            hostile_report(text, project_id=1, overall="red"),
            hostile_report(text, project_id=1, overall="green", period_start=LAST_PERIOD),
        ],
        2: [
            hostile_report(text, project_id=2, overall="amber"),
            hostile_report(text, project_id=2, overall="red", period_start=LAST_PERIOD),
        ],
        3: [hostile_report(text, project_id=3, overall="green")],
        4: [hostile_report(text, project_id=4, overall="amber", period_start=LAST_PERIOD)],
        5: [],
        6: [hostile_report(text, project_id=6, overall="green", period_start=LAST_PERIOD)],
        7: [hostile_report(text, project_id=7, overall="amber", period_start=LAST_PERIOD)],
        8: [factories.copy_of(copied, THIS_PERIOD), copied],
        9: [hostile_report(text, project_id=9, overall="red", period_start=LAST_PERIOD)],
        11: [hostile_report(text, project_id=11, overall="red", period_start=LAST_PERIOD)],
    }
    skips = {(7, THIS_PERIOD): factories.skip(7, THIS_PERIOD, "other", text[:MAX_NOTE])}
    sub = factories.subscription(mention_pms=mention_pms)
    return compose_digest(
        sub, projects, history, {}, {PM: text[:80]}, at=AT, default_tz=UTC_ZONE, skips=skips
    )


def contexts(text: str) -> dict[str, list[dict[str, Any]]]:
    """Every template with every user-text field set to `text`, within the limits import and
    validation enforce (keys 20, names 200, list items 500, Slack names 80 characters)."""
    key = text.strip()[:20] or "ATLAS"
    project = hostile_project(text, key=key)
    report = hostile_report(text)
    digest = hostile_digest(text)
    rows = [
        ListedProject(project, report),
        ListedProject(hostile_project(text, key=key, id=2), None),
    ]
    errors = [
        FieldError("overall", "required"),
        FieldError("schedule", "invalid_rating"),
        FieldError("summary", "too_long", {"limit": 3000}),
        FieldError("path_to_green", "path_required"),
        FieldError("forecast_end", "invalid_date"),
        FieldError("percent_complete", "invalid_percent"),
        FieldError("risks", "too_many_items", {"limit": 20}),
        FieldError("blockers", "item_too_long", {"limit": 500}),
        FieldError("budget", "not_allowed"),
        FieldError("scope", "not_found"),
        FieldError("help_needed", "summary_required"),
    ]
    modal = {
        "project": project,
        "period_start": date(2026, 11, 19),
        "period_end": date(2026, 11, 26),
        "previous": report,
        "forecast_end": date(2027, 6, 30),
        "metadata": json.dumps({"delivery": 7}),
        "callback_id": "submit_report",
    }
    period = {
        "project": project,
        "period_start": date(2026, 11, 19),
        "period_end": date(2026, 11, 26),
    }
    plain_report = hostile_report(
        text, overall="green", path_to_green=None, help_needed=None, risks=(), blockers=()
    )
    skip_errors = [
        FieldError("reason", "reason_required"),
        FieldError("reason", "invalid_reason"),
        FieldError("note", "note_required"),
        FieldError("note", "note_too_long", {"limit": MAX_NOTE}),
        FieldError("reason", "already_reported", {"report": report}),
        FieldError("reason", "not_allowed"),
        FieldError("reason", "not_found"),
    ]
    skip_modal = {
        **period,
        "skip": factories.skip(reason="other", note=text[:MAX_NOTE]),
        "reasons": list(SkipReason),
        "max_note": MAX_NOTE,
        "metadata": json.dumps({"delivery": 7}),
        "callback_id": "skip.submit",
    }
    return {
        "answer_refused": [
            {**period, "reason": "already_reported", "report": report},
            {**period, "reason": "nothing_to_copy", "report": None},
        ],
        "no_change_modal": [
            {
                **period,
                "source": report,
                "source_start": date(2026, 11, 12),
                "metadata": json.dumps({"delivery": 7, "source": 3}),
                "callback_id": "no_change.confirm",
            },
            {
                **period,
                "period_end": None,
                "source": plain_report,
                "source_start": date(2026, 11, 12),
                "metadata": "{}",
                "callback_id": "no_change.confirm",
            },
        ],
        "no_change_refused": [
            {"reason": reason, "project": project}
            for reason in ("not_allowed", "already_reported", "nothing_to_copy", "stale")
        ]
        + [{"reason": "not_found", "project": None}],
        "no_change_saved": [
            {
                **period,
                "report": factories.copy_of(report, THIS_PERIOD),
                "source_start": date(2026, 11, 12),
            }
        ],
        "skip_errors": [
            {"errors": skip_errors, "project": project},
            {"errors": skip_errors[:1], "project": None},
        ],
        "skip_modal": [skip_modal, {**skip_modal, "skip": None}],
        "skip_saved": [
            {**period, "skip": factories.skip(reason="other", note=text[:MAX_NOTE])},
            {**period, "skip": factories.skip(reason="project_paused")},
        ],
        "denied": [
            {"reason": "not_allowed", "project": project},
            {"reason": "not_found", "project": None},
        ],
        "digest": [{"digest": digest}, {"digest": hostile_digest(text, mention_pms=False)}],
        "digest_continued": [{"digest": digest, "part": 2, "parts": 3}],
        "digest_more": [{"digest": digest, "more": 12}],
        "help": [{"unknown": text}, {"unknown": None}],
        "home": [{"rows": rows}, {"rows": []}],
        "list": [{"rows": rows, "shown": MAX_LISTED}, {"rows": [], "shown": MAX_LISTED}],
        "modal_errors": [{"errors": errors, "project": project}],
        "not_found": [
            {"key": text, "suggestions": (project, hostile_project(text, key="X" + key[:19]))},
            {"key": "", "suggestions": ()},
        ],
        "prompt": [
            {
                "project": project,
                "period_start": date(2026, 11, 19),
                "period_end": date(2026, 11, 26),
                "delivery_id": 7,
                "action_id": "open_report",
            }
        ],
        "report_modal": [modal, {**modal, "previous": None, "forecast_end": None}],
        "report_saved": [
            {"project": project, "report": report, "period_start": date(2026, 11, 19)}
        ],
        "status": [
            {"project": project, "report": report},
            {
                "project": project,
                "report": hostile_report(
                    text,
                    overall="green",
                    path_to_green=None,
                    help_needed=None,
                    risks=(),
                    blockers=(),
                ),
            },
            {"project": project, "report": None},
        ],
        "reminder": [
            {
                "project": project,
                "period_start": date(2026, 11, 19),
                "prompt_id": 7,
                "action_id": "open_report",
            }
        ],
        "escalation": [
            {"project": project, "periods": [date(2026, 11, 5), date(2026, 11, 12)]},
        ],
        "late_report": [
            {"project": project, "report": report, "period_start": date(2026, 11, 19)},
            {
                "project": project,
                "report": dataclasses.replace(report, copied_from_id=3),
                "period_start": date(2026, 11, 19),
            },
        ],
        "failure_summary": [
            {
                "failures": [
                    FailureLine("prompt", key, text[:2000]),
                    FailureLine("digest", "C0LEADERS", "chat.postMessage: channel_not_found"),
                ]
                * 12,
                "since": datetime(2026, 11, 19, 9, 0, tzinfo=UTC),
            },
            {
                "failures": [FailureLine("late_report", key, text[:2000])],
                "since": datetime(2026, 11, 19, 9, 0, tzinfo=UTC),
            },
        ],
    }


# --- checks ----------------------------------------------------------------------------------


def walk(value: Any, plain: bool = False) -> Iterator[tuple[str, bool]]:
    """Every string in a rendered value, with whether Slack shows it as plain text (a
    plain_text object's text, and an input's initial value, which the user edits as is)."""
    if isinstance(value, dict):
        is_plain = value.get("type") == "plain_text"
        for name, item in value.items():
            yield from walk(item, plain or (is_plain and name == "text") or name == "initial_value")
    elif isinstance(value, list):
        for item in value:
            yield from walk(item, plain)
    elif isinstance(value, str):
        yield value, plain


def assert_escaped(rendered: Any) -> None:
    for text, plain in walk(rendered):
        if plain:
            # Slack shows plain_text literally: entities there would show as "&amp;".
            assert not re.search(r"&(amp|lt|gt);", text), text[:200]
            continue
        for bad in FORBIDDEN:
            assert bad not in text, f"{bad!r} survived in {text[:200]!r}"
        rest = ALLOWED_TOKEN.sub("", text)
        assert "<" not in rest and ">" not in rest, f"raw angle bracket in {text[:200]!r}"


def assert_section_limits(blocks: list[dict[str, Any]]) -> None:
    for block in blocks:
        kind = block["type"]
        if kind == "section":
            if "text" in block:
                size = len(block["text"]["text"])
                assert size <= 3000, f"section of {size}"
            fields = block.get("fields", [])
            assert len(fields) <= 10
            assert all(len(f["text"]) <= 2000 for f in fields)
        elif kind == "header":
            assert len(block["text"]["text"]) <= 150
        elif kind == "context":
            assert len(block["elements"]) <= 10
            assert all(len(e.get("text", "")) <= 3000 for e in block["elements"])


def assert_valid_message(message: dict[str, Any]) -> None:
    assert isinstance(message["text"], str) and message["text"].strip()
    assert len(message["text"]) <= 4000, f"message text of {len(message['text'])}"
    blocks = message.get("blocks", [])
    assert len(blocks) <= MAX_BLOCKS_PER_MESSAGE
    assert_section_limits(blocks)
    parsed = Block.parse_all(blocks)
    assert len(parsed) == len(blocks)
    for raw, block in zip(blocks, parsed, strict=True):
        assert block is not None, f"unknown block type {raw.get('type')!r}"
        block.to_dict()  # runs slack_sdk's validators


def assert_valid_view(view: dict[str, Any]) -> None:
    View(**view).to_dict()
    assert len(view["blocks"]) <= 100
    assert_section_limits(view["blocks"])


@pytest.fixture
def no_ignored_fields(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """slack_sdk logs (at debug level) the fields it does not know: a typo in a template."""
    caplog.set_level(logging.DEBUG, logger="slack_sdk.models")
    yield
    ignored = [r.getMessage() for r in caplog.records if "were ignored" in r.getMessage()]
    assert not ignored, ignored


def check(name: str, rendered: Any) -> None:
    assert_escaped(rendered)
    if name in ("modal_errors", "skip_errors", "decision_errors"):
        assert isinstance(rendered, dict) and rendered
        assert all(isinstance(v, str) and v for v in rendered.values())
    elif name in (
        "report_modal",
        "home",
        "no_change_modal",
        "no_change_refused",
        "skip_modal",
        "decision_modal",
        "decision_result",
    ):
        assert_valid_view(rendered)
    elif name in ("stage_gate_modal", "stage_change_modal", "stage_decision_modal", "stage_result"):
        # modals whose description (`text`) bot/stages/surface.py removes before Slack sees them
        assert_valid_view({key: value for key, value in rendered.items() if key != "text"})
    elif name == "digest":
        pytest.fail("digests are checked message by message")
    else:
        assert_valid_message(rendered)


# --- every template, hostile text ------------------------------------------------------------


@functools.cache
def all_contexts(text: str) -> dict[str, list[dict[str, Any]]]:
    """Every template's hostile contexts, built once per text for the many (language, template)
    pairs that read them; rendering changes no context."""
    merged = contexts(text)
    for name, found in more_contexts(text).items():
        merged[name] = merged.get(name, []) + found
    return merged


def test_every_template_has_a_hostile_context_here() -> None:
    assert set(all_contexts("x")) == set(template_names())


@pytest.mark.usefixtures("no_ignored_fields")
@pytest.mark.parametrize("hostile", list(HOSTILE), ids=list(HOSTILE))
@pytest.mark.parametrize(
    ("language", "name"), templates(), ids=[f"{lang}/{n}" for lang, n in templates()]
)
def test_every_template_escapes_user_text_and_is_valid_block_kit(
    language: str, name: str, hostile: str
) -> None:
    text = HOSTILE[hostile]
    r = renderer()
    for context in all_contexts(text)[name]:
        if name == "digest":
            rendered = r.render("digest", language, **context)
            assert_escaped(rendered)
            for message in digest_messages(r, context["digest"]):
                assert_valid_message({"text": message.text, "blocks": message.blocks})
                assert message_size(message.blocks) <= MAX_MESSAGE_JSON
        else:
            check(name, r.render(name, language, **context))


@pytest.mark.parametrize(
    "name",
    [
        "prompt",
        "status",
        "report_saved",
        "not_found",
        "no_change_modal",
        "skip_saved",
        "reminder",
        "escalation",
        "late_report",
        "failure_summary",
    ],
)
def test_hostile_text_arrives_escaped_not_dropped(name: str) -> None:
    text = "R&D <!channel> ok"
    context = contexts(text)[name][0]
    dump = json.dumps(renderer().render(name, **context), ensure_ascii=False)
    assert "R&amp;D &lt;!channel&gt; ok" in dump


def test_status_header_is_plain_text_shown_literally() -> None:
    project = factories.project(key="RND", name='R&D <beta> "x"')
    rendered = renderer().render("status", project=project, report=None)
    header = rendered["blocks"][0]
    assert header == {
        "type": "header",
        "text": {"type": "plain_text", "text": 'RND · R&D <beta> "x"'},
    }


def test_modal_labels_are_plain_text_not_entity_escaped() -> None:
    context = contexts("A & B")["report_modal"][0]
    view = renderer().render("report_modal", **context)
    labels = [b["label"]["text"] for b in view["blocks"] if b["type"] == "input"]
    assert "Help needed from leadership" in labels
    for text, plain in walk(view):
        if plain:
            assert "&amp;" not in text and "&lt;" not in text
    assert view["title"] == {"type": "plain_text", "text": "Status report"}
    assert json.loads(view["private_metadata"]) == {"delivery": 7}


# --- maximal inputs --------------------------------------------------------------------------

MAX_TEXT = ("<!channel> & <@U123> *x* " * 200)[:3000]
MAX_ITEM = ("&<>" * 200)[:500]


def max_report(project_id: int, overall: str, period_start: datetime = THIS_PERIOD) -> Report:
    return factories.report(
        project_id,
        period_start,
        overall,
        summary=MAX_TEXT,
        path_to_green=MAX_TEXT,
        help_needed=MAX_TEXT,
        accomplishments=MAX_TEXT,
        next_steps=MAX_TEXT,
        risks=(MAX_ITEM,) * 20,
        blockers=(MAX_ITEM,) * 20,
        percent_complete=100,
        forecast_end=date(2027, 12, 31),
    )


def max_project(index: int, **kw: Any) -> Project:
    return factories.project(
        key=f"P-{index:04d}",
        id=index,
        name=("N&<" * 100)[:200],
        pm=f"U{index:09d}",
        portfolio="Operations",
        tags=("erp",),
        priority=1 + index % 5,
        **kw,
    )


def max_records(index: int) -> dict[str, Any]:
    """As many risks, blockers and milestones as the modal and the file allow, maximal."""
    at = LAST_PERIOD - timedelta(days=30)
    risks = [
        Risk(
            id=index * 100 + i,
            project_id=index,
            title=MAX_ITEM,
            probability=1 + i % 5,
            impact=5 - i % 5,
            owner=("&" * 200) if i % 2 else f"U{index:09d}",
            mitigation=MAX_TEXT,
            opened_period=at,
            opened_at=at,
            updated_at=at,
        )
        for i in range(20)
    ]
    blockers = [
        Blocker(
            id=index * 100 + i,
            project_id=index,
            title=MAX_ITEM,
            unblocker="<&>" * 66,
            needs_leadership=True,
            raised_period=THIS_PERIOD,
            raised_at=at,
            updated_at=at,
        )
        for i in range(20)
    ]
    milestones = [
        Milestone(
            id=index * 100 + i,
            project_id=index,
            name=("&<" * 100)[:197] + f"{i:03d}",
            due=date(2026, 11, 1) + timedelta(days=i),
            done_on=date(2026, 11, 19) if i % 3 == 0 else None,
        )
        for i in range(50)
    ]
    return {"risks": risks, "blockers": blockers, "milestones": milestones}


def assert_digest_messages(r: Renderer, digest: Digest, messages: list[Any]) -> None:
    """Every message is valid Block Kit within Slack's limits (blocks, and the whole message's
    size); the thread holds the full report of each of its projects (THREAD_SHOWN at most),
    whole, in exactly one reply, and no other; past that, its last reply says how many more."""
    for message in messages:
        payload = {"text": message.text, "blocks": message.blocks}
        assert_valid_message(payload)
        assert_escaped(payload)
        assert message_size(message.blocks) <= MAX_MESSAGE_JSON
    # Where each block of each reply is: a report is held where its first block is and the
    # blocks after it are its own, in order.
    replies = [[_canonical(block) for block in m.blocks] for m in messages[1:]]
    found: dict[str, list[tuple[int, int]]] = {}
    for index, reply in enumerate(replies):
        for position, block in enumerate(reply):
            found.setdefault(block, []).append((index, position))

    def holders(blocks: list[Any]) -> set[int]:
        wanted = [_canonical(block) for block in blocks]
        return {
            index
            for index, position in found.get(wanted[0], [])
            if replies[index][position : position + len(wanted)] == wanted
        }

    thread = digest.thread_list
    for index, line in enumerate(digest.lines):
        language = digest.subscription.language
        report = r.render("digest_project", language, digest=digest, line=line)
        compact = r.render("digest_project", language, digest=digest, line=line, compact=True)
        holding = holders(report["blocks"]) | holders(compact["blocks"])
        wanted = 1 if index < len(thread.shown) else 0
        assert len(holding) == wanted, f"{line.project.key} in replies {sorted(holding)}"
    if thread.more:  # "4,684 more projects", "4 684 autres projets"
        last = re.sub(r"(?<=\d)[\s,.\u202f\u00a0](?=\d)", "", messages[-1].text)
        assert f" {thread.more} " in last and "/pmo list" in json.dumps(messages[-1].blocks)


def _canonical(block: Any) -> str:
    return json.dumps(block, ensure_ascii=False, sort_keys=True)


def maximal_portfolio(size: int) -> dict[str, Any]:
    projects, history, records = [], {}, {"risks": {}, "blockers": {}, "milestones": {}}
    for index in range(1, size + 1):
        bucket = index % 10
        if bucket == 9:
            projects.append(max_project(index, state=ProjectState.ON_HOLD))
            history[index] = [max_report(index, "red", LAST_PERIOD)]
            continue
        projects.append(max_project(index, budget=Decimal(1000), end=date(2026, 11, 1)))
        for name, found in max_records(index).items():
            records[name][index] = found
        if bucket == 8:  # missing, last known report a week older
            history[index] = [max_report(index, "amber", LAST_PERIOD)]
        elif bucket == 7:  # never reported
            history[index] = []
        else:
            overall = ("red", "amber", "green")[bucket % 3]
            previous = ("green", "red", "amber")[bucket % 3]
            history[index] = [max_report(index, overall), max_report(index, previous, LAST_PERIOD)]
    names = {p.pm: f"Firstname Lastname-{p.key} " + "ä" * 55 for p in projects}  # 80 long
    names |= {f"U{i:09d}": "&" * 80 for i in range(1, size + 1)}
    return {"projects": projects, "history": history, "names": names, **records}


def test_digest_of_500_maximal_projects_is_one_main_message_and_a_packed_thread_of_100() -> None:
    portfolio = maximal_portfolio(500)
    previous = {
        "version": 1,
        "at": (AT - timedelta(days=7)).isoformat(),
        "counts": {"red": 400, "amber": 10, "green": 0, "missing": 90},
        "participation": {"received": 1, "expected": 3},
        "projects": {p.key: "green" for p in portfolio["projects"]},
    }
    r = renderer()
    for mention_pms, language in ((True, "en"), (False, "fr")):
        sub = factories.subscription(mention_pms=mention_pms, language=language)
        digest = compose_digest(
            sub,
            portfolio["projects"],
            portfolio["history"],
            {},
            portfolio["names"],
            at=AT,
            default_tz=UTC_ZONE,
            risks=portfolio["risks"],
            blockers=portfolio["blockers"],
            milestones=portfolio["milestones"],
            previous=previous,
        )
        assert digest.counts.total == 500
        messages = digest_messages(r, digest)
        assert len(messages[0].blocks) <= MAX_BLOCKS_PER_MESSAGE
        assert len(messages) > 2
        assert digest.thread_list.more == 500 - THREAD_SHOWN
        # the thread's projects are the first of the digest's order: attention first
        attention = {line.project.key for line in digest.attention}
        assert [ln.project.key in attention for ln in digest.thread_list.shown] == sorted(
            (ln.project.key in attention for ln in digest.thread_list.shown), reverse=True
        )
        assert_digest_messages(r, digest, messages)


def test_digest_stays_valid_when_a_pm_display_name_is_full_of_characters_to_escape() -> None:
    # One PM with ten missing projects, whose Slack display name (80 characters, Slack's
    # maximum) is all ampersands: each escapes to five characters.
    projects = [factories.project(key=f"MISS-{i:02d}", id=i, name="n" * 200) for i in range(10)]
    digest = compose_digest(
        factories.subscription(mention_pms=False),
        projects,
        {},
        {},
        {PM: "&" * 80},
        at=AT,
        default_tz=UTC_ZONE,
    )
    for message in digest_messages(renderer(), digest):
        assert_valid_message({"text": message.text, "blocks": message.blocks})


def test_status_of_a_maximal_report_fits_slack_limits() -> None:
    project = max_project(1)
    rendered = renderer().render("status", project=project, report=max_report(1, "red"))
    assert_escaped(rendered)
    assert_valid_message(rendered)


def test_status_with_20_plain_risks_of_500_characters_fits_slack_limits() -> None:
    # validate_report accepts up to 20 risks and 20 blockers of up to 500 characters each.
    report = factories.report(risks=("r" * 500,) * 20, blockers=("b" * 500,) * 20)
    rendered = renderer().render("status", project=factories.project(), report=report)
    assert_valid_message(rendered)


def test_status_lists_risks_and_blockers_as_bullets_or_says_none() -> None:
    report = factories.report(risks=("Vendor <late>", "Budget & scope"), blockers=())
    rendered = renderer().render("status", project=factories.project(), report=report)
    texts = [b["text"]["text"] for b in rendered["blocks"] if "text" in b]
    assert "*Risks*\n• Vendor &lt;late&gt;\n• Budget &amp; scope" in [t.rstrip() for t in texts]
    assert "*Blockers*\nNone reported" in [t.rstrip() for t in texts]


def test_report_modal_for_a_maximal_previous_report_is_a_valid_view() -> None:
    context = {
        **contexts("x")["report_modal"][0],
        "project": max_project(1),
        "previous": max_report(1, "red"),
    }
    assert_valid_view(renderer().render("report_modal", **context))


def test_no_change_modal_for_a_maximal_report_is_a_valid_view() -> None:
    context = {**contexts("x")["no_change_modal"][0], "project": max_project(1)}
    context["source"] = max_report(1, "red")
    rendered = renderer().render("no_change_modal", **context)
    assert_escaped(rendered)
    assert_valid_view(rendered)


def test_digest_of_many_maximal_skipped_and_closed_projects_splits_into_valid_messages() -> None:
    note = ("&<>" * 200)[:MAX_NOTE]
    projects, history, skips = [], {}, {}
    for index in range(1, 301):
        if index % 3 == 0:  # closed this period, with a maximal last report
            projects.append(max_project(index, state=ProjectState.CLOSED, closed_at=AT))
            history[index] = [max_report(index, "red", LAST_PERIOD)]
            continue
        projects.append(max_project(index))
        if index % 3 == 1:  # skipped, with the longest note
            history[index] = [max_report(index, "amber", LAST_PERIOD)]
            skips[(index, THIS_PERIOD)] = factories.skip(index, THIS_PERIOD, "other", note)
        else:  # a "No change" copy
            source = max_report(index, "amber", LAST_PERIOD)
            history[index] = [factories.copy_of(source, THIS_PERIOD), source]
    names = {p.pm: "ä&" * 40 for p in projects}  # 80 long
    digest = compose_digest(
        factories.subscription(),
        projects,
        history,
        {},
        names,
        at=AT,
        default_tz=UTC_ZONE,
        skips=skips,
    )
    assert (digest.counts.skipped, digest.counts.closed, len(digest.attention)) == (100, 100, 100)
    messages = digest_messages(renderer(), digest)
    assert len(messages) > 1
    for message in messages:
        payload = {"text": message.text, "blocks": message.blocks}
        assert_valid_message(payload)
        assert_escaped(payload)


def test_prompt_offers_submit_first_then_no_change_and_skip_with_the_delivery_id() -> None:
    # Rendered with what the tick passes: the quick answers' ids come from the template.
    context = contexts("x")["prompt"][0]
    actions = renderer().render("prompt", **context)["blocks"][-1]
    assert actions["type"] == "actions"
    buttons = [(b["action_id"], b["text"]["text"], b["value"]) for b in actions["elements"]]
    assert buttons == [
        (context["action_id"], "Submit status", "7"),
        (ids.NO_CHANGE, "No change", "7"),
        (ids.SKIP_PERIOD, "Skip this period", "7"),
    ]


def test_skip_modal_prefills_an_existing_skip_with_its_note_shown_literally() -> None:
    context = contexts("R&D <!channel> ok")["skip_modal"][0]
    view = renderer().render("skip_modal", **context)
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    radio = blocks["reason"]["element"]
    assert radio["initial_option"] in radio["options"]
    assert radio["initial_option"]["value"] == "other"
    assert [o["value"] for o in radio["options"]] == ["on_leave", "project_paused", "other"]
    assert blocks["note"]["element"]["initial_value"] == "R&D <!channel> ok"
    assert blocks["note"]["element"]["max_length"] == MAX_NOTE
    assert json.loads(view["private_metadata"]) == {"delivery": 7}
    empty = renderer().render("skip_modal", **{**context, "skip": None})
    empty_blocks = {b.get("block_id"): b for b in empty["blocks"]}
    assert "initial_option" not in empty_blocks["reason"]["element"]
    assert "initial_value" not in empty_blocks["note"]["element"]


def test_list_of_as_many_maximal_projects_as_listed_fits_in_one_message() -> None:
    rows = [
        ListedProject(max_project(i), max_report(i, "amber") if i % 2 else None)
        for i in range(1, MAX_LISTED + 101)
    ]
    rendered = renderer().render("list", rows=rows, shown=MAX_LISTED)
    assert_escaped(rendered)
    assert_valid_message(rendered)
    assert "100 more" in rendered["blocks"][-1]["elements"][0]["text"]


@pytest.mark.parametrize("language", ["en", "fr"])
def test_list_given_the_rows_shown_counts_from_the_total(language: str) -> None:
    # /pmo list hands over only the rows shown, and how many the filter kept
    rows = [ListedProject(max_project(i), max_report(i, "red")) for i in range(LISTED)]
    rendered = renderer().render(
        "list", language, rows=rows, total=5000, shown=LISTED, filter=FIXED_FILTERS[0]
    )
    assert_valid_message(rendered)
    assert "(5,000)" in rendered["blocks"][0]["text"]["text"].replace("\u202f", ",")
    more = rendered["blocks"][-1]["elements"][0]["text"].replace("\u202f", ",")
    assert f"{5000 - LISTED:,}" in more


@pytest.mark.parametrize(
    ("language", "count", "wanted", "expected"),
    [
        ("en", 5000, "", "Preparing the export of 5,000 projects; the file follows here."),
        ("en", 250, "Ops", "Preparing the export of 250 projects matching *Ops*; the file"),
        ("en", None, "red", "Preparing the export of the projects matching *red*; the file"),
        ("fr", 5000, "", "Préparation de l\u2019export de 5 000 projets ; le fichier suit ici."),
        ("fr", 250, "Ops", "Préparation de l\u2019export de 250 projets correspondant à *Ops* ;"),
        ("fr", None, "red", "Préparation de l\u2019export des projets correspondant à *red* ;"),
        ("en", 250, "Ops", "Preparing the steering pack of 250 open projects matching *Ops*"),
        ("fr", 250, "", "Préparation du dossier de pilotage de 250 projets en cours ;"),
    ],
)
def test_export_notice_says_how_many_projects_are_coming_or_which(
    language: str, count: int | None, wanted: str, expected: str
) -> None:
    rendered = renderer().render(
        "export",
        language,
        outcome="preparing",
        count=count,
        wanted=wanted,
        workbook="steering" in expected or "pilotage" in expected,
    )
    assert_valid_message(rendered)
    assert rendered["response_type"] == "ephemeral"
    text = rendered["blocks"][0]["text"]["text"].replace("\u202f", " ").replace("\xa0", " ")
    assert expected in text
    # the notification's text too gives the number, or none
    assert any(c.isdigit() for c in rendered["text"]) is (count is not None)


def test_home_with_many_maximal_projects_is_a_valid_view() -> None:
    rows = [ListedProject(max_project(i), max_report(i, "green")) for i in range(1, 121)]
    rendered = renderer().render("home", rows=rows)
    assert_escaped(rendered)
    assert_valid_view(rendered)


def test_home_with_40_projects_with_plain_long_names_is_a_valid_view() -> None:
    # A PM with 40 projects; names are up to 200 characters.
    rows = [
        ListedProject(
            factories.project(key=f"PROJECT-{i:02d}", id=i, name="n" * 200), factories.report(i)
        )
        for i in range(40)
    ]
    assert_valid_view(renderer().render("home", rows=rows))


def test_not_found_with_maximal_query_and_suggestions_fits() -> None:
    rendered = renderer().render(
        "not_found", key=MAX_TEXT, suggestions=tuple(max_project(i) for i in range(1, 4))
    )
    assert_escaped(rendered)
    assert_valid_message(rendered)


# --- slack_escape, clip, mention, split_blocks -----------------------------------------------


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("plain", "plain"),
        ("<!channel>", "&lt;!channel&gt;"),
        ("a & b", "a &amp; b"),
        ("&lt;", "&amp;lt;"),  # typed entities stay visible as typed
        ("<@U123|x>", "&lt;@U123|x&gt;"),
        ("\"quotes\" 'and' \\ *_~`", "\"quotes\" 'and' \\ *_~`"),
        ("", ""),
    ],
)
def test_slack_escape_escapes_exactly_the_three_control_characters(text: str, escaped: str) -> None:
    assert slack_escape(text) == escaped


TRICKY = [
    "",
    "a",
    "&",
    "<>",
    "&&&&&&&&&&",
    "<<<<<>>>>>",
    "a&b<c>d" * 10,
    "   &  ",
    "word " * 30,
    "🚀" * 40,
    "é&é<é>" * 10,
    "x" * 100,
    "&x" * 50,
    "\n\n&\n\n" * 10,
    "a" * 9 + "&" + "b" * 50,
]


@pytest.mark.parametrize("text", TRICKY, ids=range(len(TRICKY)))
def test_clip_never_exceeds_its_limit_once_escaped(text: str) -> None:
    for limit in range(1, 80):
        clipped = clip(text, limit)
        assert len(slack_escape(clipped)) <= limit, (limit, clipped)
        if len(slack_escape(text)) <= limit:
            assert clipped == text
        else:
            assert clipped.endswith("…")
            assert text.startswith(clipped[:-1])


def test_clip_accepts_none_and_non_text() -> None:
    assert clip(None, 10) == ""
    assert clip(12345, 3) == "12…"


@pytest.mark.parametrize("text", TRICKY, ids=range(len(TRICKY)))
def test_clip_plain_never_exceeds_its_limit(text: str) -> None:
    for limit in range(1, 80):
        clipped = clip_plain(text, limit)
        assert len(clipped) <= limit
        assert clipped == text or clipped.endswith("…")


@pytest.mark.parametrize(
    ("user_id", "expected"),
    [
        ("U012ABCDEF", "<@U012ABCDEF>"),
        ("W0ENTERPRISE", "<@W0ENTERPRISE>"),
        ("U012>|<!channel", "U012&gt;|&lt;!channel"),
        ("<!channel>", "&lt;!channel&gt;"),
        ("u012abcdef", "u012abcdef"),
        ("", "?"),
    ],
)
def test_mention_only_builds_markup_for_real_user_ids(user_id: str, expected: str) -> None:
    assert mention(user_id) == expected


def test_crafted_pm_id_cannot_inject_markup_into_a_rendered_message() -> None:
    project = factories.project(pm="U1>|<!channel")
    rendered = renderer().render("status", project=project, report=None)
    assert_escaped(rendered)


def test_split_blocks_never_exceeds_the_limit_and_keeps_every_block_in_order() -> None:
    blocks = []
    for i in range(237):
        blocks.append(
            {"type": "divider"}
            if i % 7 == 0
            else {"type": "section", "text": {"type": "mrkdwn", "text": str(i)}}
        )
    chunks = split_blocks(blocks)
    assert all(0 < len(chunk) <= 50 for chunk in chunks)
    assert [b for chunk in chunks for b in chunk] == blocks


def test_split_blocks_does_not_end_a_message_on_a_header_or_divider() -> None:
    section = {"type": "section", "text": {"type": "mrkdwn", "text": "s"}}
    blocks = [section] * 48 + [{"type": "divider"}, {"type": "header", "text": {}}] + [section] * 5
    chunks = split_blocks(blocks)
    assert [len(c) for c in chunks] == [48, 7]
    assert chunks[1][0]["type"] == "divider"


def test_split_blocks_leaves_a_short_list_alone() -> None:
    blocks = [{"type": "divider"}] * 3
    assert split_blocks(blocks) == [blocks]
    assert split_blocks([]) == []


# --- custom templates ------------------------------------------------------------------------


def test_custom_template_dir_overrides_a_built_in_template(tmp_path: Path) -> None:
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "help.json.j2").write_text(
        '{"text": "Custom help for {{ unknown }}", "blocks": []}', encoding="utf-8"
    )
    custom = Renderer(tmp_path)
    assert custom.render("help", unknown="<x>") == {
        "text": "Custom help for &lt;x&gt;",
        "blocks": [],
    }
    # Templates it does not override still come from the built-in set.
    assert custom.render("not_found", key="ZZ", suggestions=())["text"] == "No project ZZ"
    assert Renderer().render("help", unknown=None)["text"] == "PMO Bot commands"


def test_missing_language_falls_back_to_english() -> None:
    assert renderer().render("help", "xx", unknown=None) == renderer().render("help", unknown=None)


def test_check_all_accepts_the_built_in_templates() -> None:
    renderer().check_all()


def test_check_all_reports_a_broken_custom_template_with_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "status.json.j2").write_text(
        '{\n  "text": "fine",\n  "blocks": [{% if %}]\n}\n', encoding="utf-8"
    )
    with pytest.raises(RenderError) as raised:
        Renderer(tmp_path).check_all()
    message = str(raised.value)
    assert "status.json.j2" in message
    assert "line 3" in message


def test_render_names_a_custom_template_that_produces_invalid_json(tmp_path: Path) -> None:
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "help.json.j2").write_text('{"text": {{ unknown }}}', encoding="utf-8")
    with pytest.raises(RenderError) as raised:
        Renderer(tmp_path).render("help", unknown="oops")
    assert "help.json.j2" in str(raised.value)


def test_render_names_the_template_when_a_value_is_missing() -> None:
    with pytest.raises(RenderError) as raised:
        renderer().render("prompt")
    assert "prompt.json.j2" in str(raised.value)


# --- the checks above catch what they are meant to catch -------------------------------------


@pytest.mark.parametrize(
    "payload",
    [
        {"text": "hello <!channel>"},
        {"blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "<@U123> hi"}}]},
        {"text": "a <https://evil.example|click>"},
        {"text": "a <b>"},
        {"blocks": [{"type": "header", "text": {"type": "plain_text", "text": "R&amp;D"}}]},
    ],
)
def test_escape_check_rejects_raw_markup(payload: dict[str, Any]) -> None:
    with pytest.raises(AssertionError):
        assert_escaped(payload)


def test_escape_check_allows_our_own_tokens() -> None:
    assert_escaped(
        {
            "text": "<@U0PM00001> on <!date^1763546400^{date_short}|2026-11-19>",
            "blocks": [{"type": "header", "text": {"type": "plain_text", "text": "R&D <x>"}}],
        }
    )


@pytest.mark.parametrize(
    "blocks",
    [
        [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}],
        [{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}],
        [{"type": "section", "fields": [{"type": "mrkdwn", "text": "x"}] * 11}],
        [{"type": "divider"}] * 51,
        [{"type": "no_such_block"}],
    ],
    ids=["section", "header", "fields", "count", "unknown-type"],
)
def test_message_check_rejects_what_slack_would_reject(blocks: list[dict[str, Any]]) -> None:
    with pytest.raises(Exception):  # noqa: B017 - AssertionError or slack_sdk's formation error
        assert_valid_message({"text": "t", "blocks": blocks})


def test_message_check_rejects_a_long_fallback_text() -> None:
    with pytest.raises(AssertionError):
        assert_valid_message({"text": "x" * 4001, "blocks": []})


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_risk_heatmap_keeps_its_columns_when_counts_reach_hundreds(language: str) -> None:
    # At 5,000 projects a cell holds hundreds of risks: "impact 5474619722538356" read as one
    # number before the columns widened with the largest count.
    digest = dataclasses.replace(
        contexts_digest.full_digest("x", language=language),
        heatmap=((326, 320, 256, 89, 28),) * 4 + ((474, 619, 1722, 538, 0),),
    )
    rendered = json.dumps(renderer().render("digest", language, digest=digest))
    grid = json.loads(rendered)["blocks"]
    text = next(b["text"]["text"] for b in grid if "```" in b.get("text", {}).get("text", ""))
    rows = text.split("```")[1].strip("\n").split("\n")[1:]  # the header of columns, then 5 rows
    assert rows[0].split() == ["1", "2", "3", "4", "5"]
    assert rows[1].split()[-5:] == ["474", "619", "1722", "538", "·"]
    ends = {len(row) for row in rows}
    assert len(ends) == 1, rows  # every column right-aligned under its number


def test_a_rank_score_or_payback_is_written_to_a_tenth() -> None:
    from bot.priorities.ranking import rank
    from storage.records import Criterion, Planning

    criteria = (Criterion("value", Decimal(100), Decimal(1), Decimal(4)),)
    project = factories.project(
        "ATLAS",
        scores=(("value", Decimal(2)),),
        budget=Decimal(300),
        benefits=((2027, Decimal(900)),),
    )
    ranking = rank([project], Planning(criteria))
    rendered = renderer().render(
        "rank",
        "en",
        lines=ranking.lines,
        total=1,
        under_water=0,
        ranking=ranking,
        criteria=criteria,
        group=None,
        unknown=None,
        portfolios=[],
        currency=None,
        withheld=0,
    )
    text = rendered["blocks"][1]["text"]["text"]
    assert "score 33.3 ·" in text and "paid back in 0.3 years" in text  # 100 / 3, 300 / 900
