"""`pmo-bot demo --projects N --weeks W`: the demo at your scale. A generated portfolio of N
projects with W weeks of history (`bot.cli.sample`), built in seconds, and the digest
leadership would get from it, as `pmo-bot demo` shows the scripted one.

Where it is built, and what it may replace:

- in SQLite (`--db FILE`, default pmo-demo.sqlite), with the scripted demo's rule: a file is
  replaced only when an earlier demo made it (PRAGMA application_id);
- in PostgreSQL when DATABASE_URL names one and `--db` is not given, only if that database
  holds no project yet: a real portfolio is never written into, let alone wiped. The check
  reads and changes nothing; the build is one transaction, so a failure leaves no half.

The clock is not read here: `now` (from `--at`) and `timer` (for the times printed) come from
the command line.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TextIO

from sqlalchemy import Engine

from bot.cli.arguments import DEMO_DB, UsageError
from bot.cli.demo import (
    BLOCK_KIT_BUILDER,
    check_file_name,
    digest_at,
    open_demo_database,
    prepare_files,
    write_json,
)
from bot.cli.sample import Sample, build_sample
from bot.cli.textview import DEFAULT_WIDTH, RULE, messages_to_text
from bot.config import Settings, redact_url
from bot.digest.messages import digest_messages
from bot.digest.model import THREAD_SHOWN
from bot.digest.selection import digest_zone
from bot.render import Message, Renderer
from storage.db import count_projects, make_engine, make_sessionmaker, upgrade

SHOWN_REPLIES = 2  # a thread this short is printed whole; a longer one is counted


@dataclass(frozen=True, slots=True)
class _Target:
    engine: Engine
    where: str  # for people: the file, or the URL without its password
    url: str  # for `pmo-bot digest preview`, password masked


def run_scaled_demo(
    settings: Settings,
    *,
    projects: int,
    weeks: int,
    db_path: Path | None,
    json_path: Path,
    out: TextIO,
    now: datetime,
    timer: Callable[[], float],
) -> int:
    """Build the generated portfolio as if the time were `now`, print what was built, how long
    it took, and the digest; write the digest's Block Kit JSON to `json_path`."""
    target = _target(settings, db_path, json_path)
    try:
        started = timer()
        with make_sessionmaker(target.engine).begin() as session:
            sample = build_sample(
                session, projects=projects, weeks=weeks, now=now, default_tz=settings.timezone
            )
        built = timer()
        with make_sessionmaker(target.engine).begin() as session:
            digest = digest_at(session, sample.subscription, sample.moment, settings)
        messages = digest_messages(Renderer(settings.templates_dir), digest)
        shown = timer()
    finally:
        target.engine.dispose()
    write_json(json_path, messages[0])
    _show(
        out,
        sample,
        messages,
        settings=settings,
        target=target,
        json_path=json_path,
        weeks=weeks,
        seconds=(built - started, shown - built),
    )
    return 0


def is_postgresql(url: str) -> bool:
    """Whether a DATABASE_URL names PostgreSQL (with or without its driver)."""
    return url.split(":", 1)[0].split("+", 1)[0] == "postgresql"


def _target(settings: Settings, db_path: Path | None, json_path: Path) -> _Target:
    """Where to build: a PostgreSQL DATABASE_URL that holds no project (when `--db` is not
    given), else the SQLite file. Checked before any work; nothing is changed on a refusal."""
    url = settings.database_url
    if db_path is not None or not is_postgresql(url):
        path = db_path or DEMO_DB
        prepare_files(path, json_path)
        return _Target(open_demo_database(path), str(path), f"sqlite:///{path}")
    check_file_name("--json", json_path)
    try:
        engine = make_engine(url)
    except Exception as exc:  # a bad URL, an unknown driver
        raise UsageError(f"DATABASE_URL={redact_url(url)!r}: {exc}") from None
    try:
        held = count_projects(engine)
        if held:
            raise UsageError(
                f"DATABASE_URL={redact_url(url)} holds {held:,} project(s); the demo builds only "
                "in a database without projects, and never writes into a real portfolio "
                "(create an empty database for it, or use --db FILE)"
            )
        upgrade(engine)
    except BaseException:
        engine.dispose()
        raise
    return _Target(engine, redact_url(url), redact_url(url))


def _show(
    out: TextIO,
    sample: Sample,
    messages: Sequence[Message],
    *,
    settings: Settings,
    target: _Target,
    json_path: Path,
    weeks: int,
    seconds: tuple[float, float],
) -> None:
    c = sample.counts
    moment = sample.moment.astimezone(digest_zone(sample.subscription, settings.timezone))
    when = f"{moment:%a} {moment.day} {moment:%b %Y} at {moment:%H:%M} ({moment.tzinfo})"
    replies = len(messages) - 1
    shown = messages if replies <= SHOWN_REPLIES else messages[:1]
    channel = sample.subscription.channel
    lines = [
        f"PMO Bot demo: a generated portfolio of {_n(c.projects, 'project')} with "
        f"{_n(weeks, 'week')} of history, built in {target.where} in {seconds[0]:.1f} s.",
        f"- {_n(c.projects, 'project')} in {_n(c.portfolios, 'portfolio')} ({c.on_hold:,} on "
        f"hold, {c.closed:,} closed), named after real public projects; "
        f"{_n(c.pms, 'project manager')} in {_n(c.zones, 'timezone')}, "
        f"{_n(c.sponsors, 'sponsor')}",
        f"- {_n(c.reports, 'status report')} ({c.copies:,} of them “No change”), "
        f"{_n(c.skips, 'period')} skipped, {c.missed:,} not reported",
        f"- {_n(c.risks, 'risk')} ({c.open_risks:,} open), {_n(c.blockers, 'blocker')} "
        f"({c.open_blockers:,} open), {_n(c.milestones, 'milestone')} ({c.reached:,} reached)",
        f"- {_n(c.subscriptions, 'digest subscription')}, {_n(c.holidays, 'holiday')}, "
        f"{_n(c.people, 'cached Slack profile')}, "
        f"{_n(c.audit_entries, 'audit log entry', 'audit log entries')}",
        f"This is the digest channel {channel} would have received on {when} "
        f"(composed and rendered in {seconds[1]:.1f} s).",
        "Nothing was sent: the demo works offline, without Slack.",
        "",
        messages_to_text(shown, names=sample.names, width=DEFAULT_WIDTH, dim=out.isatty()),
        "",
        RULE * DEFAULT_WIDTH,
    ]
    if len(shown) < len(messages):
        lines += [
            f"Its thread holds the full reports (of {THREAD_SHOWN} projects at most, those "
            f"needing attention first) in {_n(replies, 'reply', 'replies')}, not shown here; "
            "to read them:",
            f"  DATABASE_URL={target.url} pmo-bot digest preview --channel {channel} "
            f"--at {sample.moment.isoformat()}",
        ]
    lines += [
        f"The message as Block Kit JSON: {json_path}",
        f"Paste it into Slack's Block Kit Builder ({BLOCK_KIT_BUILDER}) to see it as Slack "
        "shows it.",
    ]
    out.write("\n".join(lines) + "\n")


def _n(count: int, singular: str, plural: str | None = None) -> str:
    """`count` things, in words: 1 sponsor, 1,667 project managers."""
    return f"{count:,} {singular if count == 1 else plural or singular + 's'}"
