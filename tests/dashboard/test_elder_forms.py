"""The elder edit form posted back as a browser would: an unchanged save keeps every contact and its language."""

from __future__ import annotations

from html.parser import HTMLParser

import psycopg

from dashboard.server import DashboardServer
from eldercare.register import elders as register
from eldercare.register.record import get_record
from tests.dashboard.conftest import NOW, City
from tests.dashboard.test_supervision_refusals import signed_in

UNSUBMITTED = frozenset({"submit", "button", "reset", "image", "file"})


class FormFields(HTMLParser):
    """The fields one form on a page submits, in document order, as a browser builds them (HTML's form data set)."""

    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id = form_id
        self.fields: list[tuple[str, str]] = []
        self._inside = False
        self._select: str | None = None
        self._options: list[tuple[str | None, bool]] = []  # value (None: the option's text), selected
        self._option_text: list[str] = []
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "form":
            self._inside = found.get("id") == self.form_id
        if not self._inside:
            return
        name = found.get("name")
        if tag == "input" and name and "disabled" not in found:
            kind = (found.get("type") or "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in found:
                    self.fields.append((name, found.get("value") or "on"))
            elif kind not in UNSUBMITTED:
                self.fields.append((name, found.get("value") or ""))
        elif tag == "select" and name:
            self._select, self._options = name, []
        elif tag == "option" and self._select is not None:
            self._close_option()
            self._options.append((found.get("value"), "selected" in found))
            self._option_text = []
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)
        elif self._select is not None and self._options:
            self._option_text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._inside = False
        elif tag == "option":
            self._close_option()
        elif tag == "select" and self._select is not None:
            self._close_option()
            chosen = [value for value, selected in self._options if selected] or [self._options[0][0]]
            self.fields.append((self._select, chosen[-1] or ""))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            text = "".join(self._text)
            self.fields.append((self._textarea, text.removeprefix("\n")))  # the parser drops one leading newline
            self._textarea = None

    def _close_option(self) -> None:
        if self._options and self._options[-1][0] is None:  # an option without a value submits its text
            self._options[-1] = (" ".join("".join(self._option_text).split()), self._options[-1][1])


def form_fields(page: str, form_id: str) -> list[tuple[str, str]]:
    parser = FormFields(form_id)
    parser.feed(page)
    parser.close()
    return parser.fields


def test_saving_the_edit_form_unchanged_keeps_every_contact_and_its_language(
    city: City, server: DashboardServer
) -> None:
    contacts = [
        {
            "name": f"联系人{n}",
            "relation": "儿子" if n % 2 else "邻居",
            "phone": f"+86139000000{n:02d}",
            "language": "en" if n in (1, 4, 7) else "zh",
            "notify_sms": n != 5,
            "liaison": n == 2,
        }
        for n in range(8)
    ]
    with psycopg.connect(city.url) as conn:
        township, community, lat, lon = conn.execute(
            "SELECT t.name, c.name, c.lat, c.lon FROM community c JOIN township t ON t.id = c.township_id "
            "ORDER BY c.id LIMIT 1"
        ).fetchone()  # type: ignore[misc]
        data = {
            "name": "王秀英",
            "gender": "F",
            "birth_date": "1940-05-01",
            "phone": "+8613812340000",
            "language": "en",
            "township": township,
            "community": community,
            "address": "金桂路12号",
            "lat": lat,
            "lon": lon,
            "living_situation": "alone",
            "home_access_notes": "钥匙盒密码 4821\n请先敲门",
            "contacts": contacts,
            "thresholds": {"hr_high": 118, "temp_high": 37.8},
        }
        elder_id = register.create_elder(conn, data, "test", NOW.date()).elder_id
        before = get_record(conn, elder_id)

    http = signed_in(server, "zh")
    try:
        page = http.get(f"/elders/{elder_id}/edit")
        assert page.status_code == 200, page.text[:300]
        fields = form_fields(page.text, "elder-form")
        names = [name for name, _ in fields]
        assert len(names) == len(set(names)), "a field is in the form twice"
        assert "csrf_token" in names and f"contact_{len(contacts)}_name" in names  # room to add one
        saved = http.post(f"/elders/{elder_id}/edit", data=dict(fields))
        assert saved.status_code == 303, saved.text[:2000]
    finally:
        http.close()

    with psycopg.connect(city.url) as conn:
        after = get_record(conn, elder_id)
    assert [(c.phone, c.language) for c in after.contacts] == [(c["phone"], c["language"]) for c in contacts]
    assert after == before
