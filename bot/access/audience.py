"""Who will read an answer, and so which projects it may show."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from bot.access.permissions import can_view, shown_in_channel
from storage import portfolio
from storage.records import Project, ProjectState, Subscription


@dataclass(frozen=True, slots=True)
class Audience:
    """Who will read an answer: the asker, and when the answer is posted in a channel
    (`public`), that channel too. A confidential project is shown only to those who may see it
    (its PM, sponsor, delegates, admins), and in a channel only if the channel's digest names
    its key (`channel_keys`)."""

    actor: str
    admins: Collection[str]
    channel_keys: frozenset[str] | None = None  # None: the answer is for the asker only

    def sees(self, project: Project) -> bool:
        if not can_view(self.actor, project, self.admins):
            return False
        return self.channel_keys is None or shown_in_channel(project, self.channel_keys)

    @property
    def privately(self) -> Audience:
        return Audience(self.actor, self.admins)


def channel_audience(
    session: Session, *, actor: str, admins: Collection[str], channel: str | None
) -> Audience:
    """The audience of an answer for the asker only (`channel` None) or posted in `channel`."""
    if channel is None:
        return Audience(actor, admins)
    subscription = portfolio.find_subscription(session, channel) if channel else None
    return Audience(actor, admins, frozenset(subscription.keys if subscription else ()))


def visible_projects(
    session: Session, audience: Audience, *, states: Iterable[ProjectState] | None = None
) -> list[Project]:
    """The projects (in the given states) the audience may see, by key."""
    return [p for p in portfolio.list_projects(session, states=states) if audience.sees(p)]


def selects(subscription: Subscription, project: Project) -> bool:
    """Whether a digest subscription's filter selects a project, whatever its state: its keys,
    portfolio and tags (every filter given must match); a confidential project only where
    the subscription names its key. The channel's audience, as the digest and a decision's
    announcement read it (here, so that both ask it without one importing the other)."""
    if not shown_in_channel(project, subscription.keys):
        return False
    if subscription.keys and project.key not in subscription.keys:
        return False
    if subscription.portfolio and (project.portfolio or "").casefold() != (
        subscription.portfolio.casefold()
    ):
        return False
    wanted = {t.casefold() for t in subscription.tags}
    return not wanted or bool(wanted & {t.casefold() for t in project.tags})
