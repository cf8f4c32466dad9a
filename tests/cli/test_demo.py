"""`pmo-bot demo` (sample portfolio, history, digest) and the Block Kit → terminal text view."""

from __future__ import annotations

import io
import json
import re
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from PIL import Image
from slack_sdk.models.blocks import Block

from bot.cli.demo import run_demo
from bot.cli.main import run
from bot.cli.textview import RULE, THREAD_LINE, blocks_to_text, messages_to_text, mrkdwn_to_text
from bot.config import load_settings
from bot.digest.chart import HEIGHT_PX, WIDTH_PX
from bot.render import Message
from tests.unit.steering.test_workbook import SHEETS

NAMES = {"U0PM00001": "Claire Dubois"}
# The demo is pinned to a Sunday: its digest is then that of Friday 20 November 2026.
AT = "2026-11-22T12:00:00+00:00"
J = "d.json"


def _demo(tmp_path: Path, environ: dict[str, str] | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = run(
        [
            "demo",
            "--at",
            AT,
            "--db",
            str(tmp_path / "d.sqlite"),
            "--json",
            str(tmp_path / J),
            "--chart",
            str(tmp_path / "c.png"),
            "--xlsx",
            str(tmp_path / "p.xlsx"),
        ],
        environ=environ or {},
        stdout=out,
        stderr=err,
    )
    return status, out.getvalue(), err.getvalue()


def _entry(text: str, key: str) -> str:
    """A project's first entry in the digest (its rating emoji, then *KEY* ·) up to the next
    blank line."""
    (start,) = [m.start() for m in re.finditer(rf"^\S+ \*{key}\* · ", text, re.M)][:1]
    return text[start : text.index("\n\n", start)]


def _flat(text: str) -> str:
    """Terminal text without its line wrapping."""
    return re.sub(r"\n(?!\n) *", " ", text)


def _section(text: str, title: str) -> str:
    """A section of the channel message, from its title to the next rule."""
    start = text.index(title)
    return text[start : text.index(RULE, start)]


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str, str, Path]:
    folder = tmp_path_factory.mktemp("demo")
    status, out, err = _demo(folder)
    return status, out, err, folder


def test_demo_shows_the_digest_with_each_rating_and_the_missing_reports(
    demo_run: tuple[int, str, str, Path],
) -> None:
    status, out, err, folder = demo_run
    assert (status, err) == (0, "")
    assert str(folder / "d.sqlite") in out.splitlines()[0]
    main, _, thread = out.partition(THREAD_LINE)
    assert (
        "🔴 *2 red* (+1)   🟠 *2 amber* (−2)   🟢 *5 green*   ⚪ *2 not reported* (+2), 2 stale"  # noqa: RUF001
        "   ⏸ 1 on hold" in main
    )
    attention = _section(main, "*Needs your attention* (9)")
    for key, emoji in [
        ("ATLAS", "🔴"),
        ("PAYROLL", "🔴"),
        ("EINV", "⚪"),  # its report missing, its planning gate waiting nine days
        ("DCEXIT", "🟠"),
        ("MOBILE", "🟢"),
        ("DATA", "🟢"),
        ("TREASURY", "🟢"),
        ("WEB", "🟠"),
    ]:
        assert _entry(attention, key).startswith(f"{emoji} *{key}* ·")
    # CRM, with nothing of its own (waiting on the data platform, at risk), comes last: in
    # the thread, its dependency in its section
    assert "🟢 *CRM* ·" not in attention and "+1 more in the thread" in attention
    crm = _flat(_section(main, "*Dependencies at risk* (2)"))
    assert "• *CRM* needs *DATA* (its end) by Fri 26 Mar 2027: expected" in crm
    assert "+28 days — late" in crm
    einv = _flat(_entry(attention, "EINV"))
    assert "E-invoicing compliance — no report this period, stale since Thu 19 Nov 2026" in einv
    assert "⏳ Gate *planning → execution* asked 9 days ago, waiting on @Nadia Petrova and" in einv
    assert "the PMO admins" in einv
    atlas = _flat(_entry(attention, "ATLAS"))
    assert "🔽 worse (was Amber)" in atlas and "🙋 *Asks for help* by Wed 25 Nov 2026" in atlas
    assert "🆕 1 new blocker: Lyon data owners" in atlas and "📆 forecast end slipped" in atlas
    assert "_PM Claire Dubois · 66% complete · priority 1_" in atlas
    assert "🔼 better (was Amber)" in _entry(thread, "CRM")
    assert "first report" in _entry(thread, "ONBOARD")
    missing = _section(main, "*Missing and stale reports* (2)")
    assert "*EINV* · E-invoicing compliance — PM @Rachel Goldberg · ⚠️ stale since" in missing
    assert "⏳" not in missing  # its gate is said once, in "Needs your attention"
    assert "*WMS* · Warehouse management upgrade — PM @Priya Raman · ⚠️ stale since" in missing
    assert "⏸ On hold: FLEET" in missing
    assert "⏸ *FLEET* · Fleet telematics rollout\n⏸ On hold" in thread
    assert "<@" not in out and "<!date" not in out and ":red_circle:" not in out
    assert str(folder / "d.json") in out and "Block Kit Builder" in out and "pmo-bot serve" in out


