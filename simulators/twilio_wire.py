"""What Twilio's Messages API looks like on the wire: the message JSON, error bodies, webhook parameters."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from fastapi.responses import JSONResponse

API_VERSION = "2010-04-01"
ERRORS: dict[str, tuple[int, int, str]] = {
    "21610": (400, 21610, "Attempt to send to unsubscribed recipient"),
    "21211": (400, 21211, "The 'To' number is not a valid phone number."),
    "429": (429, 20429, "Too Many Requests"),
    "500": (500, 20500, "Internal Server Error"),
    "503": (503, 20503, "Service Unavailable"),
}
# failures reported later, by status callback, after Twilio accepted the message
LATE_FAILURES = {"undelivered": 30003, "failed": 30005}


@dataclass(slots=True)
class Message:
    """One message as the stand-in saw it: sent through the API, a reply in TwiML, or an inbound reply."""

    id: int
    sid: str
    direction: str  # outbound-api, outbound-reply, inbound
    to: str
    from_: str
    body: str
    status: str
    received_at: float  # time.time() when the stand-in got it
    status_callback: str | None = None
    error_code: int | None = None

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["from"] = data.pop("from_")
        return data


def message_json(message: Message, account_sid: str) -> dict[str, Any]:
    """The Message resource as Twilio returns it."""
    now = format_datetime(datetime.fromtimestamp(message.received_at, UTC), usegmt=True)
    single, part = (160, 153) if message.body.isascii() else (70, 67)  # GSM-7, or UCS-2 for Chinese
    segments = 1 if len(message.body) <= single else math.ceil(len(message.body) / part)
    return {
        "account_sid": account_sid,
        "api_version": API_VERSION,
        "body": message.body,
        "date_created": now,
        "date_updated": now,
        "date_sent": None,
        "direction": message.direction,
        "error_code": message.error_code,
        "error_message": None,
        "from": message.from_,
        "messaging_service_sid": None,
        "num_media": "0",
        "num_segments": str(segments),
        "price": None,
        "price_unit": "USD",
        "sid": message.sid,
        "status": message.status,
        "subresource_uris": {},
        "to": message.to,
        "uri": f"/{API_VERSION}/Accounts/{account_sid}/Messages/{message.sid}.json",
    }


def error_response(status: int, code: int, text: str) -> JSONResponse:
    """An error as Twilio answers it: the code, a message, where to read more."""
    return JSONResponse(
        {
            "code": code,
            "message": text,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
        status_code=status,
    )


def inbound_params(sid: str, account_sid: str, from_: str, to: str, body: str) -> dict[str, str]:
    """The form Twilio posts to an incoming-message webhook."""
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "SmsMessageSid": sid,
        "AccountSid": account_sid,
        "From": from_,
        "To": to,
        "Body": body,
        "NumMedia": "0",
        "NumSegments": "1",
        "SmsStatus": "received",
        "ApiVersion": API_VERSION,
    }


def status_params(message: Message, account_sid: str) -> dict[str, str]:
    """The form Twilio posts to a message's StatusCallback."""
    params = {
        "MessageSid": message.sid,
        "SmsSid": message.sid,
        "AccountSid": account_sid,
        "From": message.from_,
        "To": message.to,
        "MessageStatus": message.status,
        "SmsStatus": message.status,
        "ApiVersion": API_VERSION,
    }
    if message.error_code:
        params["ErrorCode"] = str(message.error_code)
    return params
