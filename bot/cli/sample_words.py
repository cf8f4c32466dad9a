"""The words a generated sample portfolio is made of: names of real public projects (from
`sample_projects.tsv`), people, and the phrases of status reports, risks and blockers.

Only the project names are real; everything else is invented. Some phrases carry `&`, `<`, `>`
and quotes on purpose, as real reports do: the demo then shows the escaping at work.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True, slots=True)
class PublicProject:
    name: str
    portfolio: str  # our grouping of the department or agency that published it
    source: str  # gmpp-2023, gmpp-2022, us-it-dashboard


@cache
def public_projects() -> tuple[PublicProject, ...]:
    """The project names of `sample_projects.tsv` (its header says where they come from)."""
    text = resources.files("bot.cli").joinpath("sample_projects.tsv").read_text("utf-8")
    rows = (line.split("\t") for line in text.splitlines() if line and not line.startswith("#"))
    return tuple(PublicProject(name, portfolio, source) for name, portfolio, source in rows)


FIRST_NAMES = (
    "Aaliyah", "Adebayo", "Aiko", "Alejandro", "Amara", "Amélie", "Anders", "Ananya", "Andrés",
    "Anika", "Arjun", "Astrid", "Beatriz", "Bilal", "Camille", "Carlos", "Chen", "Chloé",
    "Dariusz", "Deepa", "Diego", "Dmitri", "Elif", "Eliška", "Emeka", "Emma", "Fatima", "Felix",
    "Freya", "Gabriel", "Grace", "Hana", "Hélène", "Hiroshi", "Ibrahim", "Ingrid", "Isabel",
    "Jamal", "James", "Javier", "Jiho", "João", "Julia", "Kai", "Kamala", "Kenji", "Kwame",
    "Lars", "Leila", "Liam", "Lucía", "Magnus", "Maja", "Malik", "Marta", "Mateo", "Mei",
    "Mohammed", "Nadia", "Naoko", "Niamh", "Nikolai", "Noah", "Olamide", "Olivia", "Omar",
    "Oskar", "Priya", "Rafael", "Rania", "Ravi", "Rosa", "Saanvi", "Samuel", "Sanjay", "Sara",
    "Siobhán", "Sofia", "Søren", "Tariq", "Thandiwe", "Tomás", "Valentina", "Wei", "Yara",
    "Yusuf", "Zanele", "Zoë",
)  # fmt: skip
LAST_NAMES = (
    "Abara", "Adeyemi", "Andersson", "Bakker", "Banerjee", "Becker", "Bianchi", "Brennan",
    "Castillo", "Chatterjee", "Chen", "Costa", "Dąbrowski", "Da Silva", "Delacroix", "Dubois",
    "Duarte", "Eriksen", "Fernández", "Fischer", "Fitzgerald", "Fontaine", "García", "Haddad",
    "Hansen", "Hashemi", "Herrera", "Hoffmann", "Ibáñez", "Ivanova", "Jansen", "Kaminski",
    "Kapoor", "Kim", "Kowalczyk", "Lambert", "Larsen", "Lefèvre", "Li", "Lindqvist", "Lopez",
    "MacLeod", "Mahlangu", "Martin", "Mensah", "Moreau", "Müller", "Murphy", "Nakamura",
    "Novák", "Nwosu", "O'Brien", "O'Connor", "Okafor", "Olsen", "Osei", "Park", "Patel",
    "Petrova", "Popescu", "Quinn", "Rahman", "Ramírez", "Reddy", "Rossi", "Sato", "Schmidt",
    "Singh", "Sokolov", "Suzuki", "Tanaka", "Thompson", "Van der Berg", "Varga", "Walsh",
    "Wang", "Weber", "Williams", "Wójcik", "Yamamoto", "Yilmaz", "Zhang", "Zielinski",
)  # fmt: skip

# Where the PMs work: (IANA zone, Slack locale, weight).
WORK_ZONES = (
    ("Europe/London", "en-GB", 24),
    ("America/New_York", "en-US", 20),
    ("Europe/Paris", "fr-FR", 14),
    ("Europe/Berlin", "de-DE", 9),
    ("America/Los_Angeles", "en-US", 9),
    ("America/Chicago", "en-US", 6),
    ("Asia/Singapore", "en-GB", 7),
    ("Asia/Kolkata", "en-US", 6),
    ("Australia/Sydney", "en-AU", 5),
)  # fmt: skip

SUPPLIERS = (
    "Northwind Systems", "Contoso Consulting", "Globex & Partners", "Initech", "Umbrella Cloud",
    "Hooli Infrastructure", "Vandelay Industries", "Stark <Digital> Services", "Wayne Logistics",
    "O'Hara Engineering", "Acme Integration", "Tyrell Data",
)  # fmt: skip

TAGS = (
    "cloud", "data", "cyber", "erp", "legacy-exit", "regulatory", "citizen-facing", "ai",
    "estates", "procurement", "mobile", "network",
)  # fmt: skip

MILESTONES = (
    "Business case approved", "Supplier contract awarded", "Design signed off",
    "Build complete", "Data migration rehearsal", "Security accreditation",
    "User acceptance testing complete", "Go-live", "Hypercare exit", "Benefits review",
)  # fmt: skip

# Status report phrases by overall rating; {placeholders} are filled from the project's week.
SUMMARIES = {
    "green": (
        "Sprint {sprint} closed with {done} of {planned} stories done; next milestone on track.",
        "Preparation for the next milestone ({milestone}) on plan; burn rate as forecast.",
        "Good week: {supplier} delivered the {thing} build on time and testing started.",
        "All workstreams on track. {pct}% complete; no new issues raised at the board.",
        "Test cycle {sprint} passed with {defects} minor defects, none of them blocking.",
        "Steady progress: {done} of {planned} actions from the last board closed.",
        "Stakeholder sign-off received for the {thing} design; build starts next sprint.",
        "Pilot users rate the {thing} 4.2/5; feedback triaged into the backlog.",
    ),
    "amber": (
        "Next milestone ({milestone}) at risk: {supplier} is {weeks} weeks late on the {thing}.",
        "Defects rising in test ({defects} open, {critical} critical); re-planning the next cycle.",
        "Budget pressure: change requests add about {overrun}% to the forecast.",
        "Two key roles still vacant; delivery of the {thing} slowed down.",
        "Scope of the {thing} grew after the last workshop; re-estimating with the team.",
        "Integration with the {thing} slipped {weeks} weeks; critical path now through testing.",
        "Data quality below the threshold (< 95% clean records) for the migration rehearsal.",
    ),
    "red": (
        "Next milestone ({milestone}) will be missed: {supplier} cannot deliver the {thing}.",
        "Forecast overspend of {overrun}% with no agreed funding; work on the {thing} paused.",
        "Failed go/no-go review ({milestone}): {critical} critical defects still open.",
        "Key dependency on the {thing} is blocked; {weeks}-week delay expected.",
        "Security review raised {critical} high findings; the {thing} cannot go live as is.",
    ),
}
THINGS = (
    "case management system", "payments interface", "identity service", "data warehouse",
    "network refresh", "citizen portal", "HR & payroll module", "records archive",
    "mobile app", "cloud landing zone", "reporting suite", "scheduling engine",
)  # fmt: skip
PATHS_TO_GREEN = {
    "schedule": (
        "Re-baseline the plan with {supplier} by the next board and add a second test team.",
        "Agree a phased go-live for the {thing}; the critical features first.",
        "Recover {weeks} weeks by running build and test in parallel for two sprints.",
    ),
    "budget": (
        "Ask the investment board for contingency, or cut the {thing} reports to phase two.",
        "Renegotiate the {supplier} rate card; freeze non-essential change requests.",
    ),
    "scope": (
        "Freeze the scope of the {thing} at the next board; new requests go to phase two.",
        "Run a prioritisation workshop with the sponsor to trim the {thing} backlog.",
    ),
}
ACCOMPLISHMENTS = (
    "Closed {done} stories; ran the {thing} demo for the sponsor.",
    "Finished the {thing} test plan; onboarded two developers.",
    "Signed the {supplier} change note; updated the RAID log.",
    "Trained {planned} key users on the {thing}.",
)  # fmt: skip
NEXT_STEPS = (
    "Start test cycle {next}; prepare the readiness review ({milestone}).",
    "Confirm resourcing for the {thing} with {supplier}.",
    "Present the revised plan at the next steering committee.",
    "Complete the data migration rehearsal and the cutover checklist.",
)  # fmt: skip
HELP_NEEDED = (
    "Decision on extra funding of {overrun}% for the {thing}.",
    "Escalation to {supplier}'s account director: the {thing} is {weeks} weeks late.",
    "Sponsor to confirm the phased approach for the next milestone ({milestone}).",
    "Two more testers for four weeks to clear the {critical} critical defects.",
)  # fmt: skip

RISKS = (
    "{supplier} may not deliver the {thing} on time",
    "Key staff may leave before the next milestone ({milestone})",
    "Data migration quality below the go-live threshold",
    "Security accreditation of the {thing} may slip",
    "Costs of the {thing} may exceed the approved budget",
    "Users may not adopt the {thing}",
    "Dependency on the legacy {thing} contract ending",
    "Regulatory change may alter the {thing} requirements",
    "Test environments unavailable for the {thing}",
    "Benefits of the {thing} overestimated in the business case",
)  # fmt: skip
MITIGATIONS = (
    "Weekly checkpoint with {supplier}; penalty clause invoked if late.",
    "Knowledge transfer plan and a retention bonus for key roles.",
    "Extra data cleansing sprint before the rehearsal.",
    "Early engagement with the accreditor; evidence pack prepared.",
    "Monthly cost review with the finance business partner.",
)  # fmt: skip
BLOCKERS = (
    "Waiting for the {thing} environment from {supplier}",
    "Purchase order for the {thing} licences not approved",
    "No decision on the {thing} hosting option",
    "Firewall change for the {thing} stuck in the change board",
    "Test data for the {thing} not released by the data owner",
    "Contract variation with {supplier} unsigned",
)  # fmt: skip
SKIP_NOTES = (
    "Team at the annual planning offsite",
    "Project board moved to next week; nothing new to say",
    "Reporting merged with the programme report this week",
)  # fmt: skip