def test_demo_writes_the_chart_with_its_money_panel_and_the_steering_pack(
    demo_run: tuple[int, str, str, Path],
) -> None:
    _, out, _, folder = demo_run
    assert f"The chart posted with it: {folder / 'c.png'}" in out
    assert f"`/pmo export xlsx`): {folder / 'p.xlsx'}" in out
    with Image.open(folder / "c.png") as chart:
        assert chart.width == WIDTH_PX and chart.height > HEIGHT_PX  # with its money panel
    book = openpyxl.load_workbook(folder / "p.xlsx")
    # the demo runs a delivery process: its gates and baselines have their sheets
    assert book.sheetnames == [*SHEETS, "Changes", "Baselines"]
    keys = [row[0].value for row in book["Projects"].iter_rows(min_row=2)]
    assert len(keys) == 12 and "FLEET" in keys  # every open project, the one on hold too
    budget = [c.value for c in book["Budget"]["A"]]
    assert "By portfolio" in budget and budget[-1] == "All projects"


def test_demo_shows_every_section_and_every_flag(demo_run: tuple[int, str, str, Path]) -> None:
    _, out, _, _ = demo_run
    main, _, thread = (_flat(part) for part in out.partition(THREAD_LINE))
    assert "in brackets: the change since the digest of Fri 13 Nov 2026" in main
    risks = _section(main, "*Top risks* (")
    assert "1. *25* · *ATLAS* · Go-live slips past the Q3 close (P5 × I5)" in risks  # noqa: RUF001
    assert "probability →" in risks and "impact 5" in risks and "```" not in risks
    blockers = _section(main, "*Blockers asking for leadership help* (3)")
    assert "who can unblock: Nadia Petrova · 8 days old" in blockers
    deadlines = _section(main, "*Milestones and end dates*")
    assert "⚠️ *ATLAS* · Dress rehearsal passed — due Wed 11 Nov 2026, 9 days late" in deadlines
    assert "⌛ *TREASURY* · target end date — Fri 13 Nov 2026, 7 days ago" in deadlines
    assert "📆 *WMS* · Rotterdam go-live — due Mon 23 Nov 2026, in 3 days" in deadlines
    assert "*Participation*: 82% of the expected reports received (9 of 11)" in main
    good = main[main.index("*Good news*") :]
    assert "🟢 *CRM* · CRM rollout (Salesforce) is back to green (was Amber)" in good
    assert "🎉 *TREASURY* · milestone reached: UAT signed off" in good
    for reason in (
        "🚩 92% of the budget spent for 74% complete",
        "🚩 Rated green with an open risk scored 15: App store rules",
        "🚩 Same report copied (“No change”) for 3 periods in a row",
        "🚩 Percent complete stuck at 57% for 4 periods",
        "🚩 Rated green, but its target end date (Fri 13 Nov 2026) has passed",
    ):
        assert reason in main and reason in thread, reason
    # issue 17: the phases, the gate waiting on its sponsor, the project without a plan
    assert "🚦 *Phases*: initiation 1 · planning 1 · execution 10" in main
    assert "1 waiting at a gate (oldest 9 days)" in main
    assert "🚩 No approved plan: its planning gate was never approved" in main
    # the thread: every project's full report
    assert thread.count(THREAD_LINE) == 1  # two replies
    for key in ("ATLAS", "PAYROLL", "DCEXIT", "CRM", "ONBOARD", "EINV", "WMS", "FLEET"):
        assert f"*{key}* · " in thread
    raw_thread = out.partition(THREAD_LINE)[2]
    assert "budget spent €1,704,000 of €2,400,000 (71%)" in _flat(_entry(raw_thread, "ATLAS"))
    assert "*Open risks* (3), by probability × impact" in thread  # noqa: RUF001
    assert "✅ Cutover plan signed off — reached" in thread
    assert "_The last report, of the period of Thu 12 Nov 2026: not current._" in thread


