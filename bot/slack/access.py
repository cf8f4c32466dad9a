"""May this process use Slack? The rule that pauses the bot while Slack refuses its token, and
resumes it when the token works again.

Slack refuses a bot token for good when the app is uninstalled (event `app_uninstalled`), the
token revoked (`tokens_revoked`) or the workspace's account deactivated: every call then
answers one of REFUSED. Planning and sending against such a token would only fail, every
minute, for every person. So a refusal is recorded in the database, under a fingerprint of
the token (never the token itself), and while one is recorded for the token a process holds:

* the tick neither plans nor sends (bot.delivery.tick); a delivery whose send was refused goes
  back to pending, unchanged but for its attempt, and every record is kept;
* `/readyz` says so (bot.operations.health);
* once every RECHECK_EVERY, one replica (whichever claims the check) tries the token again
  with auth.test. When Slack accepts it, the refusal is forgotten and the tick goes on at
  once: deliveries that waited are composed then, so those that went stale meanwhile (a
  period that ended, a report that arrived) are dropped by their composers, not sent late.

Keyed by token, a refusal pauses every replica that holds the refused token, and none that
was given a new one (after a reinstall, the operator deploys the new token; its replicas
work while the old ones stay paused until they are replaced).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from bot.slack.gateway import SlackError, SlackGateway
from storage import coordination
from storage.records import AccessRefusal

log = logging.getLogger(__name__)

# Slack's answers that mean the token will not work by retrying the call.
REFUSED = frozenset(
    {"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive"}
)
RECHECK_EVERY = timedelta(minutes=1)


def token_key(token: str | None) -> str:
    """A fingerprint of the bot token (SHA-256, 16 hex digits): it names the token in the
    database and says nothing about it."""
    return hashlib.sha256((token or "").encode()).hexdigest()[:16]


def is_refusal(error: SlackError) -> bool:
    return error.code in REFUSED


@dataclass(frozen=True, slots=True)
class SlackAccess:
    """The rule for one process's token (`Services.access` builds it)."""

    sessions: sessionmaker[Session]
    key: str  # token_key of the bot token
    gateway: SlackGateway
    clock: Callable[[], datetime]

    def refused(self, reason: str) -> None:
        """Record that Slack refuses the token (`reason`: Slack's answer or the event), and
        say so once in the logs."""
        with self.sessions.begin() as session:
            new = coordination.refuse_access(session, self.key, reason=reason, at=self.clock())
        if new:
            log.warning(
                "Slack refuses the bot token (%s): planning and sending are paused, every "
                "record is kept, and the token is tried again every %d s",
                reason,
                RECHECK_EVERY.total_seconds(),
                extra={"event": "slack_access_lost", "reason": reason},
            )

    def verify(self, because: str) -> bool:
        """Ask Slack now whether it accepts the token (`because`: what made us ask, e.g. an
        event saying tokens were revoked, or the start): a refusal is recorded, and a refusal
        recorded before is forgotten when Slack accepts it. True if Slack accepts it. Any
        other failure (Slack unreachable) is raised as SlackError: nothing is known."""
        try:
            self.gateway.auth_test()
        except SlackError as exc:
            if not is_refusal(exc):
                raise
            self.refused(f"{because}, then auth.test: {exc.code}")
            return False
        self._restored(self.refusal())
        return True

    def refusal(self) -> AccessRefusal | None:
        """The recorded refusal of the token, if any (nothing is asked of Slack)."""
        with self.sessions.begin() as session:
            return coordination.find_refusal(session, self.key)

    def paused(self) -> AccessRefusal | None:
        """Whether the tick must pause: None when the token is not refused, or when it was
        and works again (tried here when this process claims the check that is due)."""
        found = self.refusal()
        if found is None:
            return None
        now = self.clock()
        with self.sessions.begin() as session:
            due = coordination.claim_access_check(session, self.key, now=now, every=RECHECK_EVERY)
        if not due:
            return found
        try:
            self.gateway.auth_test()
        except SlackError as exc:
            log.info("the bot token is still refused: %s", exc.code)
            return found
        self._restored(found)
        return None

    def _restored(self, found: AccessRefusal | None) -> None:
        """Slack accepts the token: forget its refusal, if one was recorded, and say so."""
        if found is None:
            return
        with self.sessions.begin() as session:
            if not coordination.restore_access(session, self.key):
                return  # another replica saw it first, and said so
        log.warning(
            "Slack accepts the bot token again, after %d s: planning and sending resume",
            (self.clock() - found.since).total_seconds(),
            extra={"event": "slack_access_restored", "reason": found.reason},
        )

    def problem(self) -> str | None:
        """What `/readyz` says while the token is refused, else None."""
        found = self.refusal()
        if found is None:
            return None
        return (
            f"Slack refuses the bot token since {found.since.isoformat()} ({found.reason}): "
            "nothing is planned or sent until it works again"
        )
