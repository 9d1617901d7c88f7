"""The UI in Chinese and English: the browser's Accept-Language chooses, a cookie remembers the switch; the words
come from the gettext catalogues (eldercare.i18n, docs/i18n.md)."""

from __future__ import annotations

import gettext as _gettext

from starlette.requests import Request

from eldercare.i18n import LANGUAGES, translations

COOKIE = "eldercare_lang"

__all__ = ["COOKIE", "LANGUAGES", "choose", "for_request", "translations"]


def choose(request: Request) -> str:
    """The language this browser reads: the remembered switch, else its Accept-Language, else Chinese."""
    remembered = request.cookies.get(COOKIE)
    if remembered in LANGUAGES:
        return remembered
    best, best_q = "zh", -1.0
    for part in request.headers.get("accept-language", "").split(","):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in LANGUAGES:
            continue
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if q > best_q:
            best, best_q = primary, q
    return best


def for_request(request: Request) -> _gettext.NullTranslations:
    """The catalogue of the language this browser reads."""
    return translations(choose(request))
