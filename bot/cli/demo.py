"""`pmo-bot demo`: a sample portfolio with weeks of history, and the digest leadership would get.

Offline and Slack-free. It goes through the real code paths: the portfolio is imported from YAML
text, reports pass the modal's validation and are stored in their periods, and the digest is
built and rendered as `pmo-bot tick` would post it. The clock is read once, in `run_demo`.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

import yaml
from dateutil.relativedelta import relativedelta
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bot.cli.arguments import UsageError
from bot.cli.textview import DEFAULT_WIDTH, RULE, messages_to_text
from bot.config import Settings
from bot.digest.chart import render_chart
from bot.digest.load import build_digest
from bot.digest.messages import digest_messages
from bot.digest.model import Digest
from bot.digest.selection import digest_zone
from bot.digest.summary import digest_summary
from bot.governance.decisions import note_ask
from bot.periods import cadence
from bot.portfolio.importing import import_portfolio
from bot.render import Message, Renderer
from bot.reporting.form import ReportForm, validate_report
from bot.stages.requests import (
    Requested,
    RequestOutcome,
    decide_request,
    request_change,
    request_gate,
)
from bot.steering.pack import all_open_projects, steering_pack
from bot.steering.workbook import workbook_bytes
from storage import items, portfolio, reports, users
from storage.db import make_engine, make_sessionmaker, upgrade
from storage.records import (
    DEFAULT_DIGEST_SCHEDULE,
    Blocker,
    BlockerSpec,
    ItemStatus,
    Project,
    Report,
    ReportDraft,
    Risk,
    RiskSpec,
    SlackUser,
    Subscription,
)

HISTORY = timedelta(weeks=8)
CHANNEL = "C0LEADERS"
DIGEST_SCHEDULE = DEFAULT_DIGEST_SCHEDULE  # Friday 16:00
BIWEEKLY = "FREQ=WEEKLY;INTERVAL=2;BYDAY=TH;BYHOUR=10;BYMINUTE=0"
BLOCK_KIT_BUILDER = "https://app.slack.com/block-kit-builder"
# Written in the SQLite header (PRAGMA application_id, "PMOD"): an existing file is replaced only
# when it carries it, so `--db pmo-bot.sqlite` can never wipe a real database.
APPLICATION_ID = 0x504D4F44
_SQLITE_MAGIC = b"SQLite format 3\x00"


@dataclass(frozen=True, slots=True)
class DemoPerson:
    user_id: str
    name: str
    tz: str


@dataclass(frozen=True, slots=True)
class DemoRisk:
    title: str
    probability: int  # 1-5
    impact: int  # 1-5
    owner: str | None = None  # a Slack user id or a name


@dataclass(frozen=True, slots=True)
class DemoBlocker:
    title: str
    unblocker: str | None = None  # who can unblock it: a Slack user id or a name
    leadership: bool = False  # asks leadership for help


@dataclass(frozen=True, slots=True)
class DemoMilestone:
    name: str
    due: int  # days from the digest's day (negative: past)
    done: int | None = None  # reached, days from the digest's day


@dataclass(frozen=True, slots=True)
class Beat:
    """One stage of a project's story. `ratings` is overall, schedule, budget, scope as letters
    (G, A, R); the stage covers its last `periods` reports (the first stage fills the rest)."""

    ratings: str
    summaries: tuple[str, ...]
    periods: int = 1
    path_to_green: str | None = None
    risks: tuple[DemoRisk, ...] = ()  # open while the stage lasts, closed after
    blockers: tuple[DemoBlocker, ...] = ()  # likewise
    help_needed: str | None = None
    help_by: int | None = None  # help needed by: days from the digest's day
    slip_weeks: int = 0  # forecast end, past the planned end


@dataclass(frozen=True, slots=True)
class Story:
    key: str
    name: str
    pm: DemoPerson
    sponsor: DemoPerson
    portfolio: str
    tags: tuple[str, ...]
    priority: int
    budget: int
    started_days_ago: int  # before the digest day, then back to a Monday
    weeks_to_go: int
    progress: tuple[int, int]  # percent complete at the first and the last report shown
    beats: tuple[Beat, ...]
    unreported: int = 0  # latest periods without a report
    cadence: str | None = None
    state: str = "active"
    delegates: tuple[str, ...] = ()
    milestones: tuple[DemoMilestone, ...] = ()
    overspend: float = 0.02  # budget spent runs this share of the budget ahead of progress
    copies: int = 0  # the latest reports are "No change" copies
    flat: int = 0  # the latest reports give the same percent complete


def _p(number: int, name: str, tz: str) -> DemoPerson:
    return DemoPerson(f"U0DEMOPM{number:02d}", name, tz)


COO = DemoPerson("U0DEMOSP01", "Hélène Moreau", "Europe/Paris")
CDO = DemoPerson("U0DEMOSP02", "James Whitfield", "Europe/London")
CFO = DemoPerson("U0DEMOSP03", "Nadia Petrova", "Europe/Paris")
CHRO = DemoPerson("U0DEMOSP04", "Kwame Mensah", "America/New_York")

INC_4471 = "Valuation defect INC-4471 open for weeks, no fix date from the integrator"

# The data reads better as a table than one argument per line.
# fmt: off
STORIES: tuple[Story, ...] = (
    Story(
        key="ATLAS", name="Atlas ERP migration (S/4HANA)",
        pm=_p(1, "Claire Dubois", "Europe/Paris"),
        sponsor=COO, portfolio="Operations", tags=("erp", "finance", "sap"), priority=1,
        budget=2_400_000, started_days_ago=260, weeks_to_go=30, progress=(54, 66),
        delegates=("U0DEMODP01",), overspend=0.05,
        milestones=(DemoMilestone("Cutover plan signed off", -40, -38),
                    DemoMilestone("Dress rehearsal passed", -9),
                    DemoMilestone("Go-live", 200)),
        beats=(
            Beat("GGGG", (
                "Mock load 2 completed: 96% of open purchase orders and the vendor master "
                "migrated cleanly. Finance key users signed off the chart of accounts mapping.",
                "Integration testing cycle 1 under way, 142 of 210 scripts passed. Interfaces to "
                "the banks and to the WMS are green.",
                "Cutover plan drafted with Finance and Supply Chain; dress rehearsal booked. "
                "Training material for 320 end users in review.",
            )),
            Beat("AAGG", (
                "Integration testing cycle 2 is two weeks behind: 31 defects open on inventory "
                "valuation, 6 of them critical.",
                "Defect burn-down slower than planned; the integrator added two ABAP developers. "
                "Dress rehearsal moved by three weeks.",
                "Critical defects down to 3, but material master data for the Lyon plant is "
                "still below the 98% quality threshold for go-live.",
            ), periods=3, slip_weeks=3,
                path_to_green="Close the critical valuation defects with the integrator by "
                "Friday, then re-baseline the cutover plan with Finance.",
                risks=(DemoRisk("Lyon plant master data below the go-live quality threshold", 4, 4,
                                "Plant manager, Lyon"),
                       DemoRisk("Key users only part-time until month-end close is over", 3, 3,
                                "U0DEMOPM01")),
                blockers=(DemoBlocker(INC_4471, "Integrator's account executive"),)),
            Beat("RRAG", (
                "Dress rehearsal failed: stock balances off by 2.1% after the data load, and the "
                "integrator cannot fix valuation before the planned go-live. Go-live on the "
                "current date is no longer achievable.",
            ), slip_weeks=8,
                path_to_green="Re-plan go-live after the Q3 close, run a third mock load with "
                "cleansed Lyon data, get a dated fix for INC-4471.",
                risks=(DemoRisk("Go-live slips past the Q3 close", 5, 5, "U0DEMOSP01"),
                       DemoRisk("Lyon plant master data below the go-live quality threshold", 4, 4,
                                "Plant manager, Lyon"),
                       DemoRisk("Key users only part-time until month-end close is over", 3, 3,
                                "U0DEMOPM01")),
                blockers=(DemoBlocker(INC_4471, "Integrator's account executive", leadership=True),
                          DemoBlocker("Lyon data owners unavailable until the physical "
                                      "inventory is done", "Plant manager, Lyon")),
                help_needed="Steering committee decision this week: move go-live by eight weeks, "
                "or go live without the Lyon plant. Escalation to the integrator's account "
                "executive.", help_by=5),
        ),
    ),
    Story(
        key="DCEXIT", name="Data centre exit", pm=_p(2, "Marcus Reed", "America/New_York"),
        sponsor=COO, portfolio="Operations", tags=("infrastructure", "cloud"), priority=2,
        budget=1_750_000, started_days_ago=300, weeks_to_go=16, progress=(61, 74),
        overspend=0.18,
        milestones=(DemoMilestone("First two racks decommissioned", -5),
                    DemoMilestone("Wave 5 <trading & mainframe> migrated", 10)),
        beats=(
            Beat("GGGG", (
                "Wave 3 migrated over the weekend: 46 servers moved to the cloud landing zone, "
                "no P1 incidents.",
                "Wave 4 (file and print servers) planned; firewall rules reviewed with Security.",
                "Wave 4 complete, 38 servers migrated. Decommissioning of the first two racks "
                "has started.",
            )),
            Beat("AAGA", (
                "Wave 5 delayed: the legacy trading platform depends on a mainframe feed nobody "
                "had documented. The colocation exit date is at risk by about a month.",
            ), slip_weeks=4,
                path_to_green="Map the mainframe feed with the trading team this week, then "
                "choose between re-platforming it and a temporary VPN link.",
                risks=(DemoRisk("Colocation contract ends in 16 weeks; an extension costs about "
                                "€40k a month", 3, 4, "U0DEMOSP03"),
                       DemoRisk("Undocumented mainframe feed for the trading platform", 4, 3,
                                "Head of trading IT"))),
        ),
    ),
    Story(
        key="WMS", name="Warehouse management upgrade", pm=_p(3, "Priya Raman", "Asia/Singapore"),
        sponsor=COO, portfolio="Operations", tags=("supply-chain",), priority=3,
        budget=620_000, started_days_ago=180, weeks_to_go=12, progress=(58, 70), unreported=1,
        milestones=(DemoMilestone("Rotterdam go-live", 3),),
        beats=(
            Beat("GGGG", (
                "Singapore DC live on the new WMS release; pick rates back to baseline after "
                "three days.",
                "Rollout to the Rotterdam DC prepared; scanner firmware updated on 180 devices.",
                "Rotterdam cutover rehearsal successful; go-live planned for the long weekend.",
            )),
        ),
    ),
    Story(
        key="FLEET", name="Fleet telematics rollout", pm=_p(4, "Tomás Herrera", "Europe/Madrid"),
        sponsor=COO, portfolio="Operations", tags=("logistics", "iot"), priority=5,
        budget=380_000, started_days_ago=150, weeks_to_go=20, progress=(30, 38), unreported=3,
        state="on_hold",
        beats=(
            Beat("GGGG", (
                "Telematics boxes fitted on 420 of 1,100 vans; drivers' feedback on the app is "
                "positive.",
                "Fitting rate up to 90 vans a week; fuel reports live for the first two depots.",
            )),
            Beat("AAAG", (
                "The hardware supplier entered insolvency proceedings; the remaining 680 boxes "
                "will not be delivered. Looking at alternative suppliers.",
            ), periods=2,
                path_to_green="Choose an alternative supplier or pause the rollout; the COO "
                "decides at the next operations review."),
        ),
    ),
    Story(
        key="CRM", name="CRM rollout (Salesforce)", pm=_p(5, "Sophie Martin", "Europe/Paris"),
        sponsor=CDO, portfolio="Digital", tags=("sales", "salesforce"), priority=2,
        budget=1_100_000, started_days_ago=220, weeks_to_go=26, progress=(31, 52),
        milestones=(DemoMilestone("Nordics pilot restarted", -1, -1),
                    DemoMilestone("DACH rollout", 12)),
        beats=(
            Beat("RRAA", (
                "Nordics pilot paused: duplicate accounts from the data load broke territory "
                "assignment and lead routing.",
                "Deduplication rules rebuilt with the vendor; 18,000 duplicate accounts merged, "
                "4,000 left to review by hand.",
            ), slip_weeks=4,
                path_to_green="Finish deduplication, re-run territory assignment, restart the "
                "Nordics pilot.",
                blockers=(DemoBlocker("Lead routing broken for the pilot team until "
                                      "deduplication is done", "Sales operations"),),
                help_needed="Two sales-ops analysts for two weeks to review the remaining "
                "duplicate accounts."),
            Beat("AAGG", (
                "Pilot restarted with the Nordics team; lead routing verified on 500 test leads. "
                "Daily adoption at 64%.",
                "Adoption up to 78%; the remaining issues are report layouts, not data.",
            ), periods=2, slip_weeks=2,
                path_to_green="Reach 85% daily adoption in the pilot, then confirm the DACH "
                "rollout date."),
            Beat("GGGG", (
                "Back on track: pilot adoption at 88%, DACH rollout confirmed for the planned "
                "date. Training booked for 140 sales reps.",
            )),
        ),
    ),
    Story(
        key="MOBILE", name="Customer mobile app v2", pm=_p(6, "Daniel Okafor", "Europe/London"),
        sponsor=CDO, portfolio="Digital", tags=("customer", "mobile"), priority=2,
        budget=450_000, started_days_ago=200, weeks_to_go=10, progress=(62, 80),
        cadence=BIWEEKLY,
        beats=(
            Beat("GGGG", (
                "Sprint 14 delivered biometric login and notification preferences. Crash-free "
                "sessions at 99.7% in the beta.",
                "Beta passed App Store review; 2,300 testers enrolled. All 12 accessibility "
                "audit findings fixed.",
                "Payments SDK upgraded and the PCI scan is clean. Public release planned after "
                "the next sprint.",
            ), risks=(DemoRisk("App store rules on in-app payments may block the public release",
                               3, 5, "U0DEMOSP02"),)),
        ),
    ),
    Story(
        key="WEB", name="Website replatforming", pm=_p(7, "Emily Chen", "America/Los_Angeles"),
        sponsor=CDO, portfolio="Digital", tags=("marketing", "web"), priority=3,
        budget=300_000, started_days_ago=160, weeks_to_go=9, progress=(40, 57), flat=4,
        beats=(
            Beat("GGGG", (
                "Design system components 70% built; content migration scripts tested on the "
                "blog section.",
            )),
            Beat("AAGA", (
                "Marketing added three country sites to the scope; we are re-estimating. Launch "
                "date holds for now, but the buffer is gone.",
                "Change request for the country sites sent to the steering committee; content "
                "freeze moved by one week.",
                "Localisation vendor onboarded; the translation memory import is slower than "
                "expected.",
                "Redirect map for 14,000 URLs is 60% done; still amber until the change request "
                "is approved.",
            ), periods=5, slip_weeks=2,
                path_to_green="Approve the change request for the three country sites at the "
                "next steering committee, or phase them after launch.",
                risks=(DemoRisk("Scope growth: three country sites added after sign-off", 4, 3,
                                "U0DEMOSP02"),
                       DemoRisk("Search ranking loss if redirects are incomplete at launch", 2, 4,
                                "SEO agency"))),
        ),
    ),
    Story(
        key="DATA", name="Data platform and analytics", pm=_p(8, "Lukas Becker", "Europe/Berlin"),
        sponsor=CDO, portfolio="Digital", tags=("data", "analytics"), priority=3,
        budget=850_000, started_days_ago=340, weeks_to_go=22, progress=(66, 75), copies=3,
        beats=(
            Beat("GGGG", (
                "Sales and finance data marts live on the new platform; 23 of 31 legacy reports "
                "retired.",
                "Data catalogue opened to 120 analysts; lineage for the finance marts complete.",
            )),
            Beat("GGGG", (  # user text that Slack needs escaped
                "Joint R&D <-> vendor workshop on the demand forecasting model: the pilot beats "
                "the current forecast by 11% on Q1 data.",
            ), periods=4),  # then three "No change" copies of it
        ),
    ),
    Story(
        key="TREASURY", name="Treasury management system", pm=_p(9, "Aisha Khan", "Asia/Dubai"),
        sponsor=CFO, portfolio="Finance", tags=("treasury", "finance"), priority=3,
        budget=540_000, started_days_ago=210, weeks_to_go=-1, progress=(68, 86),
        milestones=(DemoMilestone("UAT signed off", -6, -3),
                    DemoMilestone("Go-live rehearsal", 5)),
        beats=(
            Beat("GGGG", (
                "Bank connectivity live with 9 of 12 banks over SWIFT; the cash positioning "
                "report is in user acceptance testing.",
                "Remaining three banks onboarded; FX deal capture tested end to end with the "
                "front office.",
                "UAT signed off by Group Treasury; go-live rehearsal scheduled.",
            ), risks=(DemoRisk("One bank's SWIFT certification slot not yet confirmed", 2, 3,
                               "U0DEMOPM09"),)),
        ),
    ),
    Story(
        key="EINV", name="E-invoicing compliance", pm=_p(10, "Rachel Goldberg", "America/New_York"),
        sponsor=CFO, portfolio="Finance", tags=("regulatory", "finance"), priority=1,
        budget=260_000, started_days_ago=190, weeks_to_go=18, progress=(44, 55), unreported=1,
        beats=(
            Beat("GGGG", (
                "Platform partner contract signed; supplier master data enrichment at 72%.",
                "Inbound e-invoice flows tested with 15 pilot suppliers.",
            )),
            Beat("AGGA", (
                "8% of outbound invoices rejected by the platform: legal identifiers missing in "
                "the customer master.",
            ), slip_weeks=2,
                path_to_green="Customer data clean-up sprint with the order-to-cash team, then "
                "retest the outbound flow."),
        ),
    ),
    Story(
        key="PAYROLL", name="Payroll replacement", pm=_p(11, "Olivier Lambert", "Europe/Paris"),
        sponsor=CHRO, portfolio="People", tags=("hr", "regulatory"), priority=1,
        budget=900_000, started_days_ago=320, weeks_to_go=14, progress=(60, 69),
        milestones=(DemoMilestone("Parallel run 2 signed off", -9),
                    DemoMilestone("Go-live France and Germany", 60)),
        beats=(
            Beat("GGGG", (
                "Parallel run 1 for France: 99.2% of payslips match to the cent; the 41 "
                "differences are explained (meal voucher rounding).",
                "Employee data for Germany and Spain migrated; works council briefed on the "
                "new payslip layout.",
            )),
            Beat("AAGG", (
                "Parallel run 2 shows 312 mismatches in Spain on overtime and night-shift "
                "premiums; root cause in the collective agreement rules.",
            ), periods=2, slip_weeks=2,
                path_to_green="Vendor to correct the Spanish premium rules; rerun the Spanish "
                "parallel run in two weeks.",
                risks=(DemoRisk("Spanish collective agreement rules more complex than scoped", 4, 4,
                                "U0DEMOPM11"),
                       DemoRisk("Year-end tax changes landing during the parallel runs", 3, 4,
                                "Payroll vendor"))),
            Beat("RRAA", (
                "The vendor confirms the Spanish premium rules need a product change, not "
                "configuration, with no delivery date. Spain cannot go live on the planned date "
                "without a manual workaround.",
                "Still no delivery date from the vendor. The legacy payroll contract ends in 10 "
                "weeks: an extension must be signed by month end.",
            ), periods=2, slip_weeks=10,
                path_to_green="Go live for France and Germany as planned; keep Spain on the "
                "legacy system until the vendor ships the fix.",
                risks=(DemoRisk("Spain cannot go live on the planned date", 5, 4, "U0DEMOSP04"),
                       DemoRisk("Spanish collective agreement rules more complex than scoped",
                                4, 4, "U0DEMOPM11")),
                blockers=(DemoBlocker("Vendor product change for Spanish premiums not scheduled",
                                      "Vendor's VP Product", leadership=True),
                          DemoBlocker("Legacy payroll contract extension awaiting procurement "
                                      "approval", "U0DEMOSP03", leadership=True)),
                help_by=10,
                help_needed="Procurement approval to extend the legacy contract by 6 months "
                "(about €85k), and a sponsor call with the vendor's VP Product."),
        ),
    ),
    Story(
        key="ONBOARD", name="New-joiner onboarding portal", pm=_p(12, "Mei Tanaka", "Asia/Tokyo"),
        sponsor=CHRO, portfolio="People", tags=("hr", "employee-experience"), priority=4,
        budget=120_000, started_days_ago=0, weeks_to_go=24, progress=(4, 4),
        beats=(
            Beat("GGGG", (
                "Kick-off done with HR, IT and Facilities; requirements workshops booked for the "
                "next two weeks. Team and budget confirmed.",
            )),
        ),
    ),
)
# fmt: on


def run_demo(
    settings: Settings,
    *,
    db_path: Path,
    json_path: Path,
    out: TextIO,
    now: datetime,
    chart_path: Path | None = None,
    xlsx_path: Path | None = None,
) -> int:
    """Build the demo database at `db_path` as if the time were `now`, print the digest, write
    its Block Kit JSON, the chart posted with it (`chart_path`) and the steering pack
    (`xlsx_path`), each when given. (`pmo-bot demo --at` sets `now`; the command line reads the
    clock.)"""
    extra = [("--chart", chart_path), ("--xlsx", xlsx_path)]
    prepare_files(db_path, json_path, [(option, path) for option, path in extra if path])
    renderer = Renderer(settings.templates_dir)
    engine = open_demo_database(db_path)
    try:
        with make_sessionmaker(engine).begin() as session:
            subscription, moment = _populate(session, settings, now=now)
            digest = digest_at(session, subscription, moment, settings)
            pack = steering_pack(
                session, all_open_projects(session), now=moment, tz=settings.timezone
            )
    finally:
        engine.dispose()
    messages = digest_messages(renderer, digest)
    write_json(json_path, messages[0])
    written = [("The message as Block Kit JSON", json_path)]
    if chart_path is not None:
        _write(chart_path, render_chart(digest.chart, subscription.language))
        written.append(("The chart posted with it", chart_path))
    if xlsx_path is not None:
        language = subscription.language
        _write(xlsx_path, workbook_bytes(pack, renderer.words(language), language))
        written.append(("The steering pack (`pmo-bot export-xlsx`, `/pmo export xlsx`)", xlsx_path))
    tz = digest_zone(subscription, settings.timezone)
    _show(out, messages, moment=moment.astimezone(tz), db_path=db_path, written=written)
    return 0


def _write(path: Path, content: bytes) -> None:
    try:
        path.write_bytes(content)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None


def open_demo_database(db_path: Path) -> Engine:
    """A new demo database at `db_path` (where `prepare_files` made room), migrated and marked
    with APPLICATION_ID, so that a later demo may replace it."""
    engine = make_engine(f"sqlite:///{db_path}")
    try:
        upgrade(engine)
        with engine.begin() as conn:
            conn.exec_driver_sql(f"PRAGMA application_id = {APPLICATION_ID}")
    except BaseException:
        engine.dispose()
        raise
    return engine


def digest_at(
    session: Session, subscription: Subscription, moment: datetime, settings: Settings
) -> Digest:
    """The digest at `moment`, compared with the one posted at the schedule's occurrence before
    (what leadership saw last week), as the sender does."""
    tz = digest_zone(subscription, settings.timezone)
    before = cadence.latest_occurrence(subscription.schedule, tz, at=moment, inclusive=False)
    previous = None
    if before is not None:
        last = build_digest(session, subscription, at=before, default_tz=settings.timezone)
        previous = digest_summary(last)
    return build_digest(
        session, subscription, at=moment, default_tz=settings.timezone, previous=previous
    )


def prepare_files(db_path: Path, json_path: Path, others: Sequence[tuple[str, Path]] = ()) -> None:
    """Check every path before any work; remove a previous demo database, and refuse to touch
    any other file."""
    for option, path in (("--db", db_path), ("--json", json_path), *others):
        check_file_name(option, path)
    if not db_path.exists():
        return
    try:
        with db_path.open("rb") as file:
            header = file.read(72)
        if header and not _is_demo_database(header):
            raise UsageError(
                f"--db {db_path} exists and is not a database made by `pmo-bot demo`; "
                "not replacing it (choose another file)"
            )
        db_path.unlink()
    except OSError as exc:
        raise UsageError(f"cannot replace {db_path}: {exc.strerror or exc}") from None


def check_file_name(option: str, path: Path) -> None:
    """A file may be written at `path`: it names no folder, and its folder exists."""
    if path.is_dir():
        raise UsageError(f"{option} {path} is a folder; give a file name")
    if not path.parent.is_dir():
        raise UsageError(f"{option} {path}: the folder {path.parent} does not exist")


def _is_demo_database(header: bytes) -> bool:
    return header.startswith(_SQLITE_MAGIC) and int.from_bytes(header[68:72]) == APPLICATION_ID


def _populate(
    session: Session, settings: Settings, *, now: datetime
) -> tuple[Subscription, datetime]:
    """Import the portfolio, cache the people, write the history; return the subscription and
    the moment of its latest digest, around which the portfolio's dates are set."""
    moment = cadence.latest_occurrence(DIGEST_SCHEDULE, settings.timezone, at=now)
    if moment is None:  # a weekly schedule always has a past occurrence
        raise RuntimeError(f"the demo digest schedule {DIGEST_SCHEDULE} never occurs")
    day = moment.astimezone(settings.timezone).date()
    import_portfolio(session, portfolio_yaml(day), now=now)
    for person in _people():
        users.save_user(
            session, SlackUser(person.user_id, person.tz, "en-US", person.name, None, now)
        )
    stories = {story.key: story for story in STORIES}
    rng = random.Random(42)
    for project in portfolio.list_projects(session):
        _write_history(session, project, stories[project.key], moment=moment, rng=rng)
    _write_stages(session, stories, moment=moment)
    (subscription,) = portfolio.list_subscriptions(session)
    return subscription, moment


