"""Tests of FakeSlack and SlackDriver themselves, against slack_sdk, Bolt and Slack's documented
examples, so the fakes do not just mirror our own assumptions."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
import yaml
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import ConnectionErrorRetryHandler, FixedValueRetryIntervalCalculator
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient

from .fake_slack import DEFAULT_SCOPES, FakeSlack
from .slack_driver import SlackDriver, view_state

SECRET = "test-signing-secret"
TOKEN = "xoxb-test-token"


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "http_proxy",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as f:
        f.add_user("U1", name="alice", real_name="Alice A", tz="Europe/Berlin", locale="de-DE")
        f.add_user("U2", name="bob", tz="America/New_York")
        f.add_user("UGONE", deleted=True)
        f.add_channel("C0GENERAL", name="general")
        f.add_channel("C0OUTSIDE", name="outside", is_member=False)
        yield f


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    return WebClient(token=TOKEN, base_url=fake.base_url, retry_handlers=[], timeout=5)


MODAL = {
    "type": "modal",
    "callback_id": "status_report",
    "private_metadata": "project=42",
    "title": {"type": "plain_text", "text": "Status"},
    "submit": {"type": "plain_text", "text": "Send"},
    "blocks": [
        {"type": "section", "text": {"type": "mrkdwn", "text": "Report for *Apollo*"}},
        {
            "type": "input",
            "block_id": "summary",
            "label": {"type": "plain_text", "text": "Summary"},
            "element": {
                "type": "plain_text_input",
                "action_id": "summary_input",
                "multiline": True,
            },
        },
        {
            "type": "input",
            "block_id": "rag",
            "label": {"type": "plain_text", "text": "RAG"},
            "element": {
                "type": "static_select",
                "action_id": "rag_select",
                "options": [
                    {"text": {"type": "plain_text", "text": t}, "value": t.lower()}
                    for t in ("Green", "Amber", "Red")
                ],
            },
        },
        {
            "type": "input",
            "block_id": "pct",
            "optional": True,
            "label": {"type": "plain_text", "text": "% done"},
            "element": {
                "type": "number_input",
                "action_id": "pct_input",
                "is_decimal_allowed": False,
            },
        },
        {
            "type": "input",
            "block_id": "due",
            "optional": True,
            "label": {"type": "plain_text", "text": "Due"},
            "element": {
                "type": "datepicker",
                "action_id": "due_date",
                "initial_date": "2030-01-31",
            },
        },
        {
            "type": "input",
            "block_id": "risks",
            "optional": True,
            "label": {"type": "plain_text", "text": "Risks"},
            "element": {
                "type": "checkboxes",
                "action_id": "risk_boxes",
                "options": [
                    {"text": {"type": "plain_text", "text": t}, "value": t}
                    for t in ("scope", "budget", "people")
                ],
            },
        },
    ],
}


# ------------------------------------------------------------------------- signing


def test_signature_known_answer_vector_from_slack_docs() -> None:
    """Slack's published example (also in python-slack-sdk's own tests)."""
    secret = "8f742231b10e8888abcd99yyyzzz85a5"
    body = (
        "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&"
        "channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&"
        "command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands"
        "%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&"
        "trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    )
    expected = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
    driver = SlackDriver("http://127.0.0.1:9", secret, FakeSlack())
    assert driver.sign(body, 1531420618) == expected
    independent = hmac.new(secret.encode(), f"v0:1531420618:{body}".encode(), hashlib.sha256)
    assert "v0=" + independent.hexdigest() == expected


class _Capture(BaseHTTPRequestHandler):
    """A stand-in bot that records what the driver sends."""

    received: list[tuple[dict[str, str], str]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        self.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def capture() -> Iterator[tuple[str, list[tuple[dict[str, str], str]]]]:
    received: list[tuple[dict[str, str], str]] = []
    handler = type("H", (_Capture,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", received
    server.shutdown()
    server.server_close()


def test_driver_signs_every_request_and_can_mis_sign(fake: FakeSlack, capture: Any) -> None:
    url, received = capture
    driver = SlackDriver(url, SECRET, fake)
    verifier = SignatureVerifier(SECRET)
    driver.command("U1", "status Apollo")
    driver.command("U1", "x", signature="bad")
    driver.command("U1", "x", signature="stale", retry_num=2)
    driver.event({"type": "app_home_opened", "user": "U1"}, signature="missing")
    (h1, b1), (h2, b2), (h3, b3), (h4, _) = received
    assert verifier.is_valid(b1, h1["x-slack-request-timestamp"], h1["x-slack-signature"])
    assert abs(int(h1["x-slack-request-timestamp"]) - time.time()) < 5
    assert not verifier.is_valid(b2, h2["x-slack-request-timestamp"], h2["x-slack-signature"])
    # stale: correctly signed, but 10 minutes old, so outside Slack's 5-minute window
    assert h3["x-slack-signature"] == driver.sign(b3, h3["x-slack-request-timestamp"])
    assert not verifier.is_valid(b3, h3["x-slack-request-timestamp"], h3["x-slack-signature"])
    assert (h3["x-slack-retry-num"], h3["x-slack-retry-reason"]) == ("2", "http_timeout")
    assert "x-slack-signature" not in h4

    form = {k: v[0] for k, v in parse_qs(b1, keep_blank_values=True).items()}
    assert h1["content-type"] == "application/x-www-form-urlencoded"
    assert form["command"] == "/pmo" and form["text"] == "status Apollo"
    assert form["user_id"] == "U1" and form["team_id"] == "T0TEST"
    assert form["channel_name"] == "general"
    assert form["response_url"].startswith(fake.url + "/response/")
    assert form["trigger_id"].count(".") == 2


def test_view_state_shapes_follow_slack() -> None:
    view = {"id": "V1", "hash": "h", **MODAL}
    state = view_state(
        view, {"summary": "On track", "rag": "amber", "pct": 40, "risks": ["budget"]}
    )
    values = state["values"]
    assert values["summary"] == {"summary_input": {"type": "plain_text_input", "value": "On track"}}
    assert values["rag"]["rag_select"] == {
        "type": "static_select",
        "selected_option": {"text": {"type": "plain_text", "text": "Amber"}, "value": "amber"},
    }
    assert values["pct"] == {"pct_input": {"type": "number_input", "value": "40"}}
    # untouched datepicker keeps its initial_date, as Slack sends it
    assert values["due"] == {"due_date": {"type": "datepicker", "selected_date": "2030-01-31"}}
    assert values["risks"]["risk_boxes"]["selected_options"][0]["value"] == "budget"
    empty = view_state(view, {})["values"]
    assert empty["summary"]["summary_input"]["value"] is None
    assert empty["rag"]["rag_select"]["selected_option"] is None
    assert empty["risks"]["risk_boxes"]["selected_options"] == []
    with pytest.raises(ValueError, match="no input block"):
        view_state(view, {"nope": "x"})
    with pytest.raises(ValueError, match="no option with value 'purple'"):
        view_state(view, {"rag": "purple"})


# ------------------------------------------------------------------------- Web API via slack_sdk


def test_a_refused_token_fails_every_call_until_accepted_again(
    fake: FakeSlack, client: WebClient
) -> None:
    fake.refuse_token()
    for call in (client.auth_test, lambda: client.users_info(user="U0PMOBOT")):
        with pytest.raises(SlackApiError) as e:
            call()
        assert e.value.response["error"] == "token_revoked"
    fake.refuse_token(error="account_inactive")
    with pytest.raises(SlackApiError) as e:
        client.auth_test()
    assert e.value.response["error"] == "account_inactive"
    fake.accept_token()
    assert client.auth_test()["user_id"] == "U0PMOBOT"


def test_auth(fake: FakeSlack, client: WebClient) -> None:
    resp = client.auth_test()
    assert (resp["team_id"], resp["user_id"], resp["bot_id"]) == ("T0TEST", "U0PMOBOT", "B0PMOBOT")
    with pytest.raises(SlackApiError) as e:
        WebClient(token="xoxb-wrong", base_url=fake.base_url).auth_test()
    assert e.value.response.status_code == 200 and e.value.response["error"] == "invalid_auth"
    assert fake.calls[-1].token == "xoxb-wrong"
    assert fake.calls[0].headers["authorization"] == f"Bearer {TOKEN}"
    with pytest.raises(SlackApiError) as e:
        client.api_call("chat.frobnicate")
    assert e.value.response["error"] == "unknown_method"


def test_post_message_channels_dms_and_history(fake: FakeSlack, client: WebClient) -> None:
    r1 = client.chat_postMessage(
        channel="C0GENERAL", text="hello", metadata={"event_type": "t", "event_payload": {"a": 1}}
    )
    r2 = client.chat_postMessage(channel="C0GENERAL", text="reply", thread_ts=r1["ts"])
    r3 = client.chat_postMessage(
        channel="C0GENERAL",
        blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "*b*"}}],
        text="b",
    )
    assert r1["ts"] < r2["ts"] < r3["ts"] and r1["channel"] == "C0GENERAL"
    assert r1["message"]["user"] == "U0PMOBOT"

    history = client.conversations_history(channel="C0GENERAL", limit=10)["messages"]
    assert [m["text"] for m in history] == ["b", "hello"]  # newest first, no replies
    assert history[1]["reply_count"] == 1 and history[1]["metadata"]["event_payload"] == {"a": 1}
    replies = client.conversations_replies(channel="C0GENERAL", ts=r1["ts"])["messages"]
    assert [m["text"] for m in replies] == ["hello", "reply"]
    assert [m["text"] for m in fake.thread("C0GENERAL", r1["ts"])] == ["reply"]
    assert [m["text"] for m in fake.messages("C0GENERAL")] == ["hello", "reply", "b"]

    # a user id posts into the bot's DM with that user, the same D channel conversations.open gives
    dm = client.chat_postMessage(channel="U1", text="your report is due")
    opened = client.conversations_open(users="U1")
    assert dm["channel"] == opened["channel"]["id"] == fake.dm_channel("U1")
    assert dm["channel"].startswith("D")
    assert client.conversations_open(users="U1")["channel"]["id"] == dm["channel"]
    assert fake.messages("U1")[0]["text"] == "your report is due"

    updated = client.chat_update(channel="C0GENERAL", ts=r3["ts"], text="edited", blocks=[])
    assert updated["ts"] == r3["ts"] and fake.messages("C0GENERAL")[2]["text"] == "edited"


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"channel": "C0NOPE", "text": "x"}, "channel_not_found"),
        ({"channel": "UNOBODY", "text": "x"}, "channel_not_found"),
        ({"channel": "C0OUTSIDE", "text": "x"}, "not_in_channel"),
        ({"channel": "C0GENERAL"}, "no_text"),
        ({"channel": "C0GENERAL", "blocks": [{"type": "divider"}] * 51}, "invalid_blocks"),
        (
            {
                "channel": "C0GENERAL",
                "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}],
            },
            "invalid_blocks",
        ),
        (
            {
                "channel": "C0GENERAL",
                "blocks": [{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}],
            },
            "invalid_blocks",
        ),
    ],
)
@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
def test_post_message_errors(client: WebClient, kwargs: dict[str, Any], error: str) -> None:
    with pytest.raises(SlackApiError) as e:
        client.chat_postMessage(**kwargs)
    assert e.value.response["error"] == error


def test_message_edges(fake: FakeSlack, client: WebClient) -> None:
    ok = client.chat_postMessage(
        channel="C0GENERAL", blocks=[{"type": "divider"}] * 50, text="fifty"
    )
    assert ok["ok"]
    with pytest.raises(SlackApiError) as e:
        client.chat_update(channel="C0GENERAL", ts="1.000000", text="x")
    assert e.value.response["error"] == "message_not_found"
    with pytest.raises(SlackApiError) as e:
        client.chat_update(channel="C0GENERAL", ts=ok["ts"], text="x" * 4001)
    assert e.value.response["error"] == "msg_too_long"
    eph = client.chat_postEphemeral(channel="C0GENERAL", user="U1", text="psst")
    assert fake.ephemerals[0]["user"] == "U1" and fake.ephemerals[0]["ts"] == eph["message_ts"]
    assert all(m["text"] != "psst" for m in fake.messages("C0GENERAL"))
    for users, error in (("UNOBODY", "user_not_found"), ("UGONE", "user_disabled")):
        with pytest.raises(SlackApiError) as e:
            client.conversations_open(users=users)
        assert e.value.response["error"] == error
    fake.messages_tab_enabled = False
    with pytest.raises(SlackApiError) as e:
        client.chat_postMessage(channel="U2", text="x")
    assert e.value.response["error"] == "messages_tab_disabled"


def test_form_and_query_wire_formats(fake: FakeSlack) -> None:
    """Form bodies with JSON-in-string params, token as a form param, and GET query strings."""
    form = "token=xoxb-test-token&channel=C0GENERAL&text=hi&blocks=" + urllib.parse.quote(
        json.dumps([{"type": "divider"}])
    )
    req = urllib.request.Request(fake.base_url + "chat.postMessage", data=form.encode())
    with urllib.request.urlopen(req) as resp:
        assert json.load(resp)["ok"] is True
    assert fake.calls_to("chat.postMessage")[0].params["blocks"] == [{"type": "divider"}]
    with urllib.request.urlopen(fake.base_url + "users.info?user=U2&token=xoxb-test-token") as resp:
        assert json.load(resp)["user"]["name"] == "bob"
    # Slack ignores a token inside a JSON body
    req = urllib.request.Request(
        fake.base_url + "auth.test",
        data=json.dumps({"token": TOKEN}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req) as resp:
        assert json.load(resp)["error"] == "not_authed"


def test_users_info(fake: FakeSlack, client: WebClient) -> None:
    user = client.users_info(user="U1", include_locale=True)["user"]
    assert (user["id"], user["name"], user["real_name"], user["tz"]) == (
        "U1",
        "alice",
        "Alice A",
        "Europe/Berlin",
    )
    assert user["tz_offset"] in (3600, 7200) and user["tz_label"] in ("CET", "CEST")
    assert user["locale"] == "de-DE" and user["deleted"] is False and user["is_bot"] is False
    assert "locale" not in client.users_info(user="U1")["user"]
    assert client.users_info(user="UGONE")["user"]["deleted"] is True
    fake.set_user_tz("U1", "Asia/Kolkata")
    assert client.users_info(user="U1")["user"]["tz_offset"] == 19800
    with pytest.raises(SlackApiError) as e:
        client.users_info(user="UNOBODY")
    assert e.value.response["error"] == "user_not_found"


def test_views_open_trigger_rules_update_push_publish(fake: FakeSlack, client: WebClient) -> None:
    trigger = fake.new_trigger_id(user_id="U1")
    opened = client.views_open(trigger_id=trigger, view=MODAL)["view"]
    assert (
        opened["id"].startswith("V") and opened["hash"] and opened["callback_id"] == "status_report"
    )
    assert fake.views[-1]["method"] == "views.open" and fake.views[-1]["user_id"] == "U1"
    for trig, error in ((trigger, "exchanged_trigger_id"), ("123.456.abc", "invalid_trigger_id")):
        with pytest.raises(SlackApiError) as e:
            client.views_open(trigger_id=trig, view=MODAL)
        assert e.value.response["error"] == error

    with pytest.raises(SlackApiError) as e:
        client.views_update(view_id=opened["id"], hash="stale-hash", view=MODAL)
    assert e.value.response["error"] == "hash_conflict"
    with pytest.raises(SlackApiError) as e:
        client.views_update(view_id="V404", view=MODAL)
    assert e.value.response["error"] == "not_found"
    updated = client.views_update(view_id=opened["id"], hash=opened["hash"], view=MODAL)["view"]
    assert updated["id"] == opened["id"] and updated["hash"] != opened["hash"]

    for _ in range(2):
        client.views_push(trigger_id=fake.new_trigger_id(view_id=opened["id"]), view=MODAL)
    with pytest.raises(SlackApiError) as e:
        client.views_push(trigger_id=fake.new_trigger_id(view_id=opened["id"]), view=MODAL)
    assert e.value.response["error"] == "push_limit_reached"

    big = {**MODAL, "blocks": [{"type": "divider"}] * 101}
    with pytest.raises(SlackApiError) as e:
        client.views_open(trigger_id=fake.new_trigger_id(), view=big)
    assert e.value.response["error"] == "invalid_arguments"
    assert "100" in e.value.response["response_metadata"]["messages"][0]
    no_submit = {k: v for k, v in MODAL.items() if k != "submit"}
    with pytest.raises(SlackApiError) as e:
        client.views_open(trigger_id=fake.new_trigger_id(), view=no_submit)
    assert e.value.response["error"] == "invalid_arguments"

    home = {
        "type": "home",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}],
    }
    first = client.views_publish(user_id="U1", view=home)["view"]
    again = client.views_publish(user_id="U1", view=home, hash=first["hash"])["view"]
    assert again["id"] == first["id"] and fake.views[-1]["user_id"] == "U1"
    with pytest.raises(SlackApiError) as e:
        client.views_publish(user_id="U1", view=home, hash=first["hash"])
    assert e.value.response["error"] == "hash_conflict"


def test_trigger_expiry_uses_the_clock() -> None:
    now = [100.0]
    with FakeSlack(clock=lambda: now[0]) as fake:
        client = WebClient(token=TOKEN, base_url=fake.base_url, retry_handlers=[])
        trigger = fake.new_trigger_id()
        now[0] += 3.01
        with pytest.raises(SlackApiError) as e:
            client.views_open(trigger_id=trigger, view=MODAL)
        assert e.value.response["error"] == "expired_trigger_id"


def test_files_upload_v2(fake: FakeSlack, client: WebClient) -> None:
    ts = client.chat_postMessage(channel="C0GENERAL", text="digest")["ts"]
    resp = client.files_upload_v2(
        channel="C0GENERAL",
        content=b"a,b\n1,2\n",
        filename="digest.csv",
        title="Digest",
        thread_ts=ts,
        initial_comment="here",
    )
    assert resp["file"]["id"].startswith("F")
    (record,) = fake.files
    assert (
        record["bytes"] == b"a,b\n1,2\n"
        and record["title"] == "Digest"
        and record["name"] == "digest.csv"
    )
    assert (record["channel"], record["thread_ts"], record["initial_comment"]) == (
        "C0GENERAL",
        ts,
        "here",
    )
    assert fake.calls_to("upload")[0].headers.get("authorization") is None
    with pytest.raises(SlackApiError) as e:
        client.files_completeUploadExternal(files=[{"id": "F404"}], channel_id="C0GENERAL")
    assert e.value.response["error"] == "file_not_found"


# ------------------------------------------------------------------------- faults


def test_429_surfaces_with_retry_after(fake: FakeSlack, client: WebClient) -> None:
    fake.fail("chat.postMessage", status=429, retry_after=7)
    with pytest.raises(SlackApiError) as e:
        client.chat_postMessage(channel="C0GENERAL", text="x")
    assert e.value.response.status_code == 429
    assert e.value.response.headers["Retry-After"] == "7"
    assert e.value.response["error"] == "ratelimited"
    call = fake.calls_to("chat.postMessage")[0]
    assert call.status == 429 and call.fault is not None and call.fault.retry_after == 7
    assert fake.messages("C0GENERAL") == []  # a faulted call changes nothing
    assert client.chat_postMessage(channel="C0GENERAL", text="x")["ok"]  # the fault was used up


def test_server_error_and_error_faults(fake: FakeSlack, client: WebClient) -> None:
    fake.fail("users.info", status=500)
    fake.fail("users.info", error="fatal_error", times=2)
    with pytest.raises(SlackApiError) as e:
        client.users_info(user="U1")
    assert e.value.response.status_code == 500
    for _ in range(2):
        with pytest.raises(SlackApiError) as e:
            client.users_info(user="U1")
        assert (e.value.response.status_code, e.value.response["error"]) == (200, "fatal_error")
    assert client.users_info(user="U1")["ok"]
    assert [c.status for c in fake.calls_to("users.info")] == [500, 200, 200, 200]
    assert [c.error for c in fake.calls_to("users.info")] == [
        None,
        "fatal_error",
        "fatal_error",
        None,
    ]


def test_drop_fault_and_connection_retry(fake: FakeSlack, client: WebClient) -> None:
    fake.fail("auth.test", drop=True)
    with pytest.raises((http.client.RemoteDisconnected, urllib.error.URLError, ConnectionError)):
        client.auth_test()
    assert fake.calls_to("auth.test")[0].fault is not None
    fake.fail("auth.test", drop=True)
    retrying = WebClient(
        token=TOKEN,
        base_url=fake.base_url,
        retry_handlers=[
            ConnectionErrorRetryHandler(interval_calculator=FixedValueRetryIntervalCalculator(0))
        ],
    )
    assert retrying.auth_test()["ok"]
    assert len(fake.calls_to("auth.test")) == 3


def test_delay_fault_beyond_client_timeout(fake: FakeSlack) -> None:
    fake.fail("auth.test", delay=2.0)
    impatient = WebClient(token=TOKEN, base_url=fake.base_url, retry_handlers=[], timeout=0.2)
    with pytest.raises((TimeoutError, urllib.error.URLError)):
        impatient.auth_test()


def test_fail_ratio_is_repeatable(fake: FakeSlack, client: WebClient) -> None:
    def run() -> list[int]:
        fake.reset()
        fake.fail_ratio("auth.test", 0.5, seed=3, error="ratelimited", status=429)
        out = []
        for _ in range(12):
            try:
                client.auth_test()
                out.append(200)
            except SlackApiError as e:
                out.append(e.response.status_code)
        return out

    first = run()
    assert first == run() and 200 in first and 429 in first


# ------------------------------------------------------------------------- response_url, wait_for


def test_response_url_five_uses(fake: FakeSlack) -> None:
    url = fake.new_response_url(channel="C0GENERAL", user_id="U1")
    hook = WebhookClient(url)
    for i in range(5):
        assert hook.send(text=f"update {i}").status_code == 200
    sixth = hook.send(text="too many")
    assert (sixth.status_code, sixth.body) == (404, "used_url")
    assert [r["text"] for r in fake.responses] == [f"update {i}" for i in range(5)]
    assert fake.responses[0]["response_url_id"] == url.rsplit("/", 1)[1]
    assert len(fake.ephemerals) == 5  # response_type defaults to ephemeral


def test_response_url_replaces_original(fake: FakeSlack, client: WebClient) -> None:
    ts = client.chat_postMessage(channel="C0GENERAL", text="Submit your report")["ts"]
    hook = WebhookClient(fake.new_response_url(channel="C0GENERAL", message_ts=ts))
    assert hook.send(text="Submitted ✓", replace_original=True).status_code == 200
    assert fake.messages("C0GENERAL")[0]["text"] == "Submitted ✓"
    assert hook.send(text="", delete_original=True).status_code == 200
    assert fake.messages("C0GENERAL") == []


def test_wait_for(fake: FakeSlack, client: WebClient) -> None:
    threading.Thread(
        target=lambda: [client.chat_postMessage(channel="C0GENERAL", text=str(i)) for i in range(3)]
    ).start()
    calls = fake.wait_for("chat.postMessage", count=3, timeout=5)
    assert [c.params["text"] for c in calls] == ["0", "1", "2"]
    with pytest.raises(AssertionError, match=r"views.open.*chat.postMessage\(200\)"):
        fake.wait_for("views.open", timeout=0.05)
    fake.reset()
    assert fake.calls == [] and fake.messages("C0GENERAL") == []
    assert client.users_info(user="U1")["ok"]  # users survive reset


# ---------------------------------------------------------------- driver vs a real Bolt app


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


def test_driver_payloads_work_with_bolt(fake: FakeSlack) -> None:
    """Bolt routes the driver's requests, and the listeners' calls land on the fake."""
    from slack_bolt import App
    from slack_bolt.adapter.wsgi import SlackRequestHandler

    app = App(
        client=WebClient(token=TOKEN, base_url=fake.base_url),
        signing_secret=SECRET,
        process_before_response=True,
    )
    submitted: list[dict[str, Any]] = []

    @app.command("/pmo")
    def pmo(ack: Any, body: dict[str, Any], client: WebClient, respond: Any) -> None:
        ack()
        client.views_open(trigger_id=body["trigger_id"], view=MODAL)
        respond(text="Opening the form…")

    @app.action("approve")
    def approve(ack: Any, body: dict[str, Any], respond: Any) -> None:
        ack()
        respond(text=f"Approved {body['actions'][0]['value']}", replace_original=True)

    @app.view("status_report")
    def on_submit(ack: Any, view: dict[str, Any], body: dict[str, Any]) -> None:
        values = view["state"]["values"]
        if (
            values["rag"]["rag_select"]["selected_option"]["value"] == "red"
            and not values["summary"]["summary_input"]["value"]
        ):
            ack(response_action="errors", errors={"summary": "Explain the red"})
            return
        submitted.append(
            {"meta": view["private_metadata"], "user": body["user"]["id"], "values": values}
        )
        ack()

    @app.event("app_home_opened")
    def home(event: dict[str, Any], client: WebClient) -> None:
        client.views_publish(
            user_id=event["user"], view={"type": "home", "blocks": [{"type": "divider"}]}
        )

    server = make_server(
        "127.0.0.1", 0, SlackRequestHandler(app), _ThreadingWSGIServer, _QuietHandler
    )
    threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True).start()
    try:
        driver = SlackDriver(f"http://127.0.0.1:{server.server_address[1]}", SECRET, fake)
        assert driver.command("U1", "status", signature="bad").status == 401
        assert driver.command("U1", "status", signature="stale").status == 401
        assert fake.calls_to("views.open") == []

        resp = driver.command("U1", "status")
        assert resp.status == 200
        view = fake.views[-1]
        assert fake.calls_to("views.open")[0].params["trigger_id"] == resp.trigger_id
        assert fake.responses[-1]["text"] == "Opening the form…"

        bad = driver.submit_view("U1", view, {"rag": "red"})
        assert bad.json == {"response_action": "errors", "errors": {"summary": "Explain the red"}}
        good = driver.submit_view("U1", view["id"], {"summary": "fine", "rag": "green", "pct": 80})
        assert good.status == 200 and good.body == ""
        assert submitted[0]["meta"] == "project=42" and submitted[0]["user"] == "U1"
        assert submitted[0]["values"]["pct"]["pct_input"]["value"] == "80"

        ts = WebClient(token=TOKEN, base_url=fake.base_url).chat_postMessage(
            channel="U1", text="Approve?"
        )["ts"]
        message = fake.messages("U1")[0]
        assert driver.block_action("U1", "approve", value="P-1", message=message).status == 200
        assert (
            fake.messages("U1")[0]["text"] == "Approved P-1" and fake.messages("U1")[0]["ts"] == ts
        )

        assert driver.app_home_opened("U1", retry_num=1).status == 200
        assert fake.home_view("U1") is not None
        assert driver.url_verification("abc").json == {"challenge": "abc"}
    finally:
        server.shutdown()
        server.server_close()


def test_interaction_payload_shapes(fake: FakeSlack, client: WebClient, capture: Any) -> None:
    """The keys Slack documents for block_actions and view_submission payloads are present."""
    url, received = capture
    driver = SlackDriver(url, SECRET, fake)
    ts = client.chat_postMessage(channel="C0GENERAL", text="Approve?")["ts"]
    driver.block_action("U1", "approve", value="P-1", message=fake.messages("C0GENERAL")[0])
    opened = client.views_open(trigger_id=fake.new_trigger_id(user_id="U1"), view=MODAL)["view"]
    driver.block_action("U1", "pick", view=fake.view(opened["id"]))
    driver.submit_view("U1", opened["id"], {"summary": "ok", "rag": "green"})
    msg_action, view_action, submission = (
        json.loads(parse_qs(body)["payload"][0]) for _, body in received
    )

    assert msg_action["type"] == "block_actions"
    assert {"user", "team", "api_app_id", "token", "trigger_id", "response_url", "actions"} <= set(
        msg_action
    )
    assert msg_action["container"] == {
        "type": "message",
        "message_ts": ts,
        "channel_id": "C0GENERAL",
        "is_ephemeral": False,
    }
    assert msg_action["message"]["ts"] == ts and msg_action["channel"]["id"] == "C0GENERAL"
    assert msg_action["actions"][0]["value"] == "P-1"

    assert view_action["container"] == {"type": "view", "view_id": opened["id"]}
    assert "response_url" not in view_action and view_action["view"]["id"] == opened["id"]
    # a trigger from an interaction inside the modal pushes onto that modal's stack
    pushed = client.views_push(trigger_id=view_action["trigger_id"], view=MODAL)["view"]
    assert pushed["root_view_id"] == opened["id"] and pushed["previous_view_id"] == opened["id"]

    assert submission["type"] == "view_submission"
    view = submission["view"]
    assert (view["id"], view["hash"], view["type"]) == (opened["id"], opened["hash"], "modal")
    assert view["callback_id"] == "status_report" and view["private_metadata"] == "project=42"
    assert set(view["state"]["values"]) == {"summary", "rag", "pct", "due", "risks"}
    assert "method" not in view and "user_id" not in view


def test_drop_after_fault_handles_the_call_then_loses_the_answer(
    fake: FakeSlack, client: WebClient
) -> None:
    fake.fail("chat.postMessage", drop_after=True)
    with pytest.raises((http.client.RemoteDisconnected, urllib.error.URLError, ConnectionError)):
        client.chat_postMessage(channel="C0GENERAL", text="posted, answer lost")
    assert [m["text"] for m in fake.messages("C0GENERAL")] == ["posted, answer lost"]
    (call,) = fake.calls_to("chat.postMessage")
    assert call.status == 0 and call.fault is not None and call.fault.drop_after

    # a client that retries on connection errors then posts the message twice
    fake.fail("chat.postMessage", drop_after=True)
    retrying = WebClient(
        token=TOKEN,
        base_url=fake.base_url,
        retry_handlers=[
            ConnectionErrorRetryHandler(interval_calculator=FixedValueRetryIntervalCalculator(0))
        ],
    )
    assert retrying.chat_postMessage(channel="C0GENERAL", text="twice")["ok"]
    assert [m["text"] for m in fake.messages("C0GENERAL")][1:] == ["twice", "twice"]

    # what the handled call would have answered is recorded
    fake.fail("chat.postMessage", drop_after=True)
    with pytest.raises((http.client.RemoteDisconnected, urllib.error.URLError, ConnectionError)):
        client.chat_postMessage(channel="C0NOPE", text="x")
    assert fake.calls[-1].status == 0 and fake.calls[-1].error == "channel_not_found"
    with pytest.raises(ValueError, match="drop_after"):
        fake.fail("chat.postMessage", drop_after=True, status=500)


def test_hang_beyond_client_timeout_still_handles_the_call(fake: FakeSlack) -> None:
    fake.fail("chat.postMessage", delay=0.3)
    impatient = WebClient(token=TOKEN, base_url=fake.base_url, retry_handlers=[], timeout=0.05)
    with pytest.raises((TimeoutError, urllib.error.URLError)):
        impatient.chat_postMessage(channel="C0GENERAL", text="late")
    fake.wait_for("chat.postMessage", timeout=5)
    assert [m["text"] for m in fake.messages("C0GENERAL")] == ["late"]


# ------------------------------------------------------------------------- rate limits


@pytest.fixture
def now() -> list[float]:
    """The injected clock of ``timed``: tests move ``now[0]`` instead of sleeping."""
    return [1000.0]


@pytest.fixture
def timed(now: list[float]) -> Iterator[FakeSlack]:
    with FakeSlack(clock=lambda: now[0]) as f:
        f.add_user("U1")
        f.add_user("U2")
        f.add_channel("C0GENERAL")
        f.add_channel("C0OTHER")
        yield f


def _ratelimited(call: Any) -> SlackApiError:
    with pytest.raises(SlackApiError) as e:
        call()
    assert e.value.response.status_code == 429 and e.value.response["error"] == "ratelimited"
    return e.value


def test_tier_buckets_answer_429_then_recover_on_the_clock(
    timed: FakeSlack, now: list[float]
) -> None:
    client = WebClient(token=TOKEN, base_url=timed.base_url, retry_handlers=[])
    timed.enforce_rate_limits(per_minute={"chat.update": 2})  # clock: the fake's own
    ts = client.chat_postMessage(channel="C0GENERAL", text="v0")["ts"]
    for text in ("v1", "v2"):
        client.chat_update(channel="C0GENERAL", ts=ts, text=text)
    error = _ratelimited(lambda: client.chat_update(channel="C0GENERAL", ts=ts, text="v3"))
    assert error.response.headers["Retry-After"] == "30"  # 2/min: a token every 30 s
    assert timed.messages("C0GENERAL")[0]["text"] == "v2"  # the limited call was not handled
    now[0] += 29.5
    error = _ratelimited(lambda: client.chat_update(channel="C0GENERAL", ts=ts, text="v3"))
    assert error.response.headers["Retry-After"] == "1"  # rounded up, at least 1
    now[0] += 0.5
    assert client.chat_update(channel="C0GENERAL", ts=ts, text="v3")["ok"]

    # Slack's tiers by default: users.list is Tier 2 (20/min); other methods have their own
    # buckets; auth.test is not limited
    for _ in range(20):
        client.users_list()
    error = _ratelimited(client.users_list)
    assert error.response.headers["Retry-After"] == "3"
    assert client.users_info(user="U1")["ok"]
    for _ in range(30):
        client.auth_test()

    limited = timed.rate_limited_calls
    assert [c.method for c in limited] == ["chat.update", "chat.update", "users.list"]
    assert all(c.status == 429 and c.rate_limited and c.fault is None for c in limited)
    assert timed.rate_limited_counts == {"chat.update": 2, "users.list": 1}

    # reset() refills the buckets but keeps the limits; disable_rate_limits() turns them off
    timed.reset()
    assert timed.rate_limited_calls == []
    for _ in range(20):
        client.users_list()
    _ratelimited(client.users_list)
    timed.disable_rate_limits()
    assert client.users_list()["ok"]


def test_injected_clock_and_faults_vs_rate_limits(timed: FakeSlack) -> None:
    own = [0.0]
    client = WebClient(token=TOKEN, base_url=timed.base_url, retry_handlers=[])
    timed.enforce_rate_limits(clock=lambda: own[0], per_minute={"users.info": 1})
    timed.fail("users.info", status=429, retry_after=9)  # served first, takes no token

    def retry_after() -> str:
        return str(
            _ratelimited(lambda: client.users_info(user="U1")).response.headers["Retry-After"]
        )

    assert retry_after() == "9"
    assert client.users_info(user="U1")["ok"]
    assert retry_after() == "60"
    assert timed.rate_limited_counts == {"users.info": 1}  # the injected 429 is not counted
    timed.clear_faults()  # leaves rate limits alone
    _ratelimited(lambda: client.users_info(user="U1"))
    own[0] += 60
    assert client.users_info(user="U1")["ok"]
    # a user's error counts against the limit too, as in Slack
    own[0] += 60
    with pytest.raises(SlackApiError) as e:
        client.users_info(user="UNOBODY")
    assert e.value.response["error"] == "user_not_found"
    _ratelimited(lambda: client.users_info(user="U1"))
    with pytest.raises(ValueError, match=r"chat\.postMessage"):
        timed.enforce_rate_limits(per_minute={"chat.postMessage": 60})


def test_post_message_per_channel_and_workspace_limits(timed: FakeSlack, now: list[float]) -> None:
    client = WebClient(token=TOKEN, base_url=timed.base_url, retry_handlers=[])

    def post(channel: str) -> Any:
        return client.chat_postMessage(channel=channel, text=f"to {channel}")

    # default: 1 per second per channel with a burst of 3, no workspace-wide limit
    timed.enforce_rate_limits()
    for _ in range(3):
        post("C0GENERAL")
    assert _ratelimited(lambda: post("C0GENERAL")).response.headers["Retry-After"] == "1"
    for channel in ("C0OTHER", "U1", "U2"):
        post(channel)
    now[0] += 1
    post("C0GENERAL")
    assert len(timed.messages("C0GENERAL")) == 4

    timed.enforce_rate_limits(
        post_message_burst=1,
        post_message_workspace_per_minute=60,
        post_message_workspace_burst=3,
    )
    timed.reset()
    post("C0GENERAL")
    _ratelimited(lambda: post("C0GENERAL"))  # per channel
    post("U1")
    _ratelimited(lambda: post(timed.dm_channel("U1")))  # a user id and its DM: one channel
    post("U2")
    error = _ratelimited(lambda: post("C0OTHER"))  # a fresh channel, but the workspace is spent
    assert error.response.headers["Retry-After"] == "1"  # 60/min: one token a second
    assert timed.messages("C0OTHER") == []
    now[0] += 1
    post("C0OTHER")
    assert timed.rate_limited_counts == {"chat.postMessage": 3}
    assert [c.status for c in timed.calls_to("chat.postMessage")] == [
        200,
        429,
        200,
        429,
        200,
        429,
        200,
    ]


# ------------------------------------------------------------------------- status, metadata, paging


def test_user_status_in_users_info_and_users_list(fake: FakeSlack, client: WebClient) -> None:
    fake.add_user("U3", status_text="On holiday", status_emoji=":palm_tree:", status_expiration=9)
    profile = client.users_info(user="U3")["user"]["profile"]
    assert (profile["status_text"], profile["status_emoji"], profile["status_expiration"]) == (
        "On holiday",
        ":palm_tree:",
        9,  # without a wall_clock the fake does not know the date: nothing expires
    )
    assert "status_text" not in client.users_info(user="U3")["user"]  # only under profile
    assert client.users_info(user="U1")["user"]["profile"]["status_text"] == ""
    fake.set_user_status("U1", text="In a meeting", emoji=":calendar:")
    members = {m["id"]: m for m in client.users_list()["members"]}
    assert members["U1"]["profile"]["status_text"] == "In a meeting"
    assert members["U1"]["profile"]["status_expiration"] == 0
    fake.set_user_status("U1")
    assert client.users_info(user="U1")["user"]["profile"]["status_emoji"] == ""

    wall = [1_800_000_000.0]
    with FakeSlack(wall_clock=lambda: wall[0]) as dated:
        dated.add_user("U1", status_text="Away", status_expiration=1_800_000_060)
        dated_client = WebClient(token=TOKEN, base_url=dated.base_url, retry_handlers=[])
        assert dated_client.users_info(user="U1")["user"]["profile"]["status_text"] == "Away"
        wall[0] += 60
        profile = dated_client.users_info(user="U1")["user"]["profile"]
        assert (profile["status_text"], profile["status_expiration"]) == ("", 0)


def test_metadata_round_trip_and_errors(fake: FakeSlack, client: WebClient) -> None:
    meta = {"event_type": "status_prompt", "event_payload": {"project": "Apollo", "week": 7}}
    ts = client.chat_postMessage(channel="C0GENERAL", text="prompt", metadata=meta)["ts"]
    # form bodies carry metadata as a JSON string
    form = urllib.parse.urlencode(
        {
            "token": TOKEN,
            "channel": "C0GENERAL",
            "text": "form",
            "metadata": json.dumps({"event_type": "f", "event_payload": {}}),
        }
    )
    req = urllib.request.Request(fake.base_url + "chat.postMessage", data=form.encode())
    with urllib.request.urlopen(req) as resp:
        assert json.load(resp)["message"]["metadata"]["event_type"] == "f"
    history = client.conversations_history(channel="C0GENERAL")["messages"]
    assert history[1]["metadata"] == meta and history[0]["metadata"]["event_payload"] == {}
    reply = client.chat_postMessage(channel="C0GENERAL", text="r", thread_ts=ts, metadata=meta)
    replies = client.conversations_replies(channel="C0GENERAL", ts=ts)["messages"]
    assert [m.get("metadata") for m in replies] == [meta, meta] and reply["ok"]
    assert "metadata" not in client.chat_postMessage(channel="C0GENERAL", text="x")["message"]

    new = {"event_type": "status_prompt", "event_payload": {"answered": True}}
    client.chat_update(channel="C0GENERAL", ts=ts, text="answered", metadata=new)
    assert fake.messages("C0GENERAL")[0]["metadata"] == new

    bad_metadata: list[Any] = [
        "{not json",
        {"event_type": "x"},
        {"event_payload": {}},
        {"event_type": "", "event_payload": {}},
        {"event_type": "x", "event_payload": "not an object"},
    ]
    for bad in bad_metadata:
        with pytest.raises(SlackApiError) as e:
            client.chat_postMessage(channel="C0GENERAL", text="bad", metadata=bad)
        assert e.value.response["error"] == "invalid_metadata_format"
    assert all(m["text"] != "bad" for m in fake.messages("C0GENERAL"))


def test_history_oldest_latest_and_cursor_paging(fake: FakeSlack, client: WebClient) -> None:
    ts = [client.chat_postMessage(channel="C0GENERAL", text=str(i))["ts"] for i in range(5)]
    client.chat_postMessage(channel="C0GENERAL", text="reply", thread_ts=ts[0])

    def texts(**kwargs: Any) -> list[str]:
        resp = client.conversations_history(channel="C0GENERAL", **kwargs)
        return [m["text"] for m in resp["messages"]]

    first = client.conversations_history(channel="C0GENERAL", limit=2)
    assert [m["text"] for m in first["messages"]] == ["4", "3"] and first["has_more"] is True
    cursor = first["response_metadata"]["next_cursor"]
    second = client.conversations_history(channel="C0GENERAL", limit=2, cursor=cursor)
    assert [m["text"] for m in second["messages"]] == ["2", "1"]
    pages = [
        [m["text"] for m in page["messages"]]
        for page in client.conversations_history(channel="C0GENERAL", limit=2)
    ]
    assert pages == [["4", "3"], ["2", "1"], ["0"]]  # slack_sdk follows next_cursor
    last = client.conversations_history(channel="C0GENERAL", limit=2, cursor=cursor)
    last = client.conversations_history(
        channel="C0GENERAL", limit=2, cursor=last["response_metadata"]["next_cursor"]
    )
    assert last["has_more"] is False and last["response_metadata"]["next_cursor"] == ""

    # oldest/latest are exclusive unless inclusive, and compare as numbers: "…0002" == "…000200"
    assert ts[1] == "1700000000.000200"
    assert texts(oldest="1700000000.0002") == ["4", "3", "2"]
    assert texts(oldest="1700000000.0002", inclusive=True) == ["4", "3", "2", "1"]
    assert texts(oldest=ts[1], latest=ts[3]) == ["2"]
    assert texts(oldest=ts[1], latest=ts[3], inclusive=True) == ["3", "2", "1"]
    assert texts(latest=ts[2], limit=1) == ["1"]
    assert texts(oldest="1700000001") == []
    bad_args: list[tuple[dict[str, Any], str]] = [
        ({"oldest": "yesterday"}, "invalid_ts_oldest"),
        ({"latest": "soon"}, "invalid_ts_latest"),
        ({"cursor": "not-a-cursor"}, "invalid_cursor"),
        ({"limit": "many"}, "invalid_limit"),
    ]
    for kwargs, error in bad_args:
        with pytest.raises(SlackApiError) as e:
            client.conversations_history(channel="C0GENERAL", **kwargs)
        assert e.value.response["error"] == error


def test_replies_paging(fake: FakeSlack, client: WebClient) -> None:
    parent = client.chat_postMessage(channel="C0GENERAL", text="parent")["ts"]
    replies = [
        client.chat_postMessage(channel="C0GENERAL", text=f"r{i}", thread_ts=parent)["ts"]
        for i in range(4)
    ]
    pages = [
        [m["text"] for m in page["messages"]]
        for page in client.conversations_replies(channel="C0GENERAL", ts=parent, limit=2)
    ]
    # the parent leads the first page; continuation pages hold replies only, as in Slack
    assert pages == [["parent", "r0"], ["r1", "r2"], ["r3"]]
    since = client.conversations_replies(channel="C0GENERAL", ts=parent, oldest=replies[1])
    assert [m["text"] for m in since["messages"]] == ["parent", "r2", "r3"]
    assert since["has_more"] is False


def test_wall_clock_ts_for_oldest_filters() -> None:
    wall = [1_800_000_000.0]
    with FakeSlack(wall_clock=lambda: wall[0]) as fake:
        fake.add_channel("C0GENERAL")
        client = WebClient(token=TOKEN, base_url=fake.base_url, retry_handlers=[])
        a = client.chat_postMessage(channel="C0GENERAL", text="a")["ts"]
        b = client.chat_postMessage(channel="C0GENERAL", text="b")["ts"]
        wall[0] += 3600
        client.chat_postMessage(channel="C0GENERAL", text="c")
        assert (a, b) == ("1800000000.000000", "1800000000.000001")  # unique, increasing
        recent = client.conversations_history(channel="C0GENERAL", oldest=str(1_800_000_000 + 60))
        assert [m["text"] for m in recent["messages"]] == ["c"]


def test_users_list_paging(fake: FakeSlack, client: WebClient) -> None:
    everyone = client.users_list()
    assert [m["id"] for m in everyone["members"]] == ["U0PMOBOT", "U1", "U2", "UGONE"]
    assert everyone["response_metadata"]["next_cursor"] == ""
    pages = [[m["id"] for m in page["members"]] for page in client.users_list(limit=3)]
    assert pages == [["U0PMOBOT", "U1", "U2"], ["UGONE"]]
    first = client.users_list(limit=2)
    second = client.users_list(limit=2, cursor=first["response_metadata"]["next_cursor"])
    assert [m["id"] for m in second["members"]] == ["U2", "UGONE"]
    with pytest.raises(SlackApiError) as e:
        client.users_list(cursor="bm9wZQ==")
    assert e.value.response["error"] == "invalid_cursor"


# Membership and scopes. Shapes from Slack's reference for conversations.join
# (docs.slack.dev/reference/methods/conversations.join: the conversation object, and
# `"warning": "already_in_channel"` with `response_metadata.warnings` when already in it; its
# errors include channel_not_found, method_not_supported_for_channel_type, missing_scope) and
# the `needed`/`provided` keys slack_sdk's and @slack/web-api's response types give
# missing_scope. chat.postMessage's not_in_channel is in Slack's documented error list
# (shared/outside/slack/web_api/documented/error_codes_by_method.json).


def test_chat_write_public_posts_in_a_public_channel_the_bot_is_not_in_but_cannot_read_it(
    fake: FakeSlack, client: WebClient
) -> None:
    assert "chat:write.public" not in fake.scopes  # by default the bot must be a member
    with pytest.raises(SlackApiError) as e:
        client.chat_postMessage(channel="C0OUTSIDE", text="digest")
    assert e.value.response["error"] == "not_in_channel"
    fake.grant("chat:write.public")
    posted = client.chat_postMessage(channel="C0OUTSIDE", text="digest")
    assert posted["channel"] == "C0OUTSIDE" and fake.messages("C0OUTSIDE")[0]["text"] == "digest"
    assert not fake.is_member("C0OUTSIDE")  # posting does not join
    for read in (
        lambda: client.conversations_history(channel="C0OUTSIDE"),
        lambda: client.conversations_replies(channel="C0OUTSIDE", ts=posted["ts"]),
    ):
        with pytest.raises(SlackApiError) as e:
            read()
        assert e.value.response["error"] == "not_in_channel"
    fake.revoke("chat:write.public")
    with pytest.raises(SlackApiError) as e:
        client.chat_postMessage(channel="C0OUTSIDE", text="again")
    assert e.value.response["error"] == "not_in_channel"


def test_a_private_channel_the_bot_is_not_in_does_not_exist_for_it(
    fake: FakeSlack, client: WebClient
) -> None:
    fake.grant("chat:write.public", "channels:join")
    fake.add_channel("C0SECRET", name="secret", is_private=True, is_member=False)
    for call in (
        lambda: client.chat_postMessage(channel="C0SECRET", text="x"),
        lambda: client.conversations_history(channel="C0SECRET"),
        lambda: client.conversations_info(channel="C0SECRET"),
        lambda: client.conversations_join(channel="C0SECRET"),
    ):
        with pytest.raises(SlackApiError) as e:
            call()
        assert e.value.response["error"] == "channel_not_found"
    # Invited, the bot posts and reads there like anywhere else; it still cannot join it.
    fake.add_channel("C0SECRET", name="secret", is_private=True)
    posted = client.chat_postMessage(channel="C0SECRET", text="x")
    assert client.conversations_history(channel="C0SECRET")["messages"][0]["ts"] == posted["ts"]
    info = client.conversations_info(channel="C0SECRET")["channel"]
    assert info["is_private"] is True and info["is_member"] is True
    with pytest.raises(SlackApiError) as e:
        client.conversations_join(channel="C0SECRET")
    assert e.value.response["error"] == "method_not_supported_for_channel_type"


def test_conversations_join_needs_its_scope_and_then_lets_the_bot_read_the_channel(
    fake: FakeSlack, client: WebClient
) -> None:
    fake.grant("chat:write.public")
    posted = client.chat_postMessage(
        channel="C0OUTSIDE", text="digest", metadata={"event_type": "t", "event_payload": {}}
    )
    with pytest.raises(SlackApiError) as e:
        client.conversations_join(channel="C0OUTSIDE")
    answer = e.value.response.data
    assert isinstance(answer, dict)
    assert answer["error"] == "missing_scope" and answer["needed"] == "channels:join"
    assert set(answer["provided"].split(",")) == fake.scopes
    assert not fake.is_member("C0OUTSIDE")

    fake.grant("channels:join")
    joined = client.conversations_join(channel="C0OUTSIDE")
    assert joined["channel"]["id"] == "C0OUTSIDE" and joined["channel"]["is_member"] is True
    assert joined["channel"]["is_private"] is False and "warning" not in joined
    assert fake.is_member("C0OUTSIDE")
    history = client.conversations_history(channel="C0OUTSIDE", include_all_metadata=True)
    assert [m["ts"] for m in history["messages"]] == [posted["ts"]]
    assert history["messages"][0]["metadata"]["event_type"] == "t"

    again = client.conversations_join(channel="C0OUTSIDE")
    assert again["warning"] == "already_in_channel"
    assert again["response_metadata"]["warnings"] == ["already_in_channel"]
    for channel, error in (
        ("C0NOPE", "channel_not_found"),
        (fake.dm_channel("U1"), "method_not_supported_for_channel_type"),
    ):
        with pytest.raises(SlackApiError) as e:
            client.conversations_join(channel=channel)
        assert e.value.response["error"] == error


def test_a_fault_for_one_channel_lets_other_channels_through(
    fake: FakeSlack, client: WebClient
) -> None:
    fake.fail("chat.postMessage", status=500, channel="C0GENERAL")
    assert client.chat_postMessage(channel="U1", text="a DM goes through")["ok"]
    with pytest.raises(SlackApiError) as e:
        client.chat_postMessage(channel="C0GENERAL", text="the digest")
    assert e.value.response.status_code == 500
    assert client.chat_postMessage(channel="C0GENERAL", text="served once")["ok"]
    assert [m["text"] for m in fake.messages("C0GENERAL")] == ["served once"]


def test_the_default_scopes_are_the_manifests_but_the_two_for_channels_the_bot_is_not_in() -> None:
    manifest = yaml.safe_load((Path(__file__).parents[2] / "manifest.yml").read_text("utf-8"))
    asked = set(manifest["oauth_config"]["scopes"]["bot"])
    assert asked - {"chat:write.public", "channels:join"} == DEFAULT_SCOPES
    assert {"chat:write.public", "channels:join"} <= asked
