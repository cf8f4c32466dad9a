"""`pmo-bot`: the command line, and with bot/app.py the composition root.

Every error a person can fix is one line on stderr and exit status 2, never a traceback.

SIGTERM and SIGINT stop `serve` and `tick` cleanly (the handlers are installed here and nowhere
else; the product only sees a `threading.Event`): no more deliveries are leased, the one in
flight is finished, the leases of the rest are handed back (pending again, due at once), every
wait for Slack's pace or Retry-After is cut short, the scheduler and the HTTP server (or the
Socket Mode connection) stop, and the process exits 0.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, NoReturn, TextIO, TypeVar

from slack_sdk import WebClient
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from bot.cli.arguments import (
    DEMO_DB,
    DEMO_PROJECTS,
    DEMO_WEEKS,
    MAX_PROJECTS,
    MAX_WEEKS,
    UsageError,
    parse_at,
    whole_number,
)
from bot.cli.heap import (
    fewer_collections,
    give_back_free_memory,
    set_aside_startup_heap,
    steady_c_heap,
)
from bot.config import ConfigError, Settings, load_settings, redact_url
from bot.operations.logs import configure_logging
from bot.portfolio.file import PortfolioError
from bot.render import Renderer, RenderError, available_languages
from bot.services import Services
from bot.slack.gateway import SlackError
from bot.slack.pacing import Pacer
from bot.slack.shared_budget import SharedBudget
from bot.slack.web_api import WebApiGateway, build_client
from storage.db import (
    SCHEMA_HEAD,
    SchemaError,
    check_schema,
    make_engine,
    make_sessionmaker,
    schema_revision,
    upgrade,
    url_password,
)

if TYPE_CHECKING:
    from slack_bolt import App

    from bot.delivery.tick import TickResult
    from bot.operations.http import WsgiApp

log = logging.getLogger("pmo_bot")
TICK_BUDGET = timedelta(seconds=55)
T = TypeVar("T")


class _Stop:
    """How the process stops. SIGTERM or SIGINT sets `event`, which the tick in progress
    watches and which cuts short every wait for Slack (see `_services`); while the main thread
    blocks in `block` (the HTTP server, Socket Mode), that wait is interrupted too, the way
    waitress itself stops on Ctrl-C. The handler runs in the main thread, between two of its
    bytecodes: the main thread never waits on `event` (the work runs in other threads), and
    a second signal does not set it again, so the handler never blocks on the event's lock."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.signal: str | None = None
        self._blocking = False

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if not self.event.is_set():
            self.signal = signal.Signals(signum).name
            self.event.set()
        if self._blocking:
            self._blocking = False
            raise KeyboardInterrupt

    @contextlib.contextmanager
    def on_signals(self) -> Iterator[_Stop]:
        """Take SIGTERM and SIGINT while inside (only the main thread may; elsewhere, e.g.
        `run` called from a test's thread, nothing is installed)."""
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        previous = {
            signum: signal.signal(signum, self._handle)
            for signum in (signal.SIGTERM, signal.SIGINT)
        }
        try:
            yield self
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def block(self, wait: Callable[[], object]) -> None:
        """Run `wait` (a server's loop) in this, the main, thread until a signal ends it."""
        try:
            self._blocking = True
            if not self.event.is_set():
                wait()
        except KeyboardInterrupt:
            pass
        finally:
            self._blocking = False
        if not self.event.is_set():  # the server ended on its own: stop the rest too
            self.event.set()

    def sleep(self, seconds: float) -> None:
        """A sleep that a stop cuts short (Slack's pace and Retry-After waits)."""
        self.event.wait(seconds)


