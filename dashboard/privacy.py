"""Masking of personal data for viewers: phone numbers and street addresses, in pages and the API alike."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

PHONE_FIELDS = frozenset({"phone", "elder_phone", "manager_phone", "caregiver_phone"})
ADDRESS_FIELDS = frozenset({"address", "elder_address"})
# how to get into the home (key safe, door code): hidden whole from viewers
SECRET_FIELDS = frozenset({"home_access_notes"})
HIDDEN = "****"

Model = TypeVar("Model", bound=BaseModel)


def mask_phone(phone: str | None) -> str | None:
    """``+8613812345678`` becomes ``+86138****5678``: enough to tell two numbers apart, not to call one."""
    if not phone:
        return phone
    if len(phone) <= 7:
        return "*" * len(phone)
    return phone[:6] + "****" + phone[-4:]


def mask_address(address: str | None) -> str | None:
    """Keep the district part (the first few characters), hide the street and house number."""
    if not address:
        return address
    keep = min(6, max(1, len(address) // 3))
    return address[:keep] + "****"


def _masked_value(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return masked(value)
    if isinstance(value, list):
        return [_masked_value(item) for item in value]
    return value


def masked(model: Model) -> Model:
    """A copy of ``model`` (and the models inside it) with phone numbers and addresses masked."""
    update: dict[str, Any] = {}
    for name in type(model).model_fields:
        value = getattr(model, name)
        if name in PHONE_FIELDS and isinstance(value, str):
            update[name] = mask_phone(value)
        elif name in ADDRESS_FIELDS and isinstance(value, str):
            update[name] = mask_address(value)
        elif name in SECRET_FIELDS and isinstance(value, str):
            update[name] = HIDDEN if value else ""
        elif isinstance(value, BaseModel | list):
            update[name] = _masked_value(value)
    return model.model_copy(update=update)
