"""Every message the dispatcher writes to people: English message ids, marked for the gettext catalogues
(docs/i18n.md), read in the reader's language ('zh' or 'en': ``eldercare.i18n.translations``)."""

from __future__ import annotations

from typing import Any

from eldercare.i18n import N_, translations
from eldercare.vocabulary import ServiceType

S = ServiceType
SERVICE_NAMES: dict[str, str] = {
    S.MEAL: N_("Meal delivery"),
    S.CLEANING: N_("Housekeeping"),
    S.BATHING: N_("Bathing help"),
    S.MEDICAL: N_("Medical escort"),
    S.MOBILITY: N_("Escort on outings"),
    S.EMERGENCY: N_("Emergency"),
    S.CARE: N_("Personal care"),
}

_TEXTS: dict[str, str] = {
    "offer": N_(
        "[%(service)s] Order %(code)s: %(elder)s, %(address)s, %(km).1f km from you%(when)s. Reply Y %(code)s to "
        "accept, N %(code)s to decline (within %(ttl)s). %(link)s"
    ),
    "accepted": N_(
        "Order %(code)s is yours. Please go to: %(address)s. Reply ARRIVED %(code)s on arrival, DONE %(code)s "
        "when done."
    ),
    "accepted_booked": N_(
        "Order %(code)s is yours. Please be at %(address)s at the booked time, %(window)s. Reply ARRIVED %(code)s "
        "on arrival, DONE %(code)s when done (add the 6 digits of the card at the elder's home)."
    ),
    "too_early_arrived": N_(
        "Order %(code)s is booked for %(window)s; it is too early to report arrival, so nothing was recorded. If "
        "you really are there, send it again within %(minutes)s min and the platform will check it as an "
        "exception."
    ),
    "too_late_arrived": N_(
        "Order %(code)s was booked for %(window)s, long past; the arrival was not recorded. If you really are "
        "there, send it again within %(minutes)s min and the platform will check it as an exception."
    ),
    "too_early_completed": N_(
        "Order %(code)s is booked for %(window)s; it is too early to report it done, so nothing was recorded. If "
        "it really is done, send it again within %(minutes)s min and the platform will check it as an exception."
    ),
    "too_late_completed": N_(
        "Order %(code)s was booked for %(window)s, long past; the completion was not recorded. If it really is "
        "done, send it again within %(minutes)s min and the platform will check it as an exception."
    ),
    "unfinished": N_(
        "Order %(code)s: you arrived at %(arrived)s and have not reported it done. Reply DONE %(code)s when done "
        "(add the 6 digits of the card at the elder's home); if something is wrong, call your manager."
    ),
    "declined": N_("Order %(code)s declined; thank you for telling us."),
    "arrived": N_("Arrival at %(code)s recorded. Reply DONE %(code)s when done."),
    "done": N_("Order %(code)s completed. Thank you!"),
    "en_route": N_("On your way to %(code)s: recorded."),
    "taken": N_("Order %(code)s is already taken or closed; no need to go."),
    "taken_by_other": N_("Order %(code)s was taken by another caregiver; no need to go. Thank you."),
    "expired": N_("The offer of %(code)s has expired and went to someone else."),
    "full": N_("You already hold %(load)s orders, your limit; you cannot take %(code)s."),
    "not_yours": N_("Order %(code)s was not offered to you; nothing changed. Please check the code."),
    "no_such_order": N_("There is no order %(code)s; please check the code."),
    "nothing_open": N_("You have no open offer to answer right now."),
    "nothing_held": N_("You hold no order in progress right now."),
    "several": N_("You have several orders: %(codes)s. Please add the order code to your reply, e.g. %(example)s."),
    "wrong_step": N_("Order %(code)s is %(status)s; it cannot be %(action)s now."),
    "plan_day": N_("[Your day] %(day)s, %(count)s visits: %(visits)s. Reply Y or CONFIRM to confirm."),
    "plan_visit": N_("%(n)s) %(time)s %(service)s %(elder)s, %(address)s"),
    "plan_kitchen": N_("%(time)s collect %(count)s meal(s) at the kitchen of %(provider)s"),
    "day_confirmed": N_("Your day %(day)s is confirmed. Thank you!"),
    "nothing_to_confirm": N_("You have no planned day to confirm right now."),
    "help": N_(
        "Reply Y/1 to accept, N/2 to decline, ARRIVED on arrival, DONE when done, optionally with the order code; "
        "STOP to opt out, START to opt back in."
    ),
    "complaint_received": N_(
        "Your complaint was received; the bureau will have the provider answer it and let you know."
    ),
    "unknown_number": N_(
        "This number is not registered as a caregiver, so nothing was done. Please contact your service provider."
    ),
    "stopped": N_("You will get no more order SMS. Reply START to opt back in."),
    "started": N_("You will receive order SMS again."),
    "withdrawn": N_("Order %(code)s was cancelled or reassigned: %(reason)s"),
    "family_alarm": N_(
        "[Eldercare] Alarm for %(elder)s: %(alarm)s. Order %(code)s is out; we are calling a caregiver nearby."
    ),
    "family_false_alarm": N_(
        "[Eldercare] The alarm of %(elder)s was a false alarm; order %(code)s is cancelled. Call us with any question."
    ),
    "family_accepted": N_(
        "[Eldercare] Caregiver %(caregiver)s took order %(code)s and should reach %(elder)s in about %(eta)s min."
    ),
    "family_arrived": N_("[Eldercare] Caregiver %(caregiver)s has reached %(elder)s (order %(code)s)."),
    "manager_escalated": N_(
        "[Escalated] %(service)s order %(code)s (%(elder)s, %(address)s): %(reason)s. Please act now."
    ),
    "device_help_coming": N_("Help is coming: %(caregiver)s, about %(eta)s min."),
    "device_help_arrived": N_("%(caregiver)s has arrived."),
}

REASONS: dict[str, str] = {
    "no_acceptance": N_("no caregiver accepted"),
    "no_candidate": N_("no eligible caregiver"),
    "no_arrival": N_("accepted but no arrival in time"),
    "false_alarm": N_("the alarm was found to be a false alarm"),
    "replanned": N_("the day was planned again and the visit no longer has a place in yours"),
}


def text(key: str, language: str, **values: Any) -> str:
    """The message ``key`` in ``language`` ('zh' or 'en'), filled with ``values``."""
    return translations(language).gettext(_TEXTS[key]) % values


def service_name(code: str, language: str) -> str:
    return translations(language).gettext(SERVICE_NAMES[code]) if code in SERVICE_NAMES else code


def reason(code: str, language: str) -> str:
    return translations(language).gettext(REASONS[code]) if code in REASONS else code


def said(text: str, language: str) -> str:
    """A stored sentence in ``language``: the platform's own (a message id of the catalogue, such as why an
    inactive elder's orders were cancelled) translated, a person's own words as they wrote them."""
    return translations(language).gettext(text)


def duration(seconds: float, language: str) -> str:
    """'90秒' / '90 s', '15分钟' / '15 min'."""
    words = translations(language)
    if seconds < 120:
        return words.gettext("%(seconds)d s") % {"seconds": round(seconds)}
    return words.gettext("%(minutes)d min") % {"minutes": round(seconds / 60)}