def _in_worker(work: Callable[[], T]) -> T:
    """Run `work` in a thread of its own while the main thread waits for it, free to take
    signals (a handler that ran inside the work's own waits could deadlock on their lock)."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="pmo-bot") as pool:
        return pool.submit(work).result()


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, not argparse's usage block
        raise UsageError(f"{message} (see `pmo-bot --help`)")


def _version() -> str:
    try:
        return metadata.version("pmo-bot")
    except metadata.PackageNotFoundError:  # run from a checkout that is not installed
        return "unknown"


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="pmo-bot", description="PMO Bot: status reporting for a PMO, in Slack.")
    parser.add_argument("--version", action="version", version=f"pmo-bot {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    serve = commands.add_parser(
        "serve", help="run the bot (HTTP, or Socket Mode with SLACK_APP_TOKEN)"
    )
    serve.add_argument("--port", type=int, default=3000, help="HTTP port (default 3000)")
    serve.add_argument("--no-scheduler", action="store_true", help="do not tick every minute")
    db = commands.add_parser("db", help="database schema")
    db.add_argument(
        "action",
        choices=["upgrade", "current", "check"],
        help="upgrade: create or migrate the schema; current: print its revision; check: exit "
        "0 if it is the one this version expects, 2 otherwise",
    )
    importer = commands.add_parser("import", help="load or update the portfolio from YAML")
    importer.add_argument("file", type=Path)
    exporter = commands.add_parser(
        "export", help="write the whole portfolio in the import format (YAML; - for stdout)"
    )
    exporter.add_argument("file", help="where to write it, or - for stdout")
    export_reports = commands.add_parser(
        "export-reports", help="write every status report as CSV (UTF-8; - for stdout)"
    )
    export_reports.add_argument("file", help="where to write it, or - for stdout")
    export_xlsx = commands.add_parser(
        "export-xlsx",
        help="write the steering pack: every open project as an Excel workbook (.xlsx)",
        description="Write the steering pack: every open (active or on hold) project's latest "
        "status, open risks and blockers, milestones, earned value (per project and per "
        "portfolio) and last reports, as an Excel workbook, in one sheet each.",
    )
    export_xlsx.add_argument("file", help="the workbook to write (.xlsx)")
    export_xlsx.add_argument(
        "--language",
        default="en",
        help="the language of its sheets, headers and words (default en)",
    )
    backup = commands.add_parser(
        "backup",
        help="copy the whole database to a new FILE (SQLite: online; PostgreSQL: pg_dump)",
    )
    backup.add_argument("file", type=Path, help="the backup to write (never overwritten)")
    restore = commands.add_parser(
        "restore",
        help="replace the whole database with a backup, migrated if older (stop the bot first)",
        description="Replace the whole database (DATABASE_URL) with a backup made by `pmo-bot "
        "backup`, in one transaction, then migrate it if it is older than this version. Stop "
        "the bot first. It refuses, changing nothing, a backup of the other kind of database, "
        "one from a newer version, and a database holding projects or reports unless "
        "--replace is given.",
    )
    restore.add_argument("file", type=Path, help="a file `pmo-bot backup` (or pg_dump) wrote")
    restore.add_argument(
        "--replace",
        action="store_true",
        help="restore over a database that holds projects or reports (all of it is replaced)",
    )
    purge = commands.add_parser(
        "purge",
        help="remove finished deliveries and cached Slack profiles past the retention "
        "(never reports, risks, decisions, the audit log or archives)",
    )
    purge.add_argument(
        "--older-than",
        metavar="DAYS",
        help="the retention in days (default PMO_RETENTION_DAYS, 400; at least 90)",
    )
    purge.add_argument("--dry-run", action="store_true", help="count what would go, remove nothing")
    forget = commands.add_parser(
        "forget-user",
        help="erase a person: their Slack id replaced by a pseudonym everywhere, their "
        "profile and names removed (refused while they have a role in an open project)",
    )
    forget.add_argument("user", help="their Slack user id (U…)")
    forget.add_argument(
        "--name",
        action="append",
        default=[],
        metavar="NAME",
        help="another name of theirs to take out of the archives (besides the one Slack gave)",
    )
    forget.add_argument(
        "--without-name",
        action="store_true",
        help="go on when no name of theirs is known (their id is erased, no name is looked for)",
    )
    tick = commands.add_parser("tick", help="run one scheduler cycle now, or as if at --at")
    tick.add_argument("--at", help="ISO-8601 time; without an offset, read in PMO_TIMEZONE")
    listing = commands.add_parser(
        "deliveries", help="list pending and failed deliveries, or retry failed ones"
    )
    listing.add_argument(
        "--all", action="store_true", help="also list sent and skipped ones (newest 200)"
    )
    listing.add_argument(
        "--retry", type=int, nargs="+", metavar="ID", help="send these failed deliveries again"
    )
    digest = commands.add_parser("digest", help="the portfolio digest")
    digest_actions = digest.add_subparsers(dest="action", required=True, parser_class=_Parser)
    preview = digest_actions.add_parser(
        "preview", help="print what each digest would post, without posting (needs no Slack)"
    )
    preview.add_argument("--channel", help="only the digest of this channel (default: every one)")
    preview.add_argument("--at", help="ISO-8601 time; without an offset, read in PMO_TIMEZONE")
    preview.add_argument("--format", choices=["text", "json"], default="text")
    demo = commands.add_parser(
        "demo",
        help="offline demo: sample portfolio and its digest",
        description="Without --projects and --weeks: a scripted portfolio of a dozen projects "
        "with eight weeks of history, in SQLite. With either: a generated portfolio of that "
        f"size (default {DEMO_PROJECTS} projects, {DEMO_WEEKS} weeks), the same for the same "
        "options and --at, built in SQLite (--db), or in PostgreSQL when DATABASE_URL names "
        "one and --db is not given, and only if that database holds no projects yet: "
        "otherwise it refuses (exit status 2) and changes nothing, so a real database is "
        "never written into. A --db file is replaced only when an earlier demo made it.",
    )
    demo.add_argument(
        "--db", type=Path, metavar="FILE", help="SQLite file to build in (default pmo-demo.sqlite)"
    )
    demo.add_argument(
        "--projects",
        type=whole_number(MAX_PROJECTS),
        metavar="N",
        help=f"generate a portfolio of N projects (1 to {MAX_PROJECTS:,})",
    )
    demo.add_argument(
        "--weeks",
        type=whole_number(MAX_WEEKS),
        metavar="W",
        help=f"with W weeks of status reports (1 to {MAX_WEEKS})",
    )
    demo.add_argument(
        "--json",
        type=Path,
        default=Path("pmo-demo-digest.json"),
        help="where to write the digest's Block Kit JSON",
    )
    demo.add_argument(
        "--chart",
        type=Path,
        default=Path("pmo-demo-chart.png"),
        help="where the scripted demo writes the digest's chart (PNG)",
    )
    demo.add_argument(
        "--xlsx",
        type=Path,
        default=Path("pmo-demo-steering-pack.xlsx"),
        help="where the scripted demo writes the steering pack (Excel workbook)",
    )
    demo.add_argument(
        "--at",
        help="ISO-8601 time the demo is built at (default now); without an offset, PMO_TIMEZONE",
    )
    return parser


def run(
    argv: Sequence[str],
    *,
    environ: Mapping[str, str],
    stdout: TextIO = sys.stdout,
    stderr: TextIO = sys.stderr,
) -> int:
    """Run one command; return the exit status."""
    try:
        args = _parser().parse_args(argv)
        settings = load_settings(environ)
        return _dispatch(args, settings, stdout, environ)
    except (UsageError, ConfigError, SchemaError, RenderError) as exc:
        print(f"pmo-bot: {exc}", file=stderr)
        return 2
    except PortfolioError as exc:
        print(
            f"pmo-bot: the portfolio has {len(exc.problems)} problem(s); nothing was imported:",
            file=stderr,
        )
        for problem in exc.problems:
            print(f"  - {problem}", file=stderr)
        return 2
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "unreachable"
        print(f"pmo-bot: cannot use the database: {reason}", file=stderr)
        return 2
    except SQLAlchemyError as exc:
        print(
            f"pmo-bot: database error: {type(exc).__name__}: {str(exc).splitlines()[0]}",
            file=stderr,
        )
        return 2
    except SystemExit as exc:  # --help
        return int(exc.code or 0)


def main() -> None:
    fewer_collections()  # the process's own setting: not in `run`, which tests call in theirs
    sys.exit(run(sys.argv[1:], environ=os.environ))


def _db(engine: Engine, settings: Settings, action: str, out: TextIO) -> int:
    """`db upgrade` migrates (on PostgreSQL under a lock, so that replicas may all run it at
    once); `db current` prints where the schema stands; `db check` exits 0 at head and 2 (a
    SchemaError) otherwise, for a readiness check or a deployment step."""
    where = redact_url(settings.database_url)
    if action == "upgrade":
        upgrade(engine)
        print(f"database {where} is up to date", file=out)
        return 0
    if action == "check":
        check_schema(engine)
        print(f"database {where} is at revision {SCHEMA_HEAD}, as this version expects", file=out)
        return 0
    current = schema_revision(engine)
    state = "no schema" if current is None else current
    print(f"{state} (this version expects {SCHEMA_HEAD})", file=out)
    return 0


def _engine(settings: Settings) -> Engine:
    try:
        return make_engine(settings.database_url)
    except Exception as exc:  # bad URL, unknown driver
        raise UsageError(f"DATABASE_URL={redact_url(settings.database_url)!r}: {exc}") from None


def _dispatch(
    args: argparse.Namespace, settings: Settings, out: TextIO, environ: Mapping[str, str]
) -> int:
    if args.command == "demo":
        return _demo(args, settings, out)
    engine = _engine(settings)
    if args.command == "db":
        return _db(engine, settings, args.action, out)
    if args.command == "import":
        return _import(engine, settings, args.file, out)
    if args.command == "tick":
        return _tick(engine, settings, args.at, out)
    if args.command in ("export", "export-reports"):
        return _export(engine, args.command, args.file, out)
    if args.command == "export-xlsx":
        return _export_xlsx(engine, settings, args.file, args.language, out)
    if args.command == "backup":
        from bot.cli.backup import backup_command

        return backup_command(engine, settings, args.file, environ=environ, out=out)
    if args.command == "restore":
        from bot.cli.backup import restore_command

        return restore_command(
            engine, settings, args.file, replace=args.replace, environ=environ, out=out
        )
    if args.command in ("purge", "forget-user"):
        from bot.cli.lifecycle import forget_command, purge_command

        check_schema(engine)
        sessions = make_sessionmaker(engine)
        if args.command == "purge":
            return purge_command(
                sessions,
                settings,
                older_than=args.older_than,
                dry_run=args.dry_run,
                now=datetime.now(UTC),
                out=out,
            )
        return forget_command(
            sessions,
            settings,
            args.user,
            names=args.name,
            without_name=args.without_name,
            now=datetime.now(UTC),
            out=out,
        )
    if args.command == "digest":
        from bot.cli.preview import preview_digests

        return preview_digests(
            engine,
            settings,
            channel=args.channel,
            at=args.at,
            fmt=args.format,
            out=out,
            now=datetime.now(UTC),
        )
    if args.command == "deliveries":
        from bot.cli.deliveries import list_or_retry

        check_schema(engine)
        return list_or_retry(
            make_sessionmaker(engine), settings, show_all=args.all, retry=args.retry or [], out=out
        )
    return _serve(engine, settings, args.port, not args.no_scheduler)


def _demo(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    """The scripted demo, or with --projects or --weeks the generated one (timed here)."""
    now = parse_at(args.at, settings) if args.at is not None else datetime.now(UTC)
    if args.projects is None and args.weeks is None:
        from bot.cli.demo import run_demo

        db_path = args.db or DEMO_DB
        return run_demo(
            settings,
            db_path=db_path,
            json_path=args.json,
            chart_path=args.chart,
            xlsx_path=args.xlsx,
            out=out,
            now=now,
        )
    from bot.cli.scaled_demo import run_scaled_demo

    return run_scaled_demo(
        settings,
        projects=args.projects or DEMO_PROJECTS,
        weeks=args.weeks or DEMO_WEEKS,
        db_path=args.db,
        json_path=args.json,
        out=out,
        now=now,
        timer=time.perf_counter,
    )


def _import(engine: Engine, settings: Settings, path: Path, out: TextIO) -> int:
    from bot.portfolio.importing import import_portfolio

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    check_schema(engine)
    with make_sessionmaker(engine).begin() as session:
        summary = import_portfolio(
            session,
            text,
            now=datetime.now(UTC),
            languages=available_languages(settings.templates_dir),
            configured_admins=settings.admins,
        )
    print(
        f"imported {summary.projects} project(s) ({summary.projects_changed} new or changed) and "
        f"{summary.subscriptions} digest subscription(s) ({summary.subscriptions_changed} new or "
        f"changed) from {path}",
        file=out,
    )
    return 0


def _export(engine: Engine, command: str, target: str, out: TextIO) -> int:
    """`export`: the portfolio as YAML; `export-reports`: every report as CSV, and beside it
    (FILE-decisions.csv) every decision asked of leadership with its actions (with a UTF-8
    byte order mark in a file, for spreadsheets; none on stdout, for pipes, which gets the
    reports only)."""
    from bot.portfolio.export import export_decisions, export_portfolio, export_reports
    from storage.portfolio import list_project_keys

    check_schema(engine)
    to_stdout = target == "-"
    beside: tuple[Path, str] | None = None
    with make_sessionmaker(engine).begin() as session:
        if command == "export":
            text = export_portfolio(session, now=datetime.now(UTC))
            done = f"exported {len(list_project_keys(session))} project(s)"
        else:
            text, count = export_reports(session, bom=not to_stdout)
            done = f"exported {count} report(s)"
            if not to_stdout:
                path = Path(target)
                listed, decided = export_decisions(session)
                beside = (path.with_name(f"{path.stem}-decisions{path.suffix or '.csv'}"), listed)
                done += f" to {target} and {decided} decision(s)"
    if to_stdout:
        out.write(text)
        return 0
    _write_file(Path(target), text)
    if beside is not None:
        _write_file(*beside)
        print(f"{done} to {beside[0]}", file=out)
        return 0
    print(f"{done} to {target}", file=out)
    return 0


def _export_xlsx(
    engine: Engine, settings: Settings, target: str, language: str, out: TextIO
) -> int:
    """`export-xlsx FILE`: the steering pack of every open project (bot/steering/)."""
    from bot.steering.pack import all_open_projects, steering_pack
    from bot.steering.workbook import workbook_bytes

    languages = available_languages(settings.templates_dir)
    if language not in languages:
        raise UsageError(f"unknown language {language!r}: one of {', '.join(languages)}")
    check_schema(engine)
    with make_sessionmaker(engine).begin() as session:
        pack = steering_pack(
            session, all_open_projects(session), now=datetime.now(UTC), tz=settings.timezone
        )
    words = Renderer(settings.templates_dir).words(language)
    _write_file(Path(target), workbook_bytes(pack, words, language))
    print(f"exported {len(pack.projects)} open project(s) to {target}", file=out)
    return 0


def _write_file(path: Path, content: str | bytes) -> None:
    """Write a whole file or nothing: a temporary file next to it, then renamed over it. Text
    is written in UTF-8 with its own line ends (CSV rows end in CRLF), bytes as they are."""
    if not path.name:
        raise UsageError(f"cannot write {str(path)!r}: not a file name")
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    data = content.encode("utf-8") if isinstance(content, str) else content
    try:
        temporary.write_bytes(data)
        os.replace(temporary, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None


def _services(
    engine: Engine, settings: Settings, *, token: str, stop: _Stop
) -> tuple[Services, WebClient]:
    sessions = make_sessionmaker(engine)
    # Replicas share PostgreSQL, and with it the workspace's send budget (on the epoch clock,
    # common to every host); on SQLite one process sends and keeps it in memory.
    shared = engine.dialect.name == "postgresql"
    pacer = Pacer(
        post_per_second=settings.send_rate,
        post_min_per_second=settings.send_rate_min,
        post_max_per_second=settings.send_rate_max,
        budget=SharedBudget(sessions, settings.send_rate) if shared else None,
        clock=time.time if shared else time.monotonic,
        sleep=stop.sleep,
    )
    client = build_client(
        token=token, base_url=settings.slack_api_url, sleep=stop.sleep, pacer=pacer
    )
    renderer = Renderer(settings.templates_dir)
    renderer.check_all()
    services = Services(
        settings=settings,
        sessions=sessions,
        gateway=WebApiGateway(client, pacer),
        renderer=renderer,
        clock=lambda: datetime.now(UTC),
    )
    return services, client


def _tick(engine: Engine, settings: Settings, at: str | None, out: TextIO) -> int:
    from bot.delivery.tick import tick

    now = parse_at(at, settings) if at is not None else datetime.now(UTC)
    _log_settings(settings)
    token = settings.require_bot_token()
    check_schema(engine)
    stop = _Stop()
    services, _ = _services(engine, settings, token=token, stop=stop)
    with stop.on_signals():
        result = _in_worker(lambda: tick(services, now=now, stop=stop.event))
    print(_tick_summary(result), file=out)
    for failure in result.failures:
        print(f"  failed: {failure}", file=out)
    if result.paused:
        print(
            "  paused: Slack refuses SLACK_BOT_TOKEN; each tick tries it again and goes on "
            "once it works (a new token: set it and run again)",
            file=out,
        )
    if result.stopped:
        print(
            f"stopping ({stop.signal}): {result.handed_back} leased deliveries "
            "handed back unsent, due at once for the next tick",
            file=out,
        )
    return 1 if result.failures or result.paused else 0


def _tick_summary(result: TickResult) -> str:
    """What a tick did, in one line (`tick` prints it; `serve` logs it every minute)."""
    sent = ", ".join(
        f"{count} {kind.value.replace('_', ' ')}(s)" for kind, count in result.sent.items()
    )
    summary = (
        f"tick at {result.at.isoformat()}: {result.recorded} due, sent {sent or 'nothing'}, "
        f"{result.skipped} no longer needed, {result.deferred} deferred, "
        f"{result.retrying} to retry, {len(result.failures)} failed"
    )
    if result.paused:
        summary += f"; paused, Slack refuses the bot token ({result.paused})"
    return summary


def _tick_fields(result: TickResult, seconds: float) -> dict[str, object]:
    """The same as fields of the log line (LOG_FORMAT=json keeps them as keys)."""
    return {
        "event": "tick",
        "at": result.at.isoformat(),
        "due": result.recorded,
        "sent": {kind.value: count for kind, count in result.sent.items()},
        "dropped": result.skipped,
        "deferred": result.deferred,
        "retrying": result.retrying,
        "failed": len(result.failures),
        "paused": result.paused,
        "seconds": round(seconds, 3),
    }


def _log_settings(settings: Settings) -> None:
    """LOG_LEVEL and LOG_FORMAT on stderr, every line cleared of the tokens, the signing
    secret and the database's password."""
    configure_logging(
        level=settings.log_level,
        fmt=settings.log_format,
        stream=sys.stderr,
        secrets=[
            settings.slack_bot_token,
            settings.slack_app_token,
            settings.slack_signing_secret,
            url_password(settings.database_url),
        ],
    )


