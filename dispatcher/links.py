"""Signed links to a caregiver's page for one order, so they can act without typing keywords."""

from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from dispatcher.settings import Config

_SALT = "eldercare.dispatcher.caregiver-page"
PAGE_PREFIX = "/m"


@dataclass(frozen=True, slots=True)
class PageGrant:
    """What a link lets its holder do: act on one order as one caregiver."""

    order_id: int
    caregiver_id: int


class LinkError(Exception):
    """The link is forged, damaged or too old; the message says what to do."""


def _serializer(config: Config) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(config.platform.secret_key.get_secret_value(), salt=_SALT)


def token_for(config: Config, order_id: int, caregiver_id: int) -> str:
    return str(_serializer(config).dumps([order_id, caregiver_id]))


def page_url(config: Config, order_id: int, caregiver_id: int) -> str:
    return f"{config.platform.public_url.rstrip('/')}{PAGE_PREFIX}/{token_for(config, order_id, caregiver_id)}"


def read_token(config: Config, token: str) -> PageGrant:
    max_age = config.dispatch.link_max_age_hours * 3600
    try:
        order_id, caregiver_id = _serializer(config).loads(token, max_age=max_age)
    except SignatureExpired:
        raise LinkError(
            "this link has expired; use the keywords in the SMS, or ask the operator for a new one"
        ) from None
    except (BadSignature, ValueError, TypeError):
        raise LinkError("this link is not valid; open the link from the SMS exactly as it was sent") from None
    return PageGrant(int(order_id), int(caregiver_id))
