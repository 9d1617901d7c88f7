"""Sending one SMS through twilio-python, to Twilio or to any API base (the local stand-in)."""

from __future__ import annotations

import logging
from typing import Any, Protocol

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from dispatcher import metrics
from dispatcher.outbox import OutboundSms, SendOutcome, SendResult
from eldercare.config import TWILIO_API_BASE, Settings

log = logging.getLogger(__name__)

OPTED_OUT = 21610  # "Attempt to send to unsubscribed recipient"


class SmsSender(Protocol):
    def send(self, sms: OutboundSms) -> SendResult:
        """Hand one message to the SMS provider; never raises for the provider's refusals."""
        ...


class BaseUrlHttpClient(TwilioHttpClient):
    """twilio-python's own HTTP client, with requests for ``https://api.twilio.com`` sent to ``api_base``.

    twilio-python builds absolute URLs from a hard-coded domain; its documented way to change where they go
    is a custom ``http_client``, which is this.
    """

    def __init__(self, api_base: str, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self.api_base = api_base.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        if self.api_base != TWILIO_API_BASE and url.startswith(TWILIO_API_BASE):
            url = self.api_base + url[len(TWILIO_API_BASE) :]
        return super().request(method, url, *args, **kwargs)


def status_callback_url(public_url: str, sms_id: int) -> str:
    """Where Twilio reports delivery; our own id in the URL finds the row even before its sid is recorded."""
    return f"{public_url.rstrip('/')}/sms/status?m={sms_id}"


class TwilioSender:
    """Sends through the Messages resource, classifying failures into retry, opted out and failed."""

    def __init__(self, settings: Settings, timeout: float = 10.0) -> None:
        self.public_url = settings.public_url
        self.client = Client(
            settings.twilio_account_sid,
            settings.twilio_auth_token.get_secret_value(),
            http_client=BaseUrlHttpClient(settings.twilio_api_base, timeout),
        )

    def send(self, sms: OutboundSms) -> SendResult:
        with metrics.SMS_SECONDS.time():
            return self._send(sms)

    def _send(self, sms: OutboundSms) -> SendResult:
        try:
            message = self.client.messages.create(
                to=sms.to_phone,
                from_=sms.from_phone,
                body=sms.body,
                status_callback=status_callback_url(self.public_url, sms.id),
            )
        except TwilioRestException as err:
            return classify(err.status, err.code, err.msg)
        except (requests.ConnectionError, requests.Timeout) as err:
            return SendResult(SendOutcome.RETRY, error_message=f"cannot reach the SMS API: {type(err).__name__}")
        except TwilioException as err:
            return SendResult(SendOutcome.RETRY, error_message=str(err)[:200])
        return SendResult(SendOutcome.ACCEPTED, sid=message.sid, status=str(message.status or "queued"))


class NullSender:
    """Takes every message and sends none; for simulations that play the caregivers' phones themselves."""

    def __init__(self) -> None:
        self.sent: list[OutboundSms] = []

    def send(self, sms: OutboundSms) -> SendResult:
        self.sent.append(sms)
        return SendResult(SendOutcome.ACCEPTED, sid=f"SMnull{sms.id:026d}", status="delivered")


def classify(status: int, code: int | None, message: str) -> SendResult:
    """What a Twilio error means for us: 429 and 5xx are worth retrying, 21610 is an opt-out."""
    if code == OPTED_OUT:
        return SendResult(SendOutcome.OPTED_OUT, error_code=code, error_message=message[:300])
    if status == 429 or status >= 500:
        return SendResult(SendOutcome.RETRY, error_code=code or status, error_message=message[:300])
    return SendResult(SendOutcome.FAILED, error_code=code or status, error_message=message[:300])