def _serve(engine: Engine, settings: Settings, port: int, scheduler: bool) -> int:
    from bot.app import build_app, wsgi_app
    from bot.delivery.tick import tick
    from bot.operations.health import Probe
    from bot.operations.http import operations_app
    from bot.operations.metrics import database_registry

    _log_settings(settings)
    steady_c_heap()
    socket_mode = settings.slack_app_token is not None
    secret = "" if socket_mode else settings.require_signing_secret()
    token = settings.require_bot_token()
    check_schema(engine)
    stop = _Stop()
    services, client = _services(engine, settings, token=token, stop=stop)
    # The token, checked here rather than by Bolt: refused (the app uninstalled, the token
    # revoked), the bot starts paused, not ready, and resumes once it works; a restart
    # policy then sees a process that waits, not one that crashes over and over.
    try:
        services.access.verify("at start-up")
    except SlackError as exc:
        raise UsageError(f"cannot reach Slack at {settings.slack_api_url}: {exc.code}") from None
    app = build_app(services, client=client, signing_secret=secret, verify_token=False)
    handed_back: list[int] = []
    probe = Probe(
        started=datetime.now(UTC), ticking=scheduler, slack_refusal=services.access.problem
    )
    # In Socket Mode the listener serves the operators' endpoints alone: Slack's requests
    # come over the socket, and an HTTP endpoint for them would have no signing secret.
    operations = operations_app(
        probe,
        engine,
        services.clock,
        fallback=None if socket_mode else wsgi_app(app),
        metrics=database_registry(
            services.sessions,
            services.clock,
            refused=lambda: services.access.refusal() is not None,
        ),
    )
    set_aside_startup_heap()

    def run_tick(now: datetime) -> None:
        # A tick sends for at most 55 s, so planning runs every minute even during a long
        # fan-out; what is left is sent by the next tick.
        result = tick(services, now=now, budget=TICK_BUDGET, stop=stop.event)
        give_back_free_memory()  # once a minute: what the tick and the requests freed
        finished = datetime.now(UTC)
        probe.tick_finished(finished)
        seconds = (finished - now).total_seconds()
        log.info(_tick_summary(result), extra=_tick_fields(result, seconds))
        if result.stopped:
            handed_back.append(result.handed_back)

    with stop.on_signals():
        if socket_mode:
            serving, close = _socket_mode(
                app, settings.slack_app_token or "", operations, settings.health_port
            )
        else:
            serving, close = _http(operations, port)
        ticking = None
        if scheduler:
            from bot.delivery.scheduler import start_scheduler

            ticking = start_scheduler(run_tick)
            probe.scheduler_running = lambda: ticking is not None and ticking.running
        stop.block(serving)
        log.info(
            "stopping (%s): no new ticks or requests; finishing the delivery in flight",
            stop.signal or "the server ended",
        )
        close()
        if ticking is not None:
            from bot.delivery.scheduler import stop_scheduler

            stop_scheduler(ticking)
    log.info("stopped: %d leased deliveries handed back unsent", sum(handed_back))
    return 0


