"""The text a person reads on a page: text nodes and the attributes a browser shows, without scripts, styles and
what is marked ``translate="no"`` (names, codes, numbers the page shows as data)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

_HIDDEN = {"script", "style", "template", "head"}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
_SHOWN_ATTRIBUTES = ("placeholder", "aria-label", "title", "alt", "data-empty", "data-confirm")


class _Visible(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []  # (tag, hidden from here down)
        self.texts: list[str] = []

    def _hidden(self) -> bool:
        return bool(self.stack) and self.stack[-1][1]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        hidden = self._hidden() or tag in _HIDDEN or values.get("translate") == "no"
        if not hidden:
            self.texts.extend(v for k in _SHOWN_ATTRIBUTES if (v := values.get(k)))
            if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
                self.texts.append(values["value"] or "")
        if tag not in _VOID:
            self.stack.append((tag, hidden))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        if not self._hidden() and data.strip():
            self.texts.append(data.strip())


def visible_texts(html: str) -> list[str]:
    parser = _Visible()
    parser.feed(html)
    return parser.texts


# Latin words a Chinese page may show: units, acronyms, and the other language's name on the switch
ALLOWED_LATIN = frozenset(
    {
        "km",
        "CSV",
        "SMS",
        "MQTT",
        "IMEI",
        "ID",
        "SpO2",
        "SpO₂",
        "HR",
        "BP",
        "P50",
        "P90",
        "English",
        "crontab",
        "min",
        "max",
        "kg",
        "mmHg",
        "bpm",
        # file kinds and text encodings a bureau's files come in
        "csv",
        "xlsx",
        "UTF",
        "GBK",
        # crontab's weekday names, typed as they are in a schedule
        "mon",
        "tue",
        "wed",
        "thu",
        "fri",
        "sat",
        "sun",
    }
)
_LATIN = re.compile(r"(?<![°A-Za-z])[A-Za-z][A-Za-z0-9_₂]*(?:[-'][A-Za-z]+)*")
# a person's or a place's code standing where a name should be: C00043, E00012, P003
_CODE = re.compile(r"\b[A-Z]\d{3,}\b")


def foreign_words(texts: list[str]) -> list[str]:
    """Latin words and codes in the visible texts of a Chinese page, each with the text it stands in."""
    found = []
    for text in texts:
        for word in _LATIN.findall(text):
            if word not in ALLOWED_LATIN and not _CODE.fullmatch(word):
                found.append(f"{word!r} in {text[:80]!r}")
        found.extend(f"code {code!r} in {text[:80]!r}" for code in _CODE.findall(text))
    return found
