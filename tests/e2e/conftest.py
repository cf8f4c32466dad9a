"""End-to-end harness: the real Bolt app served over HTTP (waitress, port 0), talking to
FakeSlack through SLACK_API_URL, driven by requests signed as Slack signs them.

Time is injected: the app's clock is `harness.clock`, and ticks run at chosen instants.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from socketserver import ThreadingMixIn
from typing import Any, ParamSpec, TypeVar
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest

import bot.render
from bot.app import build_app, wsgi_app
from bot.config import load_settings
from bot.delivery.tick import TickResult, tick
from bot.portfolio.importing import import_portfolio
from bot.render import Renderer
from bot.services import Services
from bot.slack.pacing import Pacer
from bot.slack.web_api import WebApiGateway, build_client
from storage.db import make_engine, make_sessionmaker
from tests.conftest import migrate
from tests.fakes.fake_slack import FakeSlack
from tests.fakes.slack_driver import SlackDriver

P = ParamSpec("P")
R = TypeVar("R")
SECRET = "e2e-signing-secret"
PM_PARIS, PM_NEW_YORK, ADMIN, OUTSIDER, SPONSOR = (
    "U0PMPARIS1",
    "U0PMNYC001",
    "U0ADMIN001",
    "U0OUTSIDE1",
    "U0SPONSOR1",
)
PORTFOLIO = f"""
projects:
  - key: ATLAS
    name: Atlas ERP migration
    pm: {PM_PARIS}
    sponsor: {SPONSOR}
    portfolio: Operations
    priority: 1
    end: 2027-06-30
  - key: BOREAL
    name: Boreal CRM rollout
    pm: {PM_NEW_YORK}
    portfolio: Digital
    priority: 2
digests:
  - channel: C0LEADERS
    timezone: Europe/Paris
