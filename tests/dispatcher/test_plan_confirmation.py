"""Caregivers confirm their planned day by SMS, through twilio-python and the Twilio stand-in: one SMS each with
their visits in order and times, one reply (确认, CONFIRM or Y) confirms it."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
import psycopg

from dispatcher.orders import insert_order
from dispatcher.planning import plan_day
from eldercare.clock import ManualClock
from tests.dispatcher.harness import Harness
from tests.dispatcher.test_texts_language import chinese_page_problems
from tests.dispatcher.town import Town, offset
from tests.waiting import patience

TZ = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 1, 8)


def at(hour: int, minute: int = 0) -> datetime:
    return datetime.combine(DAY, time(hour, minute), tzinfo=TZ)


def test_each_caregiver_gets_their_day_and_confirms_it_by_reply(
    conn: psycopg.Connection, town: Town, clock: ManualClock, harness: Harness
) -> None:
    provider = town.provider(services=("cleaning", "care"))
    zh = town.caregiver(provider, offset(0, 0.5), skills=("cleaning",))
    en = town.caregiver(provider, offset(0, -0.5), skills=("care",), language="en")
    idle = town.caregiver(provider, offset(3, 0), skills=("bathing",))
    for start, service, km in ((at(9), "cleaning", 0.6), (at(14), "cleaning", 0.4), (at(10), "care", -0.6)):
        elder = town.elder(offset(0, km))
        ref = insert_order(
            conn,
            clock,
            harness.config,
            elder_id=elder,
            service_type=service,
            source="operator",
            actor="op",
            window_start=start,
            window_end=start + timedelta(hours=1),
            duration_min=45,
        )
        assert ref is not None
    conn.commit()
    with harness.resources.connection() as db:
        outcome = plan_day(db, clock, harness.config, DAY, made_by="test", tell=True)
    assert outcome.figures["assigned"] == 3 and outcome.figures["caregivers_told"] == 2
    harness.drive()
    day_sms = harness.standin.wait_for(to=harness.phone(zh), timeout=patience(10))[0].body
    assert day_sms.startswith("【明日工作】2026-01-08 共2个上门")
    assert "1) 09:00 助洁" in day_sms and "2) 14:00 助洁" in day_sms, day_sms
    english = harness.standin.wait_for(to=harness.phone(en), timeout=patience(10))[0].body
    assert english.startswith("[Your day] 2026-01-08, 1 visits: 1) 10:00 Personal care")
    assert harness.standin.sent(to=harness.phone(idle)) == []  # nothing planned, nothing told

    # the link in the SMS opens the day's route; its button confirms the day
    link = day_sms.rsplit(" ", 1)[1]
    assert link.startswith(f"{harness.web.url}/m/day/")
    page = httpx.get(link, timeout=10)
    assert page.status_code == 200 and 'data-confirmed="no"' in page.text
    assert page.text.index("09:00") < page.text.index("14:00") and "赤壁市蒲圻街道金桂路12号" in page.text
    confirmed_page = httpx.post(f"{link}/confirm", timeout=10)
    assert chinese_page_problems(page.text, "") == chinese_page_problems(confirmed_page.text, "") == []
    assert "已确认2026-01-08的工作安排" in confirmed_page.text and 'data-confirmed="yes"' in confirmed_page.text
    assert httpx.get(link.replace("/m/day/", "/m/day/x"), timeout=10).status_code == 403  # a forged link
    assert "confirmed" in harness.standin.reply(harness.phone(en), "Y").text  # Y with no offer waiting
    confirmed = harness.all(
        "SELECT caregiver_id FROM plan_route WHERE plan_id = %s AND confirmed_at IS NOT NULL ORDER BY 1",
        outcome.plan_id,
    )
    assert confirmed == sorted([(zh,), (en,)])
    again = harness.standin.reply(harness.phone(zh), "确认").text
    assert "没有待确认" in again  # once is enough; nothing changes
    assert "没有待确认" in httpx.post(f"{link}/confirm", timeout=10).text
    assert "没有待确认" in harness.standin.reply(harness.phone(idle), "CONFIRM").text
    assert harness.one("SELECT count(*) FROM sms_message WHERE purpose = 'plan'") == 2