def test_demo_writes_the_digest_as_valid_block_kit_json(
    demo_run: tuple[int, str, str, Path],
) -> None:
    _, _, _, folder = demo_run
    raw = (folder / "d.json").read_text(encoding="utf-8")
    blocks = json.loads(raw)["blocks"]
    assert 10 < len(blocks) <= 50
    parsed = Block.parse_all(blocks)
    assert None not in parsed
    assert [block.to_dict() for block in parsed] == blocks  # to_dict validates each block
    assert "<@U0DEMOPM10>" in raw  # the PMs of missing reports are mentioned


def test_user_text_is_escaped_in_slack_and_readable_in_the_terminal(
    demo_run: tuple[int, str, str, Path],
) -> None:
    _, out, _, folder = demo_run
    raw = (folder / "d.json").read_text(encoding="utf-8")
    assert "Wave 5 &lt;trading &amp; mainframe&gt; migrated" in raw
    assert "<trading & mainframe>" not in raw
    assert "Wave 5 <trading & mainframe> migrated" in out and "&amp;" not in out
    assert "Joint R&D <-> vendor workshop" in out  # in the thread


def test_demo_recreates_its_database_when_run_again(
    demo_run: tuple[int, str, str, Path],
) -> None:
    _, _, _, folder = demo_run
    with sqlite3.connect(folder / "d.sqlite") as conn:
        reports = conn.execute("select count(*) from status_reports").fetchone()[0]
        conn.execute("create table leftover (x)")
    conn.close()
    status, again, err = _demo(folder)
    assert (status, err) == (0, "")
    with sqlite3.connect(folder / "d.sqlite") as conn:
        tables = {row[0] for row in conn.execute("select name from sqlite_master")}
        assert conn.execute("select count(*) from status_reports").fetchone()[0] == reports
    conn.close()
    assert "leftover" not in tables
    assert "*Missing and stale reports* (2)" in again


@pytest.mark.parametrize("content", [b"my notes", b""], ids=["text file", "other database"])
def test_demo_never_replaces_a_file_it_did_not_make(tmp_path: Path, content: bytes) -> None:
    target = tmp_path / "d.sqlite"
    if content:
        target.write_bytes(content)
    else:  # a real database, made by someone else
        with sqlite3.connect(target) as conn:
            conn.execute("create table precious (x)")
        conn.close()
    before = target.read_bytes()
    status, out, err = _demo(tmp_path)
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and str(target) in err and "not a database made by" in err
    assert target.read_bytes() == before


def test_demo_names_a_missing_folder_in_one_line(tmp_path: Path) -> None:
    status, _, err = _demo(tmp_path / "nowhere")
    assert status == 2 and err.count("\n") == 1 and "--db" in err and "does not exist" in err
    out = io.StringIO()
    status = run(
        ["demo", "--db", str(tmp_path / "d.sqlite"), "--json", str(tmp_path)],
        environ={},
        stdout=out,
        stderr=(err_io := io.StringIO()),
    )
    assert status == 2 and "--json" in err_io.getvalue() and "is a folder" in err_io.getvalue()
    assert not (tmp_path / "d.sqlite").exists()  # checked before any work


