"""Checks of the numbers that identify a person: the resident ID number (GB 11643) and phone numbers."""

from __future__ import annotations

import re
from datetime import date

from eldercare.i18n import N_
from eldercare.labels import Message

# GB 11643-1999: weights of the first 17 digits, and the check character for each remainder (ISO 7064 MOD 11-2)
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_RESIDENT_ID = re.compile(r"^[0-9]{17}[0-9X]$")
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
# mainland mobile numbers: 11 digits starting 13-19
_MAINLAND_MOBILE = re.compile(r"^\+861[3-9][0-9]{9}$")


def resident_id_check_char(first17: str) -> str:
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def check_resident_id(value: str) -> str:
    """The resident ID number in its stored form (upper-case X), or ValueError saying what is wrong."""
    number = value.strip().upper()
    if not _RESIDENT_ID.match(number):
        raise ValueError(
            Message.of(
                N_("a resident ID number has 18 characters, 17 digits and a final digit or X (got %(n)s characters)"),
                n=len(number),
            )
        )
    expected = resident_id_check_char(number[:17])
    if number[17] != expected:
        raise ValueError(
            Message.of(
                N_(
                    "the check character of resident ID number %(number)s should be %(expected)s, not %(given)s: "
                    "a digit is mistyped; compare it with the ID card"
                ),
                number=mask_resident_id(number),
                expected=expected,
                given=number[17],
            )
        )
    birth_date_in(number)
    return number


def birth_date_in(number: str) -> date:
    """The birth date written in characters 7-14 of a resident ID number."""
    try:
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValueError(
            Message.of(N_("characters 7-14 of the resident ID number (%(digits)s) are not a date"), digits=number[6:14])
        ) from None


def gender_in(number: str) -> str:
    """``M`` or ``F`` from the 17th digit (odd for men)."""
    return "M" if int(number[16]) % 2 else "F"


def mask_resident_id(number: str | None) -> str | None:
    """``421281********123X``: the area and the last four, enough to tell two people apart."""
    if not number:
        return number
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def check_phone(value: str) -> str:
    """A phone number in E.164 form (``+8613812345678``); an 11-digit mainland mobile number may omit +86."""
    phone = re.sub(r"[\s()-]", "", value)
    if re.fullmatch(r"1[0-9]{10}", phone):
        phone = "+86" + phone
    elif phone.startswith("0086"):
        phone = "+" + phone[2:]
    if not _E164.match(phone):
        raise ValueError(
            Message.of(
                N_(
                    "%(value)r is not a phone number in international form: write it as +86 and the number, "
                    "e.g. +8613812345678"
                ),
                value=value,
            )
        )
    if phone.startswith("+861") and not _MAINLAND_MOBILE.match(phone):
        raise ValueError(
            Message.of(
                N_("%(value)r is not a mainland mobile number: it has 11 digits after +86, starting 13 to 19"),
                value=value,
            )
        )
    return phone
