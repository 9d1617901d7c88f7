"""The dispatcher: service orders and their lifecycle, matching caregivers, SMS offers through Twilio, replies,
expiry and escalation, recurring services, and what the elder's family and device are told.

Public surface (used by the dashboard); every function takes the caller's sync ``psycopg.Connection`` (the
caller owns the transaction) and an ``eldercare.clock.Clock``:

- ``create_order``, ``cancel_order``, ``reassign_order``, ``review_order``, returning ``OrderRef`` or None
  and raising ``OrderError`` (``OrderNotFound``, ``InvalidTransition``) with a message fit for an operator;
- ``router``: a FastAPI ``APIRouter`` with ``POST /sms/inbound``, ``POST /sms/status`` and the caregivers'
  pages under ``/m/``. The app that mounts it sets ``app.state.context`` to its
  ``eldercare.component.Context``; the router opens its own small database pool from it on first use.
- ``create(context)``: the dispatcher component (``eldercare dispatcher``).
"""

from dispatcher.lifecycle import TRANSITIONS, InvalidTransition, OrderError, OrderNotFound, Status
from dispatcher.orders import OrderRef, cancel_order, create_order, reassign_order, review_order
from dispatcher.webhooks import router

__all__ = [
    "TRANSITIONS",
    "InvalidTransition",
    "OrderError",
    "OrderNotFound",
    "OrderRef",
    "Status",
    "cancel_order",
    "create_order",
    "reassign_order",
    "review_order",
    "router",
]