def _people() -> list[DemoPerson]:
    people = {s.pm.user_id: s.pm for s in STORIES} | {s.sponsor.user_id: s.sponsor for s in STORIES}
    people |= {p.user_id: p for p in EXPERTS}
    return sorted(people.values(), key=lambda person: person.user_id)


# Issue 15's planning: what the projects are scored on, the envelopes, and two shared experts
# whose time the plan asks too much of in the coming months (the capacity line and panel).
ARCHITECT = DemoPerson("U0DEMOEX01", "Inès Laurent", "Europe/Paris")
ENGINEER = DemoPerson("U0DEMOEX02", "Ravi Patel", "Europe/London")
EXPERTS = (ARCHITECT, ENGINEER)
CRITERIA = (
    {"name": "strategic", "weight": 40, "scale": [1, 5]},
    {"name": "value", "weight": 30, "scale": [1, 5]},
    {"name": "urgency", "weight": 15, "scale": [1, 5]},
    {"name": "risk", "weight": 15, "scale": [1, 5], "higher_is_better": False},
)
# strategic, value, urgency, risk
SCORES = {
    "ATLAS": (5, 5, 4, 4),
    "DCEXIT": (4, 4, 5, 3),
    "WMS": (3, 4, 3, 2),
    "FLEET": (2, 2, 1, 3),
    "CRM": (4, 4, 3, 2),
    "MOBILE": (3, 3, 2, 2),
    "WEB": (2, 3, 2, 3),
    "DATA": (5, 4, 3, 3),
    "TREASURY": (3, 3, 4, 2),
    "EINV": (3, 2, 5, 2),
    "PAYROLL": (4, 3, 4, 4),
    "ONBOARD": (2, 2, 2, 1),
}
MANDATORY = ("EINV",)  # e-invoicing is the law from its date: forced in
# Issue 16: what projects need from others (upstream, its milestone or None for its end, and
# the day it is needed, in days from the digest's): CRM needs the data platform well before
# the platform is due to end (at risk), the mobile app CRM's DACH rollout (on track).
DEPENDS = {
    "CRM": (("DATA", None, 18 * 7),),
    "MOBILE": (("CRM", "DACH rollout", 20),),
}
# (project, person or "team NAME", share, first and last month from the digest's month)
ALLOCATIONS = (
    ("ATLAS", ARCHITECT.user_id, 0.6, 0, 3),
    ("DATA", ARCHITECT.user_id, 0.7, 1, 5),
    ("DATA", ENGINEER.user_id, 0.5, 0, 5),
    ("EINV", ENGINEER.user_id, 0.4, 0, 2),
    ("DATA", "team Data", 2.0, 0, 5),
)