"""


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    """The WSGI app over real HTTP in tests (production serves the same app with waitress)."""

    daemon_threads = True
    request_queue_size = 64  # clicks arriving all at once wait to be accepted, not refused


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class InlineExecutor(Executor):
    """Runs Bolt's listeners in the request thread, so what they send is recorded by the time
    the HTTP response returns (no polling, no sleeps)."""

    def submit(self, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> Future[R]:
        future: Future[R] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # handed to Bolt through the future, as a pool would
            future.set_exception(exc)
        return future


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@dataclass
class VirtualTime:
    """Monotonic time that only moves when something sleeps on it: the pacer's (and, when a
    test enforces Slack's rate limits, the fake's), so pacing is tested without waiting."""

    at: float = 1_000.0
    slept: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.at

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.at += seconds


@dataclass
class Harness:
    fake: FakeSlack
    driver: SlackDriver
    services: Services
    clock: Clock
    database_url: str
    sleeps: list[float] = field(default_factory=list)  # the retry handlers' waits (Retry-After)
    pace: VirtualTime = field(default_factory=VirtualTime)  # the pacer's clock
    pacer: Pacer | None = None

    def tick(self, at: datetime) -> TickResult:
        self.clock.now = at
        return tick(self.services, now=at)

    def prompts_to(self, user_id: str) -> list[dict[str, Any]]:
        """The prompts in a user's DM, in any language (their buttons' block is "prompt")."""
        return [
            m
            for m in self.fake.messages(user_id)
            if any(b.get("block_id") == "prompt" for b in m.get("blocks") or [])
        ]

    def digests(self, channel: str) -> list[dict[str, Any]]:
        """The digests posted in a channel: its top-level messages (the full reports and the
        chart are replies in each digest's thread)."""
        return [m for m in self.fake.messages(channel) if m.get("thread_ts") in (None, m["ts"])]

    def last_response(self) -> dict[str, Any]:
        assert self.fake.responses, "the bot sent nothing to the response_url"
        return self.fake.responses[-1]

    def command(self, user_id: str, text: str) -> dict[str, Any]:
        """Run `/pmo text` and return what the user was answered (via response_url)."""
        before = len(self.fake.responses)
        response = self.driver.command(user_id, text)
        assert response.status == 200, response.body
        assert len(self.fake.responses) == before + 1, "expected exactly one answer"
        return self.last_response()

    def open_modal(self, user_id: str, prompt: dict[str, Any]) -> dict[str, Any]:
        """Click the prompt's button; return the modal Slack opened."""
        before = len(self.fake.calls_to("views.open"))
        button = prompt["blocks"][-1]["elements"][0]
        response = self.driver.block_action(
            user_id,
            button["action_id"],
            value=button["value"],
            block_id="prompt",
            message=prompt,
            channel_id=prompt["channel"],
        )
        assert response.status == 200, response.body
        opened = [v for v in self.fake.views if v.get("method") == "views.open"]
        assert len(self.fake.calls_to("views.open")) == before + 1, "no modal was opened"
        return opened[-1]


_BUILT_IN_RENDERER: list[Renderer] = []


def _renderer() -> Renderer:
    """A renderer of the built-in templates, one for the whole test process as `pmo-bot serve`
    has one for its whole life: building one per harness compiled every template again for
    each test (a fifth of these tests' time). A test that swaps `Renderer` for one over its own
    templates (monkeypatching this module's name) gets a new one from it each time, as before."""
    if Renderer is not bot.render.Renderer:
        return Renderer()
    if not _BUILT_IN_RENDERER:
        _BUILT_IN_RENDERER.append(Renderer())
    return _BUILT_IN_RENDERER[0]


def make_services(
    database_url: str,
    fake: FakeSlack,
    clock: Clock,
    sleeps: list[float],
    pacer: Pacer | None = None,
    timeout: int = 15,
) -> Services:
    settings = load_settings(
        {
            "SLACK_BOT_TOKEN": fake.bot_token,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": fake.base_url,
            "DATABASE_URL": database_url,
            "PMO_ADMINS": ADMIN,
            "PMO_TIMEZONE": "Europe/Paris",
        }
    )
    engine = make_engine(database_url)
    client = build_client(
        token=fake.bot_token,
        base_url=fake.base_url,
        sleep=sleeps.append,
        pacer=pacer,
        timeout=timeout,
    )
    return Services(
        settings=settings,
        sessions=make_sessionmaker(engine),
        gateway=WebApiGateway(client, pacer),
        renderer=_renderer(),
        clock=clock,
    )


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    fake.add_user(PM_PARIS, real_name="Camille Durand", tz="Europe/Paris", locale="fr-FR")
    fake.add_user(PM_NEW_YORK, real_name="Jordan Lee", tz="America/New_York")
    fake.add_user(ADMIN, real_name="Pat Admin", tz="Europe/Paris")
    fake.add_user(OUTSIDER, real_name="Olly Outsider", tz="Europe/London")
    fake.add_user(SPONSOR, real_name="Sam Sponsor", tz="Europe/Paris")
    fake.add_channel("C0LEADERS", name="leadership")
    fake.add_channel("C0GENERAL", name="general")
    yield fake
    fake.stop()


def start_harness(
    database_url: str,
    fake: FakeSlack,
    portfolio: str = PORTFOLIO,
    *,
    pace: VirtualTime | None = None,
    pacer: Pacer | None = None,
) -> tuple[Harness, Callable[[], None]]:
    """The app over HTTP, its services and a driver. `pace` is the pacer's virtual clock and
    `pacer` the pacer (default: a Pacer sleeping on `pace`), for tests that watch the pacing."""
    clock = Clock(datetime(2026, 11, 16, 8, 0, tzinfo=UTC))
    sleeps: list[float] = []
    pace = pace if pace is not None else VirtualTime()
    pacer = pacer if pacer is not None else Pacer(clock=pace, sleep=pace.sleep)
    migrate(database_url)  # a copy of the migrated template where the database is fresh
    services = make_services(database_url, fake, clock, sleeps, pacer)
    with services.sessions.begin() as session:
        import_portfolio(session, portfolio, now=clock.now)
    client = build_client(token=fake.bot_token, base_url=fake.base_url, sleep=sleeps.append)
    app = build_app(
        services, client=client, signing_secret=SECRET, listener_executor=InlineExecutor()
    )
    server = make_server(
        "127.0.0.1",
        0,
        wsgi_app(app),
        server_class=_ThreadingWSGIServer,
        handler_class=_QuietHandler,
    )
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
    )
    thread.start()
    driver = SlackDriver(f"http://127.0.0.1:{server.server_port}", SECRET, fake)
    harness = Harness(fake, driver, services, clock, database_url, sleeps, pace, pacer)

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join()
        services.sessions.kw["bind"].dispose()

    return harness, stop


@pytest.fixture
def harness(database_url: str, fake_slack: FakeSlack) -> Iterator[Harness]:
    running, stop = start_harness(database_url, fake_slack)
    yield running
    stop()
