"""What the dashboard answers when a request cannot be done: the reason, fit for the person who asked."""

from __future__ import annotations

from datetime import date

from eldercare.clock import FIRST_DAY, LAST_DAY
from eldercare.i18n import N_
from eldercare.labels import Message


class NotFound(Exception):
    """The record named in the request does not exist (404)."""


class Conflict(Exception):
    """The record is not in a state that allows the request, e.g. resolving a resolved alarm (409)."""


class Refused(Exception):
    """The caller may not do this (403)."""


class Invalid(Exception):
    """The request is well-formed but asks for something impossible, e.g. an end before its start (422)."""


def day_in_range(day: date) -> date:
    """``day`` when the platform reads such days (``FIRST_DAY`` to ``LAST_DAY``), else ``Invalid`` naming them."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise Invalid(
            Message.of(
                N_("%(day)s is out of range: days from %(earliest)s to %(latest)s"),
                day=day,
                earliest=FIRST_DAY,
                latest=LAST_DAY,
            )
        )
    return day
