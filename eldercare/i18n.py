"""The gettext catalogues every component reads: English is the source, one ``.po`` per other language.

The catalogues live in ``eldercare/locale/<locale>/LC_MESSAGES/eldercare.po``. ``make install`` (and the
production image) compiles each to ``.mo``; where a ``.mo`` is missing or older than its ``.po`` (a fresh clone, an
edited catalogue) the ``.po`` is compiled in memory at first use, so the words a translator wrote are always the
words shown. docs/i18n.md says how to add, extract, update and compile.
"""

from __future__ import annotations

import functools
import gettext
import io
import logging
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

log = logging.getLogger(__name__)

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "eldercare"
LANGUAGES = ("zh", "en")
# the interface language -> its catalogue's locale (and Babel's, for dates and numbers); English is the source
LOCALES = {"zh": "zh_Hans", "en": "en"}
# how dates and times are written for each language (Babel's locale data): English readers here get the
# day-first, 24-hour way, not the US one
DATE_LOCALES = {"zh": "zh_Hans", "en": "en_GB"}


def N_(message: str) -> str:
    """Marks ``message`` for extraction where it is defined; it is translated where it is shown."""
    return message


def catalogued(text: str) -> bool:
    """Whether ``text`` is a sentence of the platform's catalogue (the Chinese one translates every sentence), not a
    person's own words or a line written for the log."""
    return bool(text) and translations("zh").gettext(text) != text


def locale(language: str) -> str:
    return LOCALES.get(language, LOCALES["zh"])


@functools.cache
def translations(language: str) -> gettext.NullTranslations:
    """The catalogue of ``language`` ('zh' or 'en'); English, the source, needs none."""
    if language == "en":
        return gettext.NullTranslations()
    folder = LOCALE_DIR / locale(language) / "LC_MESSAGES"
    po, mo = folder / f"{DOMAIN}.po", folder / f"{DOMAIN}.mo"
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as file:
            return Translations(file, domain=DOMAIN)
    log.info("compiling %s in memory (no current .mo)", po)
    with po.open("rb") as file:
        catalog = read_po(file, locale=locale(language), domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)
