"""What the dashboard answers when a request cannot be done: the reason, fit for the person who asked."""

from __future__ import annotations


class NotFound(Exception):
    """The record named in the request does not exist (404)."""


class Conflict(Exception):
    """The record is not in a state that allows the request, e.g. resolving a resolved alarm (409)."""


class Refused(Exception):
    """The caller may not do this (403)."""


class Invalid(Exception):
    """The request is well-formed but asks for something impossible, e.g. an end before its start (422)."""
