"""The data lifecycle as an operator runs it (issue 12, point 7): `pmo-bot forget-user` and
`pmo-bot purge` through the command line, over a history the real Bolt app made (a prompt in
the PM's DM, their report from the modal, the project closed and archived by an admin). On
SQLite and PostgreSQL."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from pathlib import Path
from unittest.mock import ANY

from sqlalchemy import select

from bot.cli.main import run
from storage import users
from storage.models import ArchiveRow, Base
from tests.e2e.conftest import ADMIN, PM_PARIS, Harness
from tests.e2e.test_project_admin import open_modal
from tests.e2e.test_status_loop import answer

THU_19_PARIS = datetime(2026, 11, 19, 9, 1, tzinfo=UTC)


def _cli(harness: Harness, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    environ = {"DATABASE_URL": harness.database_url, "PMO_ADMINS": ADMIN}
    code = run(list(args), environ=environ, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def _everything(harness: Harness) -> str:
    with harness.services.sessions.begin() as session:
        return "\n".join(
            repr(tuple(row))
            for table in Base.metadata.sorted_tables
            for row in session.execute(select(table))
        )


def test_a_pm_who_left_is_forgotten_once_their_project_is_closed(
    harness: Harness, tmp_path: Path
) -> None:
    harness.tick(THU_19_PARIS)
    (prompt,) = harness.prompts_to(PM_PARIS)
    answer(harness, PM_PARIS, prompt, summary="Plan signed off by Camille Durand.")
    with harness.services.sessions.begin() as session:
        shown = users.find_users(session, [PM_PARIS])[PM_PARIS].name  # the name Slack gave
    assert shown and PM_PARIS in _everything(harness)

    code, out, err = _cli(harness, "forget-user", PM_PARIS)
    assert (code, out) == (2, "")
    assert err == (
        f"pmo-bot: {PM_PARIS} is still PM of ATLAS: reassign it first (`/pmo project edit KEY` "
        "or the portfolio file), then run this again; nothing changed\n"
    )

    view = open_modal(harness, ADMIN, "project close ATLAS")
    closed = harness.driver.submit_view(
        ADMIN, view, {"summary": "Delivered.", "lessons": "Camille Durand's rehearsal helped."}
    )
    assert closed.status == 200 and not closed.body, closed.body
    with harness.services.sessions.begin() as session:
        (markdown,) = session.scalars(select(ArchiveRow.markdown))
    assert f"{shown} ({PM_PARIS})" in markdown  # the archive names people as it knew them

    code, out, err = _cli(harness, "forget-user", PM_PARIS, "--name", "Camille Durand")
    assert (code, err) == (0, "")
    pseudonym = re.match(rf"{PM_PARIS} is now '(former member [0-9a-f]{{6}})' in every", out)
    assert pseudonym is not None, out
    for table in (
        "projects",
        "status_reports",
        "project_archives (names)",
        "slack_users (deleted)",
    ):
        assert f"  {table}: 1 row\n" in out
    everything = _everything(harness)
    assert PM_PARIS not in everything and shown not in everything
    assert f"{pseudonym.group(1)} ({pseudonym.group(1)})" in everything  # in the archive
    # Their full name is gone from the archive (the record, its lessons); a report's text,
    # typed by its author, stays as written.
    assert everything.count("Camille Durand") == 1
    assert "Plan signed off by Camille Durand." in everything
    # The bot still answers about the project, naming the pseudonym as text.
    assert PM_PARIS not in str(harness.command(ADMIN, "history ATLAS"))
    # The portfolio still round-trips: a closed project keeps the pseudonym...
    exported = tmp_path / "portfolio.yml"
    assert _cli(harness, "export", str(exported))[0] == 0
    text = exported.read_text(encoding="utf-8")
    assert pseudonym.group(1) in text
    assert _cli(harness, "import", str(exported)) == (0, ANY, "")
    # ...which an open one may not (nobody could be asked for its reports).
    reopened = text.replace('state: "closed"', 'state: "active"')
    assert reopened != text
    exported.write_text(reopened, encoding="utf-8")
    code, _, err = _cli(harness, "import", str(exported))
    assert code == 2
    assert f"pm: '{pseudonym.group(1)}' was erased (pmo-bot forget-user)" in err
    # The edit modal leaves the erased PM out of its user picker (Slack would refuse the view).
    view = open_modal(harness, ADMIN, "project edit ATLAS")
    (pm,) = [b for b in view["blocks"] if b.get("block_id") == "pm"]
    assert "initial_user" not in pm["element"]


def test_purge_from_the_command_line_keeps_what_the_bot_still_reads(harness: Harness) -> None:
    harness.tick(THU_19_PARIS)  # two prompts: each its project's latest, never purged
    before = _everything(harness)
    # The command purges on the machine's clock (never a given time: see
    # bot/operations/retention.py), so what it finds depends on the clock only for the cached
    # profiles; the deliveries here are each their target's latest, kept whatever the date.
    code, out, err = _cli(harness, "purge", "--older-than", "90", "--dry-run")
    assert (code, err) == (0, "")
    assert re.match(r"would remove 0 finished deliveries and \d+ cached Slack profiles", out)
    assert "the audit log and archives are never purged" in out
    assert _everything(harness) == before  # a dry run changes nothing
    for bad in ("30", "soon"):
        code, out, err = _cli(harness, "purge", "--older-than", bad)
        assert (code, out) == (2, "")
        assert err.startswith(f"pmo-bot: --older-than={bad!r} must be a whole number of days")
    code, out, _ = _cli(harness, "purge")  # PMO_RETENTION_DAYS: 400 by default
    assert code == 0 and re.match(r"removed 0 finished deliveries and \d+ cached", out)
    assert "older than 400 days" in out
    assert len(harness.prompts_to(PM_PARIS)) == 1