def _month(day: date, later: int) -> str:
    """The month `later` months after `day`'s, as the portfolio file writes it (YYYY-MM)."""
    return (day.replace(day=1) + relativedelta(months=later)).strftime("%Y-%m")


def _planning() -> dict[str, Any]:
    """The portfolio file's planning fields: criteria, capacity, people and teams."""
    return {
        "criteria": list(CRITERIA),
        "capacity": {"budget": 8_000_000, "people_months": 60},
        "discount_rate": 8,
        "people": [
            {"id": ARCHITECT.user_id, "fte": 1, "team": "Data"},
            {"id": ENGINEER.user_id, "fte": 1, "team": "Data", "run_share": 0.2},
        ],
        "teams": [{"name": "Data", "fte": 6}],
    }


def _planned(key: str, digest_day: date) -> dict[str, Any]:
    """A project's scores, whether it is mandatory and its allocations, in the file's terms."""
    entry: dict[str, Any] = {
        "scores": dict(zip((c["name"] for c in CRITERIA), SCORES[key], strict=True)),
    }
    if key in MANDATORY:
        entry["mandatory"] = True
    shares = []
    for project, who, share, start, end in ALLOCATIONS:
        if project != key:
            continue
        whom = {"team": who.split(" ", 1)[1]} if who.startswith("team ") else {"person": who}
        shares.append(
            whom
            | {"share": share, "from": _month(digest_day, start), "to": _month(digest_day, end)}
        )
    if shares:
        entry["allocations"] = shares
    if key in DEPENDS:
        entry["depends_on"] = [
            {"project": upstream, "needed_by": digest_day + timedelta(days=days)}
            | ({"milestone": milestone} if milestone else {})
            for upstream, milestone, days in DEPENDS[key]
        ]
    return entry


