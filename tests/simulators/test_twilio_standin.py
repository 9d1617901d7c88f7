"""twilio-python, over HTTP, against the stand-in: what it sends, what it gets back, what is signed."""

from __future__ import annotations

import signal
import socket
import threading
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse
from twilio.request_validator import RequestValidator
from typer.testing import CliRunner

from dispatcher.outbox import OutboundSms, SendOutcome
from dispatcher.sms import TwilioSender
from eldercare.cli import app
from eldercare.config import Settings
from simulators.http_server import ThreadedServer
from simulators.twilio_standin import TwilioStandin
from tests.waiting import wait_until

SID = "AC" + "1" * 32
TOKEN = "standin-test-token"


class Receiver:
    """A webhook endpoint that keeps what it was sent and whether the signature checked out."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, dict[str, str], bool]] = []
        self.event = threading.Event()
        app = FastAPI()
        validator = RequestValidator(TOKEN)

        @app.post("/{path:path}")
        async def receive(path: str, request: Request) -> PlainTextResponse:
            form = {k: str(v) for k, v in (await request.form()).items()}
            url = f"{self.server.url}/{path}" + (f"?{request.url.query}" if request.url.query else "")
            valid = validator.validate(url, form, request.headers.get("X-Twilio-Signature", ""))
            self.posts.append((path, form, valid))
            self.event.set()
            return PlainTextResponse("<Response><Message>got it</Message></Response>", media_type="application/xml")

        self.server = ThreadedServer(app).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.stop()


@pytest.fixture
def standin(receiver: Receiver) -> Iterator[TwilioStandin]:
    s = TwilioStandin(SID, TOKEN, webhook_url=f"{receiver.server.url}/sms/inbound", callback_delay=0.01).serve()
    yield s
    s.stop()


def _sender(standin: TwilioStandin, receiver: Receiver, token: str = TOKEN) -> TwilioSender:
    settings = Settings(
        twilio_account_sid=SID,
        twilio_auth_token=token,
        twilio_api_base=standin.url,
        public_url=receiver.server.url,
        _env_file=None,
    )
    return TwilioSender(settings, timeout=5)


def _sms(to: str = "+8613800000001", sms_id: int = 7) -> OutboundSms:
    return OutboundSms(sms_id, to, "+8610690000", "【助急】工单K7M3QP：回复 Y K7M3QP 接单", "offer", 1, 1, 1)


def test_twilio_python_sends_and_gets_a_queued_message_with_signed_callbacks(standin, receiver) -> None:
    result = _sender(standin, receiver).send(_sms())
    assert result.outcome is SendOutcome.ACCEPTED and result.status == "queued"
    assert result.sid and result.sid.startswith("SM") and len(result.sid) == 34
    [message] = standin.sent()
    assert (message.to, message.from_, message.body) == ("+8613800000001", "+8610690000", _sms().body)
    assert message.status_callback == f"{receiver.server.url}/sms/status?m=7"
    wait_until(lambda: len(receiver.posts) >= 2, timeout=5)
    statuses = [(form["MessageSid"], form["MessageStatus"], valid) for path, form, valid in receiver.posts]
    assert statuses == [(result.sid, "sent", True), (result.sid, "delivered", True)]


@pytest.mark.parametrize(
    ("error", "outcome", "code"),
    [
        ("21610", SendOutcome.OPTED_OUT, 21610),
        ("429", SendOutcome.RETRY, 20429),
        ("500", SendOutcome.RETRY, 20500),
        ("21211", SendOutcome.FAILED, 21211),
    ],
)
def test_refusals_come_back_as_twilio_errors(standin, receiver, error, outcome, code) -> None:
    standin.add_rule("+8613800000002", error, times=1)
    sender = _sender(standin, receiver)
    result = sender.send(_sms("+8613800000002"))
    assert (result.outcome, result.error_code) == (outcome, code)
    assert sender.send(_sms("+8613800000002")).outcome is SendOutcome.ACCEPTED  # times=1: only once


def test_late_failures_are_reported_by_callback(standin, receiver) -> None:
    standin.add_rule("+8613800000003", "undelivered")
    assert _sender(standin, receiver).send(_sms("+8613800000003")).outcome is SendOutcome.ACCEPTED
    wait_until(lambda: len(receiver.posts) >= 2, timeout=5)
    assert [(f["MessageStatus"], f.get("ErrorCode")) for _, f, _ in receiver.posts] == [
        ("sent", None),
        ("undelivered", "30003"),
    ]


def test_wrong_credentials_are_refused(standin, receiver) -> None:
    result = _sender(standin, receiver, token="wrong").send(_sms())
    assert (result.outcome, result.error_code) == (SendOutcome.FAILED, 20003)
    assert standin.sent() == []


def test_replies_are_signed_like_twilio_and_forgeries_are_not(standin, receiver) -> None:
    response = standin.reply("+8613800000001", "Y K7M3QP")
    assert response.status_code == 200
    standin.reply("+8613800000001", "Y K7M3QP", forge=True)
    (path, form, valid), (_, _, forged_valid) = receiver.posts
    assert path == "sms/inbound" and valid and not forged_valid
    assert form["Body"] == "Y K7M3QP" and form["From"] == "+8613800000001" and form["MessageSid"].startswith("SM")
    # the TwiML answer is recorded as a reply to the caregiver
    replies = standin.sent(direction="outbound-reply")
    assert [m.body for m in replies] == ["got it", "got it"] and replies[0].to == "+8613800000001"


def test_control_api_over_http(standin, receiver) -> None:
    base = standin.url
    assert httpx.post(f"{base}/standin/rules", json={"number": "+8613800000004", "error": "21610"}).status_code == 204
    assert httpx.post(f"{base}/standin/rules", json={"number": "+1", "error": "teapot"}).status_code == 422
    assert _sender(standin, receiver).send(_sms("+8613800000004")).outcome is SendOutcome.OPTED_OUT
    reply = httpx.post(f"{base}/standin/replies", json={"from": "+8613800000004", "body": "STOP"}).json()
    assert reply["status"] == 200 and "got it" in reply["twiml"]
    listed = httpx.get(f"{base}/standin/messages", params={"after": 0}).json()["messages"]
    assert [(m["direction"], m["status"]) for m in listed] == [
        ("outbound-api", "refused"),
        ("inbound", "received"),
        ("outbound-reply", "sent"),
    ]
    last = listed[-1]["id"]
    empty = httpx.get(f"{base}/standin/messages", params={"after": last, "wait": 0.2}).json()
    assert empty == {"messages": []}


@pytest.mark.parametrize(
    ("option", "says"),
    [
        (["--port", "0"], "Invalid value for '--port'"),
        (["--port", "70000"], "Invalid value for '--port'"),
        (["--callback-delay", "-1"], "Invalid value for '--callback-delay'"),
    ],
)
def test_the_command_refuses_a_port_outside_1_to_65535_and_a_negative_delay(option: list[str], says: str) -> None:
    result = CliRunner().invoke(app, ["simulate", "twilio", *option])
    assert result.exit_code == 2 and says in result.output, result.output


def test_the_command_says_when_its_port_is_in_use() -> None:
    handlers = (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM))
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        try:
            result = CliRunner().invoke(app, ["simulate", "twilio", "--port", str(port)])
        finally:
            signal.signal(signal.SIGINT, handlers[0])
            signal.signal(signal.SIGTERM, handlers[1])
    assert result.exit_code == 1, result.output
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in result.output


def test_the_simulators_say_invalid_settings_as_the_platforms_commands_do() -> None:
    """ELDERCARE_* the platform refuses stop the simulators the same way (invalid configuration, exit 2): the
    stand-in read them unguarded, a traceback."""
    for args in (["simulate", "twilio", "--port", "1"], ["simulate", "fleet", "--duration", "1"]):
        result = CliRunner().invoke(app, args, env={"ELDERCARE_TIMEZONE": "Mars/Base"})
        assert result.exit_code == 2, (args, result.output)
        assert "invalid configuration" in result.output and "ELDERCARE_TIMEZONE" in result.output, result.output
