"""The dispatcher: service orders and their lifecycle, matching caregivers, SMS offers through Twilio, replies,
expiry and escalation, recurring services, and what the elder's family and device are told.

Public surface. Every function takes the caller's sync ``psycopg.Connection`` (the caller owns the
transaction) and an ``eldercare.clock.Clock``; no decision reads the wall clock or SQL ``now()``.

For the dashboard:

- ``create_order``, ``cancel_order``, ``reassign_order``, ``review_order``, returning ``OrderRef`` or None
  and raising ``OrderError`` (``OrderNotFound``, ``InvalidTransition``) with a message fit for an operator;
- ``resolve_visit_exception``: an operator's decision on a visit that failed verification;
- ``router``: a FastAPI ``APIRouter`` with ``POST /sms/inbound``, ``POST /sms/status`` and the caregivers'
  pages under ``/m/``. The app that mounts it sets ``app.state.context`` to its
  ``eldercare.component.Context`` and ``app.state.dispatcher_config`` to the ``Config`` it runs with; the
  router's lifespan opens its own small database pool from them when the app starts.

For running it: ``create(context, config)``, the component behind ``eldercare dispatcher``.

Every function takes the ``Config`` it runs with; only entry points (``create``, an app) build one, with
``Config.load(settings)``.

For driving it step by step (a simulated day, tests): ``sweep`` (alarms to emergency orders, offer expiry,
escalation, due offers), ``create_recurring_orders`` (with ``recurring_due_times``, the moments it has something
to create), ``send_due`` with an ``SmsSender`` (``NullSender`` sends nothing), the caregivers' actions
(``accept_offer``, ``decline_offer``, ``set_off``, ``arrive``, ``finish``, found with ``caregiver_by_id``; arriving
and finishing carry a ``Proof`` of where: the phone's location or the elder's card code),
``order_verdicts`` / ``elder_verdicts`` / ``readiness`` (who is eligible for a need, ranked, and why the others
are not; what a caregiver will be offered at all), ``lasting_reasons`` (what rules a caregiver out of an elder's
service whatever the day), ``homes_ignoring_load`` (where the caregivers eligible for a
need live, were none busy: a simulation's bound), and
the configuration: ``Config`` with ``DispatcherSettings``, whose ``weights_emergency`` / ``weights_routine``
(``MatchWeights``; ``MatchWeights.nearest()`` is the naive baseline) and ``travel`` (``TravelModel``) are the
matching's knobs.
"""

from dispatcher.candidates import Home, homes_ignoring_load
from dispatcher.caregiver_actions import Answer, Caregiver, arrive, caregiver_by_id, caregiver_by_phone, finish, set_off
from dispatcher.caregiver_actions import accept as accept_offer
from dispatcher.caregiver_actions import decline as decline_offer
from dispatcher.component import Dispatcher, create
from dispatcher.eligibility import (
    Readiness,
    Reason,
    Verdict,
    elder_verdicts,
    lasting_reasons,
    order_verdicts,
    readiness,
)
from dispatcher.lifecycle import TRANSITIONS, InvalidTransition, OrderError, OrderNotFound
from dispatcher.orders import OrderRef, cancel_order, create_order, reassign_order, review_order, stand_down
from dispatcher.recurring import create_due_orders as create_recurring_orders
from dispatcher.recurring import due_times as recurring_due_times
from dispatcher.sending import send_due
from dispatcher.settings import Config, DispatcherSettings, MatchWeights, TravelModel
from dispatcher.sms import NullSender, SmsSender, TwilioSender
from dispatcher.sweep import SweepReport, sweep
from dispatcher.verification import resolve as resolve_visit_exception
from dispatcher.visits import Proof
from dispatcher.webhooks import router
from eldercare.vocabulary import OrderStatus

__all__ = [
    "TRANSITIONS",
    "Answer",
    "Caregiver",
    "Config",
    "Dispatcher",
    "DispatcherSettings",
    "Home",
    "InvalidTransition",
    "MatchWeights",
    "NullSender",
    "OrderError",
    "OrderNotFound",
    "OrderRef",
    "OrderStatus",
    "Proof",
    "Readiness",
    "Reason",
    "SmsSender",
    "SweepReport",
    "TravelModel",
    "TwilioSender",
    "Verdict",
    "accept_offer",
    "arrive",
    "cancel_order",
    "caregiver_by_id",
    "caregiver_by_phone",
    "create",
    "create_order",
    "create_recurring_orders",
    "decline_offer",
    "elder_verdicts",
    "finish",
    "homes_ignoring_load",
    "lasting_reasons",
    "order_verdicts",
    "readiness",
    "reassign_order",
    "recurring_due_times",
    "resolve_visit_exception",
    "review_order",
    "router",
    "send_due",
    "set_off",
    "stand_down",
    "sweep",
]