# Issue 17: one delivery process. Every project was loaded in planning and passed its planning
# gate (its sponsor approved it, a baseline recorded) some weeks into its life, except: the
# onboarding portal, just started (initiation); e-invoicing, whose planning gate has waited on
# its sponsor and the PMO admins for nine days (in the digest's "Needs your attention", its
# report missing as it is); the website, loaded in execution with no approved plan (flagged).
# Atlas's sponsor approved a change request since: two more legal entities in scope, the
# budget from 2.2 to 2.4 million (its second baseline).
DEMO_PROCESS: dict[str, Any] = {
    "phases": ["initiation", "planning", "execution", "closing"],
    "gates": [
        {
            "from": "initiation",
            "to": "planning",
            "checklist": [{"name": "Business case approved", "mandatory": True}],
            "approvers": ["sponsor"],
        },
        {
            "from": "planning",
            "to": "execution",
            "checklist": [
                {"name": "Project plan signed off", "mandatory": True, "link": True},
                {"name": "Lessons from similar projects reviewed", "mandatory": False},
            ],
            "approvers": ["sponsor", "admins"],
        },
        {
            "from": "execution",
            "to": "closing",
            "checklist": [{"name": "Acceptance signed by the business", "mandatory": True}],
            "approvers": ["sponsor"],
        },
    ],
}
LOADED_IN = {"ONBOARD": "initiation", "WEB": "execution"}  # the others: planning
GATE_WAITING = {"EINV": 9}  # days its planning gate has waited, at the digest
CHANGED_BUDGET = {"ATLAS": 2_200_000}  # its budget before the approved change request
CHANGE_REASON = "Two more legal entities in scope after the Nordics acquisition."