def test_demo_refuses_a_bad_at_in_one_line(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    status = run(
        ["demo", "--db", str(tmp_path / "d.sqlite"), "--at", "next friday"],
        environ={},
        stdout=out,
        stderr=err,
    )
    assert (status, out.getvalue()) == (2, "")
    assert err.getvalue().count("\n") == 1 and "--at 'next friday'" in err.getvalue()
    assert not (tmp_path / "d.sqlite").exists()


@pytest.mark.parametrize("tz", ["UTC", "Pacific/Auckland", "America/Los_Angeles"])
def test_demo_digest_is_the_latest_friday_digest_and_is_reproducible(
    tmp_path: Path, tz: str
) -> None:
    settings = load_settings({"PMO_TIMEZONE": tz})
    now = datetime(2026, 3, 27, 12, 0, tzinfo=UTC)  # Friday, across US daylight-saving start
    outputs = []
    for run_number in range(2):
        out = io.StringIO()
        status = run_demo(
            settings,
            db_path=tmp_path / f"{run_number}.sqlite",
            json_path=tmp_path / f"{run_number}.json",
            out=out,
            now=now,
        )
        assert status == 0
        outputs.append(
            out.getvalue().replace(f"{run_number}.sqlite", "").replace(f"{run_number}.json", "")
        )
    assert outputs[0] == outputs[1]
    # 12:00 UTC is already Saturday in Auckland, and still Friday morning in Los Angeles
    day = {"UTC": "Fri 20 Mar", "Pacific/Auckland": "Fri 27 Mar"}.get(tz, "Fri 20 Mar")
    assert f"Portfolio digest · {day} 2026" in outputs[0]
    assert "🔴 *2 red* (+1)   🟠 *2 amber* (−2)   🟢 *5 green*   ⚪ *2 not reported*" in outputs[0]  # noqa: RUF001


# --- Block Kit → text ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mrkdwn", "text"),
    [
        ("PM: <@U0PM00001>", "PM: @Claire Dubois"),
        ("PM: <@U0UNKNOWN>", "PM: @U0UNKNOWN"),
        ("<@U0UNKNOWN|sam>", "@sam"),
        (
            "before <!date^1795190400^{date_short_pretty} {time}|2026-11-20 16:00 UTC>",
            "before 2026-11-20 16:00 UTC",
        ),
        ("see <https://example.com/a?b=1&amp;c=2|the plan>", "see the plan"),
        ("<https://example.com>", "https://example.com"),
        ("in <#C0LEADERS|leaders>, <!here>", "in #leaders, @here"),
        ("R&amp;D &lt;-&gt; vendor", "R&D <-> vendor"),
        ("&amp;lt;", "&lt;"),
        ("&lt;@U0PM00001&gt; typed by a user", "<@U0PM00001> typed by a user"),
        (":red_circle: :large_orange_circle: :large_green_circle: :white_circle:", "🔴 🟠 🟢 ⚪"),
        (":double_vertical_bar: :arrow_down_small: :arrow_up_small:", "⏸ 🔽 🔼"),
        ("a :sparkles: at 10:00:00", "a :sparkles: at 10:00:00"),
        (":tada: :warning: :triangular_flag_on_post:", "🎉 ⚠️ 🚩"),
        ("grid:\n```\n 1  2\n```", "grid:\n 1  2\n"),
        ("x:red_circle::large_green_circle:", "x🔴🟢"),
        ("*bold* stays", "*bold* stays"),
    ],
)
def test_mrkdwn_reads_as_slack_shows_it(mrkdwn: str, text: str) -> None:
    assert mrkdwn_to_text(mrkdwn, names=NAMES) == text


def test_blocks_become_terminal_text() -> None:
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": "Digest & more"}},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": ":red_circle: *ATLAS*"},
            "fields": [
                {"type": "mrkdwn", "text": "PM <@U0PM00001>"},
                {"type": "plain_text", "text": "a &amp; b"},
            ],
        },
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "12 &gt; 11"}]},
        {"type": "divider"},
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": "Open"},
                    "action_id": "a",
                },
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": "Skip"},
                    "action_id": "b",
                },
            ],
        },
    ]
    assert blocks_to_text(blocks, names=NAMES, width=20).splitlines() == [
        "Digest & more",
        "=============",
        "🔴 *ATLAS*",
        "PM @Claire Dubois",
        "a &amp; b",  # plain_text is shown literally by Slack
        "  12 > 11",
        "",
        "─" * 20,
        "[ Open ] [ Skip ]",
    ]


def test_context_is_dimmed_for_a_terminal_and_long_lines_wrap() -> None:
    context = [{"type": "context", "elements": [{"type": "mrkdwn", "text": "note"}]}]
    assert blocks_to_text(context, names={}, dim=True) == "\x1b[2m  note\x1b[0m"
    bullet = [{"type": "section", "text": {"type": "mrkdwn", "text": "• " + "word " * 8}}]
    assert blocks_to_text(bullet, names={}, width=22).splitlines() == [
        "• word word word word",
        "  word word word word",
    ]


def test_thread_replies_follow_a_separator() -> None:
    def message(text: str) -> Message:
        return Message(
            text=text, blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
        )

    text = messages_to_text([message("first"), message("second")], names={})
    assert text.splitlines() == ["first", "", THREAD_LINE, "", "second"]
    assert messages_to_text([message("only")], names={}) == "only"
