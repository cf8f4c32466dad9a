"""What every use case and handler needs, built once by the composition root."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings
from bot.render import Renderer
from bot.slack.gateway import SlackGateway


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    sessions: sessionmaker[Session]
    gateway: SlackGateway
    renderer: Renderer
    clock: Callable[[], datetime]  # aware UTC; the only way code below the root learns the time
