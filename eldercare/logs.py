"""Logging set-up for every command: one format, and credentials never reach a log line."""

from __future__ import annotations

import logging
import re
import sys
from typing import TextIO

_CREDENTIALS = re.compile(r"(://[^:/@\s]+:)[^@\s]+@")


class RedactCredentials(logging.Filter):
    """Masks the password of any URL that slips into a message or its arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.msg = record.getMessage()
            record.args = None
        if isinstance(record.msg, str) and "://" in record.msg:
            record.msg = _CREDENTIALS.sub(r"\1***@", record.msg)
        return True


class ToStderr(logging.StreamHandler):
    """Writes to ``sys.stderr`` as it is when a line is logged, not as it was at set-up: a command run inside
    another (a test's runner, which gives it a stream of its own and closes it after) leaves no handler on a closed
    stream for the threads that outlive it."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _: object) -> None:
        pass


def setup(level: str = "INFO") -> None:
    handler = ToStderr()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S"))
    handler.addFilter(RedactCredentials())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    from eldercare.embedded import quiet_library_loggers

    quiet_library_loggers()
    for name in ("httpx", "httpcore", "apscheduler.executors.default", "twilio.http_client"):
        logging.getLogger(name).setLevel(logging.WARNING)