def portfolio_yaml(digest_day: date) -> str:
    """The demo portfolio as a portfolio file, dated around the digest's day: projects start on
    a Monday and end on a Friday."""
    document = {
        "currency": "EUR",
        # over 5 % on cost or two weeks on time is an exception (bot/finance/tolerance.py)
        "tolerances": {"cost_pct": 5, "time_days": 14},
        **_planning(),
        "process": DEMO_PROCESS,
        "projects": [
            _project_entry(story, digest_day) | _planned(story.key, digest_day) for story in STORIES
        ],
        "digests": [{"channel": CHANNEL, "schedule": DIGEST_SCHEDULE}],
    }
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


def _project_entry(story: Story, digest_day: date) -> dict[str, Any]:
    start = digest_day - timedelta(days=story.started_days_ago)
    end = digest_day + timedelta(weeks=story.weeks_to_go)
    entry: dict[str, Any] = {
        "key": story.key,
        "name": story.name,
        "pm": story.pm.user_id,
        "sponsor": story.sponsor.user_id,
        "portfolio": story.portfolio,
        "tags": list(story.tags),
        "priority": story.priority,
        "budget": CHANGED_BUDGET.get(story.key, story.budget),
        "phase": LOADED_IN.get(story.key, "planning"),
        "start": start - timedelta(days=start.weekday()),
        "end": end + timedelta(days=(4 - end.weekday()) % 7),
    }
    if story.cadence:
        entry["cadence"] = story.cadence
    if story.state != "active":
        entry["state"] = story.state
    if story.delegates:
        entry["delegates"] = list(story.delegates)
    if story.milestones:
        entry["milestones"] = [
            {"name": m.name, "due": digest_day + timedelta(days=m.due)}
            | ({"done": digest_day + timedelta(days=m.done)} if m.done is not None else {})
            for m in story.milestones
        ]
    return entry


