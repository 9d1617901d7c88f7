"""Twilio's webhooks (``/sms/inbound``, ``/sms/status``) and the caregivers' pages, as a router to mount."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
