"""Who may report on a project, remind its PM, decide what it asks, and see it (alone, or in
a channel); who its roles name to hear its decisions and its closing."""

from __future__ import annotations

import pytest

from bot.access.admins import is_admin
from bot.access.audience import Audience
from bot.access.permissions import (
    can_decide,
    can_remind,
    can_submit,
    can_view,
    kept_informed,
    shown_in_channel,
)
from storage.records import Project, Roles
from tests import factories

ADMINS = frozenset({"U0ADMIN01"})
PROJECT = factories.project(
    pm="U0PM00001", sponsor="U0SPONSOR", delegates=("U0DEPUTY1", "U0DEPUTY2")
)
SECRET = factories.project(
    "SECRET", pm="U0PM00001", sponsor="U0SPONSOR", delegates=("U0DEPUTY1",), confidential=True
)


@pytest.mark.parametrize(
    ("user", "allowed"),
    [
        ("U0PM00001", True),  # the PM
        ("U0DEPUTY1", True),  # a delegate
        ("U0DEPUTY2", True),
        ("U0ADMIN01", True),  # a PMO admin
        ("U0SPONSOR", False),  # the sponsor reads, does not report
        ("U0OTHER01", False),
        ("u0pm00001", False),  # ids are exact
        ("", False),
    ],
)
def test_can_submit_only_pm_delegates_and_admins(user: str, allowed: bool) -> None:
    assert can_submit(user, PROJECT, ADMINS) is allowed
    assert can_submit(user, SECRET, ADMINS) is (allowed and user != "U0DEPUTY2")


def test_without_admins_an_admin_id_is_just_another_user() -> None:
    assert can_submit("U0ADMIN01", PROJECT, ()) is False
    assert is_admin("U0ADMIN01", ADMINS) and not is_admin("U0ADMIN01", ())


@pytest.mark.parametrize(
    "user", ["U0PM00001", "U0SPONSOR", "U0DEPUTY1", "U0ADMIN01", "U0OTHER01", ""]
)
def test_everyone_can_view_a_project_that_is_not_confidential(user: str) -> None:
    assert can_view(user, PROJECT, ADMINS) is True


@pytest.mark.parametrize(
    ("user", "allowed"),
    [
        ("U0PM00001", True),
        ("U0SPONSOR", True),
        ("U0DEPUTY1", True),
        ("U0ADMIN01", True),
        ("U0DEPUTY2", False),  # a delegate of another project
        ("U0OTHER01", False),
        ("", False),
    ],
)
def test_confidential_project_is_visible_only_to_its_people_and_admins(
    user: str, allowed: bool
) -> None:
    assert can_view(user, SECRET, ADMINS) is allowed


def test_confidential_project_without_sponsor_is_not_visible_to_an_empty_id() -> None:
    project = factories.project(confidential=True, sponsor=None)
    assert can_view("", project, ADMINS) is False
    assert can_view("U0OTHER01", project, ADMINS) is False


@pytest.mark.parametrize(
    ("user", "allowed"),
    [("U0ADMIN01", True), ("U0SPONSOR", True), ("U0PM00001", False), ("U0OTHER01", False)],
)
def test_only_admins_and_the_sponsor_may_remind(user: str, allowed: bool) -> None:
    assert can_remind(user, PROJECT, ADMINS) is allowed
    assert can_remind("", factories.project(sponsor=None), ADMINS) is False


@pytest.mark.parametrize(
    ("user", "allowed"),
    [
        ("U0SPONSOR", True),  # the project's sponsor
        ("U0ADMIN01", True),  # a PMO admin
        ("U0DECIDER", True),  # named a decider by a digest subscription
        ("U0PM00001", False),  # the PM asks; leadership decides
        ("U0DEPUTY1", False),
        ("U0OTHER01", False),
        ("", False),
    ],
)
def test_the_sponsor_admins_and_named_deciders_may_decide(user: str, allowed: bool) -> None:
    assert can_decide(user, PROJECT, ADMINS, deciders={"U0DECIDER"}) is allowed
    assert can_decide("", factories.project(sponsor=None), ADMINS) is False


@pytest.mark.parametrize(
    ("project", "channel_keys", "shown"),
    [
        (PROJECT, frozenset(), True),  # read by everyone in the channel: not confidential
        (SECRET, frozenset(), False),
        (SECRET, frozenset({"ATLAS"}), False),
        (SECRET, frozenset({"SECRET"}), True),  # the channel's digest names it
    ],
)
def test_a_confidential_project_is_shown_in_a_channel_only_where_its_digest_names_it(
    project: Project, channel_keys: frozenset[str], shown: bool
) -> None:
    assert shown_in_channel(project, channel_keys) is shown
    # The same rule for an answer posted in a channel, whoever asked.
    assert Audience("U0ADMIN01", ADMINS, channel_keys).sees(project) is shown
    assert Audience("U0OTHER01", ADMINS, None).sees(project) is not project.confidential


def test_the_accountable_and_the_informed_are_kept_informed_once_each_by_their_first_role() -> None:
    roles = Roles(
        accountable="U0SPONSOR",
        responsible=("U0PM00001",),
        consulted=("U0OTHER01",),
        informed=("U0CFO0001", "U0SPONSOR", "erased-1a2b", "U0CFO0001"),
    )
    assert kept_informed(factories.project(roles=roles)) == {
        "U0SPONSOR": "accountable",  # named twice: told once, as accountable
        "U0CFO0001": "informed",
    }  # an erased person's pseudonym is no one to tell
    assert kept_informed(factories.project(roles=Roles(informed=("U0CFO0001",)))) == {
        "U0CFO0001": "informed"
    }
    assert kept_informed(PROJECT) == {}


@pytest.mark.parametrize(
    ("user", "allowed"),
    [
        ("U0ACCOUNT1", True),
        ("U0RESPONS1", True),
        ("U0CONSULT1", True),
        ("U0INFORMD1", True),
        ("U0OTHER01", False),
    ],
)
def test_a_confidential_project_is_visible_to_everyone_its_roles_name(
    user: str, allowed: bool
) -> None:
    """Its RACI names them, and tells its accountable and informed its decisions and its
    closing: /pmo status and the rest show it to them too."""
    roles = Roles("U0ACCOUNT1", ("U0RESPONS1",), ("U0CONSULT1",), ("U0INFORMD1",))
    project = factories.project(confidential=True, roles=roles)
    assert can_view(user, project, ADMINS) is allowed
