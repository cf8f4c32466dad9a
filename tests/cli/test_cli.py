"""`pmo-bot` on the command line: one clear line and exit 2 for every fixable mistake; import is
idempotent and all or nothing."""

from __future__ import annotations

import io
import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command

from bot.cli.main import run
from bot.digest.summary import SUMMARY_KEY
from storage import deliveries, portfolio, reports
from storage.db import SCHEMA_HEAD, alembic_config, make_engine, make_sessionmaker
from storage.deliveries import Claim
from storage.records import DeliveryKind, Project, Subscription
from tests import factories
from tests.rendering.test_render import assert_escaped, assert_valid_message

GOOD_FILE = """\
projects:
  - key: ATLAS
    name: Atlas ERP migration
    pm: U012ABCDEF
    sponsor: U0SPONSOR1
    portfolio: Operations
    tags: [erp, finance]
    priority: 2
    budget: 1200000
    start: 2026-01-05
    end: 2027-06-30
    holidays: [2026-12-24]
    delegates: [U0DEPUTY01]
  - key: delta
    name: Delta data warehouse
    pm: U0PMDELTA1
    state: on_hold
holidays: [2026-12-25, 2027-01-01]
digests:
  - channel: C0LEADERS
    timezone: Europe/Paris
    keys: [ATLAS, DELTA]
"""

THREE_BAD = """\
projects:
  - {key: GOOD-ONE, name: Fine, pm: U012ABCDEF}
  - {key: X, name: Too short a key, pm: U012ABCDEF}
  - {key: PRIO, name: Priority, pm: U012ABCDEF, priority: 9}
  - {key: GOOD-TWO, name: Fine too, pm: U012ABCDEF}
digests:
  - {channel: C0LEADERS, colour: red}
"""


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return self.err.splitlines()


def cli(argv: Sequence[str], environ: dict[str, str]) -> Result:
    out, err = io.StringIO(), io.StringIO()
    try:
        code = run(list(argv), environ=environ, stdout=out, stderr=err)
    except BaseException as exc:  # the contract: never a traceback
        pytest.fail(f"pmo-bot {' '.join(argv)} raised {type(exc).__name__}: {exc}")
    return Result(code, out.getvalue(), err.getvalue())


def assert_one_line_error(result: Result, *words: str) -> None:
    assert result.code == 2, result
    assert len(result.err_lines) == 1, result.err
    line = result.err_lines[0]
    assert line.startswith("pmo-bot: ")
    assert "Traceback" not in result.err and "Traceback" not in result.out
    for word in words:
        assert word in line, line


@pytest.fixture
def db_file(tmp_path: Path) -> Path:
    return tmp_path / "pmo.sqlite"


@pytest.fixture
def env(db_file: Path) -> dict[str, str]:
    return {"DATABASE_URL": f"sqlite:///{db_file}"}


@pytest.fixture
def migrated(env: dict[str, str]) -> dict[str, str]:
    result = cli(["db", "upgrade"], env)
    assert result.code == 0, result
    return env


def stored(env: dict[str, str]) -> tuple[list[Project], list[Subscription]]:
    engine = make_engine(env["DATABASE_URL"])
    try:
        with make_sessionmaker(engine).begin() as session:
            return portfolio.list_projects(session), portfolio.list_subscriptions(session)
    finally:
        engine.dispose()


def write(tmp_path: Path, text: str, name: str = "portfolio.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- one line, exit 2 ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["frobnicate"], ["frobnicate"]),
        ([], ["command"]),
        (["db"], ["action"]),
        (["db", "downgrade"], ["downgrade"]),
        (["import"], ["file"]),
        (["serve", "--port", "eighty"], ["eighty"]),
        (["tick", "--when", "now"], ["--when"]),
    ],
)
def test_bad_arguments_are_one_line_and_exit_2(
    argv: list[str], words: list[str], env: dict[str, str], db_file: Path
) -> None:
    assert_one_line_error(cli(argv, env), *words)
    assert not db_file.exists()


