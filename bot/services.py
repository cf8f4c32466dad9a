"""What every use case and handler needs, built once by the composition root."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings
from bot.render import Renderer
from bot.slack.access import SlackAccess, token_key
from bot.slack.gateway import SlackGateway


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    sessions: sessionmaker[Session]
    gateway: SlackGateway
    renderer: Renderer
    clock: Callable[[], datetime]  # aware UTC; the only way code below the root learns the time
    # Who this process is among the replicas (host, process, a random part), for the leases
    # on jobs one replica does for all.
    replica: str = field(default_factory=lambda: _replica_name())

    @property
    def access(self) -> SlackAccess:
        """Whether Slack accepts this process's bot token (bot/slack/access.py)."""
        return SlackAccess(
            self.sessions, token_key(self.settings.slack_bot_token), self.gateway, self.clock
        )


def _replica_name() -> str:
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