def _write_history(
    session: Session, project: Project, story: Story, *, moment: datetime, rng: random.Random
) -> None:
    """One report per period that began in the last weeks before the digest, following the
    story, except for the latest `story.unreported` periods; the latest `story.copies` are
    "No change" copies. Each report comes with the PM's review of the risks and blockers, as
    the modal stores it."""
    tz = ZoneInfo(story.pm.tz)
    since = moment - HISTORY
    if project.start:
        since = max(since, datetime.combine(project.start, time(), tzinfo=tz))
    periods = cadence.occurrences(
        project.cadence, tz, start=since, end=moment, anchor=project.start
    )
    periods = periods[: len(periods) - story.unreported]
    percents = _progress(story.progress, len(periods), rng, flat=story.flat)
    told: Counter[Beat] = Counter()  # a stage's summaries in turn, so weeks differ
    review = _Review(session, project)
    last: Report | None = None
    for index, (period, beat, percent) in enumerate(
        zip(periods, _beats(story.beats, len(periods)), percents, strict=True)
    ):
        submitted = min(period + timedelta(hours=rng.randint(1, 28)), moment)
        copy = last is not None and index >= len(periods) - story.copies
        if last is not None and copy:
            draft = ReportDraft(**{f: getattr(last, f) for f in ReportDraft.__dataclass_fields__})
        else:
            summary = beat.summaries[told[beat] % len(beat.summaries)]
            told[beat] += 1
            review.apply(beat, period=period, now=submitted)
            draft = _draft(beat, project, story, percent, summary=summary, moment=moment)
            draft = replace(draft, risks=review.risk_titles, blockers=review.blocker_titles)
        last = reports.save_report(
            session,
            draft,
            project_id=project.id,
            period_start=period,
            submitted_by=project.pm,
            submitted_at=submitted,
            copied_from_id=last.id if copy and last else None,
        )
        note_ask(session, last, now=submitted)  # its ask, a decision record (as in Slack)


