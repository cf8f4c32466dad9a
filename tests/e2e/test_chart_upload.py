"""The digest's chart goes to Slack the way Slack takes files now (files.upload is retired):
files.getUploadURLExternal, the bytes to the upload URL, files.completeUploadExternal, through
a real WebClient against FakeSlack; a failure at any step is a SlackError naming the step."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from bot.digest.chart import ChartData, PeriodCounts, alt_text, render_chart
from bot.slack.gateway import Posted, SlackError
from bot.slack.pacing import Pacer
from bot.slack.web_api import WebApiGateway, build_client
from tests.e2e.conftest import VirtualTime
from tests.fakes.fake_slack import FakeSlack

CHANNEL = "C0LEADERS"
DATA = ChartData(
    periods=(
        PeriodCounts("10 Dec", 2, 6, 12, 2),
        PeriodCounts("17 Dec", 3, 5, 12, 2),
        PeriodCounts("24 Dec", 3, 5, 12, 2),
    ),
    heatmap=((1, 0, 0, 0, 0), (0, 2, 0, 0, 0), (0, 0, 1, 0, 0), (0, 0, 0, 1, 0), (0, 0, 0, 0, 1)),
    title="#leadership",
)


class RecordingPacer(Pacer):
    def __init__(self, time: VirtualTime) -> None:
        super().__init__(clock=time, sleep=time.sleep)
        self.methods: list[str] = []

    def wait(self, method: str, *, channel: str | None = None) -> None:
        self.methods.append(method)
        super().wait(method, channel=channel)


@dataclass
class Setup:
    fake: FakeSlack
    gateway: WebApiGateway
    pacer: RecordingPacer
    sleeps: list[float] = field(default_factory=list)  # the retry handlers' backoff

    def post_digest(self) -> Posted:
        return self.gateway.post_message(
            channel=CHANNEL, text="Portfolio digest", blocks=[], thread_ts=None
        )

    def upload(self, thread_ts: str | None, png: bytes, alt: str = "A chart") -> None:
        self.gateway.upload_file(
            channel=CHANNEL,
            thread_ts=thread_ts,
            filename="portfolio-2026-12-24.png",
            content=png,
            title="Portfolio health",
            alt_text=alt,
        )


@pytest.fixture
def setup(fake_slack: FakeSlack) -> Iterator[Setup]:
    sleeps: list[float] = []
    pacer = RecordingPacer(VirtualTime())
    client = build_client(
        token=fake_slack.bot_token, base_url=fake_slack.base_url, sleep=sleeps.append
    )
    yield Setup(fake_slack, WebApiGateway(client, pacer), pacer, sleeps)


@pytest.fixture(scope="module")
def png() -> bytes:
    return render_chart(DATA, "en")


def test_the_chart_is_uploaded_into_the_digest_thread(setup: Setup, png: bytes) -> None:
    digest = setup.post_digest()
    setup.upload(digest.ts, png, alt_text(DATA, "en"))

    fake = setup.fake
    methods = [c.method for c in fake.calls if c.method != "chat.postMessage"]
    assert methods == ["files.getUploadURLExternal", "upload", "files.completeUploadExternal"]
    (get_url,) = fake.calls_to("files.getUploadURLExternal")
    assert get_url.params["filename"] == "portfolio-2026-12-24.png"
    assert int(get_url.params["length"]) == len(png)
    assert get_url.params["alt_txt"] == alt_text(DATA, "en")  # Slack takes alt text here
    assert get_url.token == fake.bot_token
    (upload,) = fake.calls_to("upload")
    assert upload.params["length"] == len(png)
    assert "authorization" not in upload.headers  # the upload URL is not the Web API
    (complete,) = fake.calls_to("files.completeUploadExternal")
    assert complete.params["channel_id"] == CHANNEL
    assert complete.params["thread_ts"] == digest.ts
    files = complete.params["files"]
    files = json.loads(files) if isinstance(files, str) else files
    assert files == [{"id": fake.files[0]["id"], "title": "Portfolio health"}]

    (shared,) = fake.files
    assert shared["name"] == "portfolio-2026-12-24.png"
    assert shared["title"] == "Portfolio health"
    assert shared["bytes"] == png
    assert shared["channel"] == CHANNEL
    assert shared["thread_ts"] == digest.ts
    # Both Web API calls wait their turn (Tier 4), like every other call of the gateway.
    assert setup.pacer.methods == [
        "chat.postMessage",
        "files.getUploadURLExternal",
        "files.completeUploadExternal",
    ]


def test_without_a_thread_the_file_goes_to_the_channel(setup: Setup, png: bytes) -> None:
    setup.upload(None, png)
    (shared,) = setup.fake.files
    assert shared["channel"] == CHANNEL
    assert not shared["thread_ts"]


@pytest.mark.parametrize(
    ("method", "error"),
    [
        ("files.getUploadURLExternal", "file_uploads_disabled"),
        ("files.completeUploadExternal", "not_in_channel"),
    ],
)
def test_slack_refusing_a_step_raises_its_code(
    setup: Setup, png: bytes, method: str, error: str
) -> None:
    digest = setup.post_digest()
    setup.fake.fail(method, error=error)
    with pytest.raises(SlackError) as raised:
        setup.upload(digest.ts, png)
    assert (raised.value.code, raised.value.method) == (error, method)
    assert setup.fake.files == []
    if method == "files.getUploadURLExternal":
        assert setup.fake.calls_to("upload") == []  # it stopped at the first step


def test_a_failing_upload_url_raises(setup: Setup, png: bytes) -> None:
    digest = setup.post_digest()
    setup.fake.fail("upload", status=500)
    with pytest.raises(SlackError) as raised:
        setup.upload(digest.ts, png)
    assert (raised.value.code, raised.value.method) == ("http_500", "upload")
    assert setup.fake.calls_to("files.completeUploadExternal") == []
    assert setup.fake.files == []


def test_a_server_error_is_retried_then_raised(setup: Setup, png: bytes) -> None:
    digest = setup.post_digest()
    setup.fake.fail("files.completeUploadExternal", status=500)  # once: the retry succeeds
    setup.upload(digest.ts, png)
    assert len(setup.fake.files) == 1
    assert len(setup.sleeps) == 1

    setup.fake.fail("files.completeUploadExternal", status=503, times=3)  # more than retries
    with pytest.raises(SlackError) as raised:
        setup.upload(digest.ts, png)
    assert (raised.value.code, raised.value.method) == ("http_503", "files.completeUploadExternal")
    assert len(setup.fake.files) == 1


def test_an_unknown_channel_raises(setup: Setup, png: bytes) -> None:
    with pytest.raises(SlackError) as raised:
        setup.gateway.upload_file(
            channel="C0NOWHERE",
            thread_ts=None,
            filename="chart.png",
            content=png,
            title="Chart",
            alt_text="A chart",
        )
    assert raised.value.code == "channel_not_found"
    assert raised.value.method == "files.completeUploadExternal"
