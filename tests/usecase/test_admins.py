"""Who is a PMO admin (bot/access/admins.py): PMO_ADMINS, plus those granted in Slack, read
from the database at every check so a grant counts at once in every replica."""

from __future__ import annotations

from bot.access.admins import add_admin, current_admins
from tests.usecase.conftest import ADMIN, PM, World


def test_a_granted_admin_counts_at_once_and_is_granted_once(world: World) -> None:
    assert current_admins(world.services) == {ADMIN}
    assert add_admin(world.services, actor=ADMIN, user_id=PM) is True
    assert current_admins(world.services) == {ADMIN, PM}
    assert add_admin(world.services, actor=ADMIN, user_id=PM) is False  # already one
    assert add_admin(world.services, actor=PM, user_id=ADMIN) is False  # configured