def _write_stages(session: Session, stories: Mapping[str, Story], *, moment: datetime) -> None:
    """The gates and the change request of the story (see DEMO_PROCESS), asked and decided through
    the rules, as in Slack: each project in planning asks its planning gate six weeks after it
    started (its PM, every item ticked) and its sponsor approves it the next day."""
    for project in portfolio.list_projects(session):
        if project.phase != "planning" or project.start is None:
            continue
        story = stories[project.key]
        waited = GATE_WAITING.get(project.key)
        asked_at = (
            moment - timedelta(days=waited)
            if waited is not None
            else min(
                datetime.combine(project.start, time(9), tzinfo=ZoneInfo(story.pm.tz))
                + timedelta(weeks=6),
                moment - timedelta(days=30),
            )
        )
        asked = request_gate(
            session,
            actor=project.pm,
            project_id=project.id,
            phase="planning",
            ticked=("Project plan signed off", "Lessons from similar projects reviewed"),
            links={"Project plan signed off": f"https://wiki.example.com/{project.key}/plan"},
            note=None,
            admins=(),
            now=asked_at,
        )
        if not isinstance(asked, Requested) or waited is not None:
            continue
        decide_request(
            session,
            actor=story.sponsor.user_id,
            request_id=asked.request.id,
            outcome=RequestOutcome.APPROVED.value,
            rationale=None,
            admins=(),
            now=asked_at + timedelta(days=1),
        )
    for key in CHANGED_BUDGET:
        changed = portfolio.find_project(session, key)
        if changed is None:
            continue
        story = stories[key]
        at = moment - timedelta(weeks=5)
        change = request_change(
            session,
            actor=changed.pm,
            project_id=changed.id,
            changes=("scope", "cost"),
            new_end=None,
            new_budget=str(story.budget),
            reason=CHANGE_REASON,
            admins=(),
            now=at,
        )
        if isinstance(change, Requested):
            decide_request(
                session,
                actor=story.sponsor.user_id,
                request_id=change.request.id,
                outcome=RequestOutcome.APPROVED.value,
                rationale="Funded from the acquisition's integration budget.",
                admins=(),
                now=at + timedelta(days=2),
            )


