"""Signed links to a caregiver's page for one order, so they can act without typing keywords, and to the page of
their planned day."""

from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from dispatcher.settings import Config

_SALT = "eldercare.dispatcher.caregiver-page"
_DAY_SALT = "eldercare.dispatcher.caregiver-day"
PAGE_PREFIX = "/m"
DAY_PREFIX = f"{PAGE_PREFIX}/day"


@dataclass(frozen=True, slots=True)
class PageGrant:
    """What a link lets its holder do: act on one order as one caregiver."""

    order_id: int
    caregiver_id: int


class LinkError(Exception):
    """The link is forged, damaged or too old; the message says what to do."""


@dataclass(frozen=True, slots=True)
class DayGrant:
    """What a day link lets its holder do: see and confirm one caregiver's route in one plan."""

    plan_id: int
    caregiver_id: int


def _serializer(config: Config, salt: str = _SALT) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(config.platform.secret_key.get_secret_value(), salt=salt)


def token_for(config: Config, order_id: int, caregiver_id: int) -> str:
    return str(_serializer(config).dumps([order_id, caregiver_id]))


def page_url(config: Config, order_id: int, caregiver_id: int) -> str:
    return f"{config.platform.public_url.rstrip('/')}{PAGE_PREFIX}/{token_for(config, order_id, caregiver_id)}"


def _read(config: Config, token: str, salt: str) -> tuple[int, int]:
    max_age = config.dispatch.link_max_age_hours * 3600
    try:
        first, caregiver_id = _serializer(config, salt).loads(token, max_age=max_age)
    except SignatureExpired:
        raise LinkError(
            "this link has expired; use the keywords in the SMS, or ask the operator for a new one"
        ) from None
    except (BadSignature, ValueError, TypeError):
        raise LinkError("this link is not valid; open the link from the SMS exactly as it was sent") from None
    return int(first), int(caregiver_id)


def read_token(config: Config, token: str) -> PageGrant:
    return PageGrant(*_read(config, token, _SALT))


def day_url(config: Config, plan_id: int, caregiver_id: int) -> str:
    token = _serializer(config, _DAY_SALT).dumps([plan_id, caregiver_id])
    return f"{config.platform.public_url.rstrip('/')}{DAY_PREFIX}/{token}"


def read_day_token(config: Config, token: str) -> DayGrant:
    return DayGrant(*_read(config, token, _DAY_SALT))