_Serving = tuple[Callable[[], object], Callable[[], object]]  # serve until stopped; close


def _listener(app: WsgiApp, port: int, setting: str) -> Any:
    """A waitress server listening on `port` (a UsageError naming `setting` if it cannot)."""
    import waitress

    try:
        return waitress.create_server(app, host="0.0.0.0", port=port, ident="pmo-bot")
    except OSError as exc:
        raise UsageError(f"{setting} {port}: cannot listen there ({exc.strerror})") from None


def _http(app: WsgiApp, port: int) -> _Serving:
    """waitress on `port`: its loop runs in the main thread until a signal interrupts it (then
    it lets the requests in progress finish, 5 s at most); closing frees the port."""
    server = _listener(app, port, "--port")
    log.info("PMO Bot listening on port %d (POST /slack/events)", port)
    server.print_listen("Serving on http://{}:{}")

    def close() -> None:
        server.task_dispatcher.shutdown()  # already done if the loop was interrupted
        server.close()

    return server.run, close


def _socket_mode(app: App, app_token: str, operations: WsgiApp, health_port: int) -> _Serving:
    """Socket Mode: the connection runs in its own threads; the main thread waits until a
    signal interrupts it, then the connection is closed. Nothing else listens, so the
    operators' endpoints (/healthz, /readyz) get a listener of their own on `health_port`,
    started first: a probe can tell a process that is still connecting."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    health = _listener(operations, health_port, "PMO_HEALTH_PORT")
    threading.Thread(target=health.run, name="health", daemon=True).start()
    log.info("health checks on port %d (GET /healthz, /readyz)", health_port)
    handler = SocketModeHandler(app, app_token)
    handler.connect()  # type: ignore[no-untyped-call]
    log.info("PMO Bot in Socket Mode")

    def close() -> None:
        handler.close()  # type: ignore[no-untyped-call]
        health.close()

    return threading.Event().wait, close