@pytest.mark.parametrize("at", ["yesterday", "2026-13-01T10:00", "10:00", "2026-11-19T25:00"])
def test_bad_tick_time_is_one_line_naming_it(at: str, migrated: dict[str, str]) -> None:
    environ = {**migrated, "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_API_URL": "http://127.0.0.1:1/"}
    assert_one_line_error(cli(["tick", "--at", at], environ), "--at")


def test_tick_without_a_bot_token_is_one_line_naming_it(migrated: dict[str, str]) -> None:
    assert_one_line_error(cli(["tick"], migrated), "SLACK_BOT_TOKEN")
    assert_one_line_error(
        cli(["tick", "--at", "2026-11-19T10:00+01:00"], migrated), "SLACK_BOT_TOKEN"
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("PMO_TIMEZONE", "Nowhere/Land"),
        ("PMO_ADMINS", "admin"),
        ("SLACK_BOT_TOKEN", "xoxp-1"),
        ("SLACK_API_URL", "slack.example"),
    ],
)
def test_bad_setting_is_one_line_naming_the_variable(
    variable: str, value: str, env: dict[str, str]
) -> None:
    assert_one_line_error(cli(["db", "upgrade"], {**env, variable: value}), variable)


def test_import_of_a_missing_file_is_one_line_naming_it(
    migrated: dict[str, str], tmp_path: Path
) -> None:
    missing = tmp_path / "nope.yaml"
    assert_one_line_error(cli(["import", str(missing)], migrated), "nope.yaml", "cannot read")


def test_import_of_a_folder_is_one_line(migrated: dict[str, str], tmp_path: Path) -> None:
    assert_one_line_error(cli(["import", str(tmp_path)], migrated), "cannot read")