class _Review:
    """A project's open risks and blockers, reviewed each period as the PM does in the modal:
    those of the story's current stage stay open (or open), the others are closed."""

    def __init__(self, session: Session, project: Project) -> None:
        self.session, self.project = session, project
        self.risks: dict[str, Risk] = {}
        self.blockers: dict[str, Blocker] = {}

    @property
    def risk_titles(self) -> tuple[str, ...]:
        return tuple(self.risks)

    @property
    def blocker_titles(self) -> tuple[str, ...]:
        return tuple(self.blockers)

    def apply(self, beat: Beat, *, period: datetime, now: datetime) -> None:
        wanted = {r.title: r for r in beat.risks}
        risk_specs = [
            RiskSpec(r.title, r.probability, r.impact, owner=r.owner, id=self._id(self.risks, r))
            for r in beat.risks
        ] + [replace(r, status=ItemStatus.CLOSED) for t, r in self.risks.items() if t not in wanted]
        kept = items.save_risks(
            self.session, self.project.id, risk_specs, period_start=period, now=now
        )
        self.risks = {r.title: r for r in kept}
        asked = {b.title: b for b in beat.blockers}
        blocker_specs = [
            BlockerSpec(
                b.title, b.unblocker, needs_leadership=b.leadership, id=self._id(self.blockers, b)
            )
            for b in beat.blockers
        ] + [
            replace(b, status=ItemStatus.CLOSED) for t, b in self.blockers.items() if t not in asked
        ]
        kept_blockers = items.save_blockers(
            self.session, self.project.id, blocker_specs, period_start=period, now=now
        )
        self.blockers = {b.title: b for b in kept_blockers}

    @staticmethod
    def _id(known: Mapping[str, Risk | Blocker], item: DemoRisk | DemoBlocker) -> int | None:
        found = known.get(item.title)
        return found.id if found else None


def _beats(beats: Sequence[Beat], count: int) -> list[Beat]:
    """The stage of each of `count` periods, oldest first: each stage covers its last
    `periods`, the first stage the rest."""
    newest_first: list[Beat] = []
    for beat in reversed(beats[1:]):
        newest_first += [beat] * beat.periods
    newest_first = newest_first[:count]
    newest_first += [beats[0]] * (count - len(newest_first))
    return newest_first[::-1]


def _progress(
    bounds: tuple[int, int], count: int, rng: random.Random, *, flat: int = 0
) -> list[int]:
    """Percent complete for `count` reports: from the first bound to the second, a little
    unevenly, never going back; the latest `flat` reports stuck at the second."""
    first, last = bounds
    moving = max(count - max(flat - 1, 0), 1)
    if count <= 1:
        return [last] * count
    step = (last - first) / max(moving - 1, 1)
    values = [min(round(first + step * i + rng.uniform(-1, 1)), last) for i in range(moving - 1)]
    values += [last] * (count - len(values))
    for i in range(1, count):
        values[i] = max(values[i], values[i - 1])
    return [max(v, 0) for v in values]


def _draft(
    beat: Beat, project: Project, story: Story, percent: int, *, summary: str, moment: datetime
) -> ReportDraft:
    """The report as the PM would fill the modal, checked by the modal's own validation; the
    budget spent runs `story.overspend` ahead of progress."""
    overall, schedule, budget, scope = (
        {"G": "green", "A": "amber", "R": "red"}[letter] for letter in beat.ratings
    )
    forecast = project.end + timedelta(weeks=beat.slip_weeks) if project.end else None
    form = ReportForm(
        overall=overall,
        schedule=schedule,
        budget=budget,
        scope=scope,
        summary=summary,
        path_to_green=beat.path_to_green,
        forecast_end=forecast.isoformat() if forecast else None,
        percent_complete=str(percent),
        help_needed=beat.help_needed,
    )
    draft = validate_report(form)
    if not isinstance(draft, ReportDraft):
        raise RuntimeError(f"demo report for {project.key} is invalid: {draft}")
    spent = round(Decimal(story.budget) * Decimal(percent / 100 + story.overspend), -3)
    by = moment.date() + timedelta(days=beat.help_by) if beat.help_by is not None else None
    return replace(draft, budget_spent=spent, help_needed_by=by)


def write_json(path: Path, message: Message) -> None:
    """The message's Block Kit, as the Block Kit Builder takes it."""
    text = json.dumps({"blocks": message.blocks}, ensure_ascii=False, indent=2) + "\n"
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None


def demo_names() -> Mapping[str, str]:
    return {person.user_id: person.name for person in _people()}


def _show(
    out: TextIO,
    messages: Sequence[Message],
    *,
    moment: datetime,
    db_path: Path,
    written: Sequence[tuple[str, Path]],
) -> None:
    when = f"{moment:%a} {moment.day} {moment:%b %Y} at {moment:%H:%M} ({moment.tzinfo})"
    width = DEFAULT_WIDTH
    lines = [
        f"PMO Bot demo: {len(STORIES)} sample projects with {HISTORY.days // 7} weeks of status "
        f"reports, in {db_path}.",
        f"This is the digest channel {CHANNEL} would have received on {when}.",
        "Nothing was sent: the demo works offline, without Slack.",
        "",
        messages_to_text(messages, names=demo_names(), width=width, dim=out.isatty()),
        "",
        RULE * width,
        *(f"{what}: {path}" for what, path in written),
        f"Paste the JSON into Slack's Block Kit Builder ({BLOCK_KIT_BUILDER}) to see the message "
        "as Slack shows it.",
        "Next: describe your portfolio in YAML, `pmo-bot import` it, and run `pmo-bot serve`; "
        "README.md walks through the Slack setup.",
    ]
    out.write("\n".join(lines) + "\n")
