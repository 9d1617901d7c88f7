"""The roster's checks of what a person types: phone numbers, shifts, absences, contracts, areas."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from eldercare.roster import Absence, Area, CaregiverUpdate, ProviderCreate, Shift


@pytest.mark.parametrize("phone", ["+8613812345678", "+8619912345678", "+447700900123", "+14155550123"])
def test_caregiver_phones_that_can_get_an_sms_pass(phone: str) -> None:
    assert CaregiverUpdate(phone=phone).phone == phone


@pytest.mark.parametrize(
    ("phone", "why"),
    [
        ("+8612812345678", "mobile number"),  # 12x is no mobile prefix
        ("+861381234567", "mobile number"),  # one digit short
        ("+8671512345678", "mobile number"),  # a landline cannot get an SMS
        ("13812345678", "String should match pattern"),  # not E.164
    ],
)
def test_caregiver_phones_that_cannot_get_an_sms_are_refused(phone: str, why: str) -> None:
    with pytest.raises(ValidationError, match=why):
        CaregiverUpdate(phone=phone)


def test_a_provider_office_may_have_a_landline_but_its_manager_needs_a_mobile() -> None:
    base = {"code": "P1", "name": "x", "manager_name": "y", "services": ["meal"], "area": {"townships": ["T1"]}}
    ProviderCreate.model_validate({**base, "phone": "+8671512345678", "manager_phone": "+8613812345678"})
    with pytest.raises(ValidationError, match="mobile number"):
        ProviderCreate.model_validate({**base, "phone": "+8671512345678", "manager_phone": "+8671512345678"})


def test_shifts_absences_contracts_and_areas_are_checked() -> None:
    assert Shift(weekday=3, starts="20:00", ends="08:00").ends == "08:00"  # overnight
    with pytest.raises(ValidationError, match="different times"):
        Shift(weekday=3, starts="08:00", ends="08:00")
    with pytest.raises(ValidationError, match="String should match pattern"):
        Shift(weekday=3, starts="24:00", ends="08:00")
    with pytest.raises(ValidationError, match="before it starts"):
        Absence.model_validate({"kind": "leave", "first_day": "2026-01-09", "last_day": "2026-01-08"})
    with pytest.raises(ValidationError, match="serve somewhere"):
        Area()
    base = {"code": "P1", "name": "x", "manager_name": "y", "phone": "+8613812345678", "area": {"townships": ["T"]}}
    base["manager_phone"] = "+8613812345679"
    with pytest.raises(ValidationError, match="contract cannot end"):
        ProviderCreate.model_validate(
            {**base, "services": ["meal"], "contract_starts": "2026-02-01", "contract_ends": "2026-01-01"}
        )
    with pytest.raises(ValidationError, match="repeated: Meal"):
        ProviderCreate.model_validate({**base, "services": ["meal", {"service": "meal", "price_fen": 100}]})
    with pytest.raises(ValidationError, match="at least 1 item"):
        ProviderCreate.model_validate({**base, "services": []})