def test_import_of_a_file_that_is_not_utf8_is_one_line(
    migrated: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "latin1.yaml"
    text = "projects:\n  - {key: CAFE, name: Caf\xe9, pm: U012ABCDEF}\n"
    path.write_bytes(text.encode("latin-1"))
    assert_one_line_error(cli(["import", str(path)], migrated), "latin1.yaml")


def test_import_into_a_database_that_does_not_exist_yet_is_one_line(
    env: dict[str, str], db_file: Path, tmp_path: Path
) -> None:
    result = cli(["import", str(write(tmp_path, GOOD_FILE))], env)
    assert_one_line_error(result, "db upgrade")
    assert not db_file.exists()  # no empty database left behind


def test_import_into_an_unmigrated_database_is_one_line(
    env: dict[str, str], db_file: Path, tmp_path: Path
) -> None:
    sqlite3.connect(db_file).close()  # an empty SQLite file: no schema
    assert_one_line_error(cli(["import", str(write(tmp_path, GOOD_FILE))], env), "db upgrade")


def test_tick_on_an_unmigrated_database_is_one_line(env: dict[str, str], db_file: Path) -> None:
    sqlite3.connect(db_file).close()
    environ = {**env, "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_API_URL": "http://127.0.0.1:1/"}
    assert_one_line_error(cli(["tick"], environ), "db upgrade")


UNREACHABLE = "postgresql+psycopg://pmo:TopSecretPw@127.0.0.1:1/pmo?connect_timeout=2"


@pytest.mark.parametrize("command", [["db", "upgrade"], ["import", "FILE"]])
def test_unreachable_postgresql_is_one_line_without_the_password(
    command: list[str], tmp_path: Path
) -> None:
    argv = [str(write(tmp_path, GOOD_FILE)) if a == "FILE" else a for a in command]
    result = cli(argv, {"DATABASE_URL": UNREACHABLE})
    assert_one_line_error(result, "database")
    assert "TopSecretPw" not in result.err + result.out


def test_unknown_database_driver_is_one_line(tmp_path: Path) -> None:
    result = cli(["db", "upgrade"], {"DATABASE_URL": f"nosuchdb:///{tmp_path / 'x'}"})
    assert_one_line_error(result, "DATABASE_URL")


def test_db_current_and_check_say_where_the_schema_stands(
    env: dict[str, str], db_file: Path
) -> None:
    # no file yet: neither command creates one
    assert cli(["db", "current"], env).out == f"no schema (this version expects {SCHEMA_HEAD})\n"
    assert_one_line_error(cli(["db", "check"], env), "does not exist", "pmo-bot db upgrade")
    assert not db_file.exists()
    # a database behind head
    command.upgrade(alembic_config(make_engine(env["DATABASE_URL"])), "0010")
    assert cli(["db", "current"], env).out == f"0010 (this version expects {SCHEMA_HEAD})\n"
    assert_one_line_error(cli(["db", "check"], env), "revision 0010", f"not {SCHEMA_HEAD}")
    # at head
    assert cli(["db", "upgrade"], env).code == 0
    current = cli(["db", "current"], env)
    assert (current.code, current.out) == (
        0,
        f"{SCHEMA_HEAD} (this version expects {SCHEMA_HEAD})\n",
    )
    checked = cli(["db", "check"], env)
    assert (checked.code, checked.err) == (0, "")
    assert f"at revision {SCHEMA_HEAD}" in checked.out


# --- import: works, idempotent, all or nothing --------------------------------------------


def test_db_upgrade_then_import_stores_the_portfolio(env: dict[str, str], tmp_path: Path) -> None:
    upgraded = cli(["db", "upgrade"], env)
    assert (upgraded.code, upgraded.err) == (0, "")
    assert "up to date" in upgraded.out
    assert cli(["db", "upgrade"], env).code == 0  # upgrading again is harmless

    result = cli(["import", str(write(tmp_path, GOOD_FILE))], env)
    assert (result.code, result.err) == (0, "")
    assert "imported 2 project(s) (2 new or changed)" in result.out
    assert "1 digest subscription(s) (1 new or changed)" in result.out
    projects, subscriptions = stored(env)
    assert [p.key for p in projects] == ["ATLAS", "DELTA"]
    atlas = projects[0]
    assert (atlas.name, atlas.pm, atlas.sponsor, atlas.tags) == (
        "Atlas ERP migration",
        "U012ABCDEF",
        "U0SPONSOR1",
        ("erp", "finance"),
    )
    assert atlas.budget is not None and int(atlas.budget) == 1200000
    assert [s.channel for s in subscriptions] == ["C0LEADERS"]
    assert subscriptions[0].keys == ("ATLAS", "DELTA")


def test_importing_the_same_file_twice_changes_nothing_the_second_time(
    migrated: dict[str, str], tmp_path: Path
) -> None:
    path = write(tmp_path, GOOD_FILE)
    first = cli(["import", str(path)], migrated)
    assert first.code == 0, first
    before = stored(migrated)
    second = cli(["import", str(path)], migrated)
    assert (second.code, second.err) == (0, "")
    assert "imported 2 project(s) (0 new or changed)" in second.out
    assert "1 digest subscription(s) (0 new or changed)" in second.out
    assert stored(migrated) == before


def test_reimport_with_one_change_reports_one_changed(
    migrated: dict[str, str], tmp_path: Path
) -> None:
    assert cli(["import", str(write(tmp_path, GOOD_FILE))], migrated).code == 0
    edited = GOOD_FILE.replace("Delta data warehouse", "Delta lakehouse")
    result = cli(["import", str(write(tmp_path, edited, "edited.yaml"))], migrated)
    assert "imported 2 project(s) (1 new or changed)" in result.out
    assert [p.name for p in stored(migrated)[0]] == ["Atlas ERP migration", "Delta lakehouse"]


def test_file_with_three_bad_entries_lists_all_and_imports_nothing(
    migrated: dict[str, str], tmp_path: Path
) -> None:
    result = cli(["import", str(write(tmp_path, THREE_BAD))], migrated)
    assert result.code == 2
    assert "Traceback" not in result.err
    assert result.err_lines == [
        "pmo-bot: the portfolio has 3 problem(s); nothing was imported:",
        "  - projects[2] (X): key: 'X' is not a key (2-20 letters, digits or '-')",
        "  - projects[3] (PRIO): priority: must be a whole number from 1 to 5",
        "  - digests[1] (C0LEADERS): unknown field 'colour'",
    ]
    assert result.out == ""
    assert stored(migrated) == ([], [])


def test_bad_file_leaves_an_earlier_import_untouched(
    migrated: dict[str, str], tmp_path: Path
) -> None:
    assert cli(["import", str(write(tmp_path, GOOD_FILE))], migrated).code == 0
    before = stored(migrated)
    bad = GOOD_FILE.replace("Delta data warehouse", "Renamed") + "  - {channel: nope}\n"
    result = cli(["import", str(write(tmp_path, bad, "bad.yaml"))], migrated)
    assert result.code == 2
    assert stored(migrated) == before


def test_digest_naming_an_unknown_project_imports_nothing(
    migrated: dict[str, str], tmp_path: Path
) -> None:
    text = GOOD_FILE.replace("keys: [ATLAS, DELTA]", "keys: [ATLAS, OMEGA]")
    result = cli(["import", str(write(tmp_path, text))], migrated)
    assert result.code == 2
    assert "OMEGA is not a project" in result.err
    assert stored(migrated) == ([], [])


def test_import_of_a_file_with_an_impossible_date_is_an_error_not_a_traceback(
    migrated: dict[str, str], tmp_path: Path
) -> None:
    text = GOOD_FILE.replace("holidays: [2026-12-24]", "holidays: [2026-02-30]")
    result = cli(["import", str(write(tmp_path, text))], migrated)
    assert result.code == 2
    assert "2026-02-30" in result.err
    assert stored(migrated) == ([], [])


def test_import_of_invalid_yaml_names_line_and_column(
    migrated: dict[str, str], tmp_path: Path
) -> None:
    result = cli(["import", str(write(tmp_path, "projects:\n  - key: A\n\tname: x\n"))], migrated)
    assert result.code == 2
    assert "line 3, column 1" in result.err


def test_an_empty_at_is_a_bad_argument_not_now(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    code = run(
        ["tick", "--at", ""],
        environ={"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite'}", "SLACK_BOT_TOKEN": "xoxb-1"},
        stdout=out,
        stderr=err,
    )
    assert code == 2 and "--at ''" in err.getvalue()


# --- pmo-bot digest preview ----------------------------------------------------------------

PREVIEW_FILE = """\
projects:
  - {key: ATLAS, name: Atlas ERP <migration>, pm: U012ABCDEF, priority: 1}
  - {key: BOREAL, name: Boreal data platform, pm: U0PMBOREAL}
digests:
  - {channel: C0LEADERS, timezone: Europe/Paris}
  - {channel: C0DIRECTION, language: fr, keys: [ATLAS]}
"""
THURSDAY = datetime(2026, 11, 19, 9, 0, tzinfo=UTC)  # 10:00 in Paris, the default cadence


@pytest.fixture
def previewed(migrated: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """Two projects, two digests (English, and French on ATLAS only); ATLAS reported red on
    Thursday, BOREAL did not."""
    assert cli(["import", str(write(tmp_path, PREVIEW_FILE))], migrated).code == 0
    engine = make_engine(migrated["DATABASE_URL"])
    try:
        with make_sessionmaker(engine).begin() as session:
            atlas = portfolio.find_project(session, "ATLAS")
            assert atlas is not None
            reports.save_report(
                session,
                factories.draft("red", help_needed="Decide on <the> budget & scope"),
                project_id=atlas.id,
                period_start=THURSDAY,
                submitted_by=atlas.pm,
                submitted_at=THURSDAY,
            )
    finally:
        engine.dispose()
    return migrated


def test_digest_preview_prints_each_digest_as_text_without_slack(
    previewed: dict[str, str],
) -> None:
    assert "SLACK_BOT_TOKEN" not in previewed
    result = cli(["digest", "preview", "--at", "2026-11-20T18:00"], previewed)  # Paris time
    assert (result.code, result.err) == (0, "")
    out = result.out
    assert "Digest for C0DIRECTION of Fri 20 Nov 2026 at 16:00 (UTC, fr)" in out
    assert "Digest for C0LEADERS of Fri 20 Nov 2026 at 16:00 (Europe/Paris, en)" in out
    assert "Synthèse du portefeuille · ven. 20 nov. 2026" in out
    assert "Portfolio digest · Fri 20 Nov 2026" in out
    english = out[out.index("Digest for C0LEADERS") :]
    assert "🔴 *ATLAS* · Atlas ERP <migration>" in english
    assert "🙋 *Asks for help*: Decide on <the> budget & scope" in english
    assert "*BOREAL* · Boreal data platform — PM @U0PMBOREAL · never reported" in english
    assert "— continued in the thread —" in english and "🧵 *Full reports* · part 1 of 1" in english
    assert "<@" not in out and "&amp;" not in out


def test_digest_preview_as_json_is_what_would_be_posted(previewed: dict[str, str]) -> None:
    result = cli(
        [
            "digest",
            "preview",
            "--format",
            "json",
            "--channel",
            "C0LEADERS",
            "--at",
            "2026-11-20T16:00:00+01:00",
        ],
        previewed,
    )
    assert (result.code, result.err) == (0, "")
    (found,) = json.loads(result.out)
    assert (found["channel"], found["language"]) == ("C0LEADERS", "en")
    assert found["occurrence"] == "2026-11-20T15:00:00+00:00"
    assert found["message"]["text"] == (
        "Portfolio digest, Fri 20 Nov 2026: 1 red, 0 amber, 0 green, 1 not reported"
        " · 1 needs your attention"
    )
    (reply,) = found["thread"]
    for message in (found["message"], reply):
        assert_valid_message(message)
        assert_escaped(message)
    dump = json.dumps(found, ensure_ascii=False)
    assert "Decide on &lt;the&gt; budget &amp; scope" in dump and "<@U0PMBOREAL>" in dump


def test_digest_preview_compares_with_the_digest_posted_before(
    previewed: dict[str, str],
) -> None:
    engine = make_engine(previewed["DATABASE_URL"])
    try:
        with make_sessionmaker(engine).begin() as session:
            sub = next(s for s in portfolio.list_subscriptions(session) if s.channel == "C0LEADERS")
            last_week = datetime(2026, 11, 13, 15, 0, tzinfo=UTC)
            summary = {
                "version": 1,
                "at": last_week.isoformat(),
                "counts": {"red": 0, "amber": 1, "green": 0, "missing": 1},
                "participation": {"received": 1, "expected": 2},
                "projects": {"ATLAS": "amber", "BOREAL": "missing"},
            }
            (delivery_id,) = deliveries.enqueue(
                session,
                [
                    Claim(
                        DeliveryKind.DIGEST,
                        "channel:C0LEADERS",
                        last_week,
                        subscription_id=sub.id,
                        payload={SUMMARY_KEY: summary},
                    )
                ],
                now=last_week,
            )
            deliveries.mark_sent(session, delivery_id, channel="C0LEADERS", ts="1.1", now=last_week)
    finally:
        engine.dispose()
    result = cli(
        ["digest", "preview", "--channel", "C0LEADERS", "--at", "2026-11-20T16:00"], previewed
    )
    assert result.code == 0
    assert "🔴 *1 red* (+1)   🟠 *0 amber* (−1)" in result.out  # noqa: RUF001
    assert "since the digest of Fri 13 Nov 2026" in " ".join(result.out.split())
    assert "50% of the expected reports received (1 of 2) · unchanged" in " ".join(
        result.out.split()
    )


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["digest", "preview", "--channel", "C0NOBODY"], ["C0NOBODY", "no digest"]),
        (["digest", "preview", "--at", "friday"], ["--at", "friday"]),
        (["digest", "preview", "--format", "yaml"], ["--format", "yaml"]),
        (["digest"], ["action"]),
        (["digest", "send"], ["send"]),
    ],
)
def test_digest_preview_mistakes_are_one_line_and_exit_2(
    previewed: dict[str, str], argv: list[str], words: list[str]
) -> None:
    assert_one_line_error(cli(argv, previewed), *words)


def test_digest_preview_without_any_digest_says_so(migrated: dict[str, str]) -> None:
    assert_one_line_error(cli(["digest", "preview"], migrated), "no digest to preview")


def test_version_prints_the_installed_version(capsys: pytest.CaptureFixture[str]) -> None:
    result = cli(["--version"], {})
    assert result.code == 0
    printed = capsys.readouterr().out.strip()
    assert printed.startswith("pmo-bot ") and printed != "pmo-bot unknown", printed
