"""The one place that relies on amqtt's internals: its broker, with a fault in retained messages mended.

amqtt sends a resuming client the retained messages matching *every* client's subscriptions, not its own.
With a thousand devices and their retained status messages that floods every new connection, and the awaits
inside that loop let other connections change the dictionary it iterates. The mend publishes retained messages
only for the session's own filters. It relies on two private names of ``amqtt.broker.Broker``, checked by
``internals_changed`` and by tests/eldercare/test_amqtt_mend.py: when either changes, revisit the pin
``amqtt>=0.11,<0.13`` in pyproject.toml together with this module.
"""

from __future__ import annotations

import inspect
import logging
from typing import Any

PIN = "amqtt>=0.11,<0.13 in pyproject.toml"
_METHOD = "_publish_retained_messages_for_subscription"
_SUBSCRIPTIONS = "_subscriptions"  # topic filter -> [(session, qos)], set in Broker.__init__


def internals_changed() -> list[str]:
    """What of amqtt's internals the mend relies on is no longer there as expected; empty when all is."""
    from amqtt.broker import Broker

    problems = []
    method = getattr(Broker, _METHOD, None)
    if method is None or not inspect.iscoroutinefunction(method):
        problems.append(f"Broker.{_METHOD} is no longer a coroutine method")
    elif list(inspect.signature(method).parameters) != ["self", "subscription", "session"]:
        problems.append(f"Broker.{_METHOD} takes {list(inspect.signature(method).parameters)} now")
    if f"self.{_SUBSCRIPTIONS}" not in inspect.getsource(Broker.__init__):
        problems.append(f"Broker.__init__ no longer sets self.{_SUBSCRIPTIONS}")
    return problems


class SlowAcknowledgements(logging.Filter):
    """amqtt waits a fixed 5 s for a client's PUBACK, then gives up on the delivery and logs a traceback at
    ERROR. The gateway acknowledges only once a message is committed, which on a loaded machine can take that
    long; the message was delivered and is stored, so this is said in one warning line, without a traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], TimeoutError) and "PUBACK" in str(record.exc_info[1]):
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.msg, record.args = "a client took over 5 s to acknowledge a message (%s)", (record.exc_info[1],)
            record.exc_info, record.exc_text = None, None
        return True


def mended_broker_class() -> type:
    """amqtt's ``Broker`` with the retained-messages fault mended."""
    from amqtt.broker import Broker

    problems = internals_changed()
    if problems:
        raise RuntimeError(
            f"the installed amqtt changed what eldercare/amqtt_mend.py relies on ({'; '.join(problems)}); "
            f"revisit the pin {PIN} and the mend"
        )

    class MendedBroker(Broker):
        async def _publish_retained_messages_for_subscription(
            self, subscription: tuple[str, int], session: Any
        ) -> None:
            subscribers = getattr(self, _SUBSCRIPTIONS).get(subscription[0], [])
            if any(subscriber is session for subscriber, _ in subscribers):
                await super()._publish_retained_messages_for_subscription(subscription, session)

    return MendedBroker
