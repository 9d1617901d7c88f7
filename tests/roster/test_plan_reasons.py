"""Why the day's plan moved an order, on the order page's timeline in the language chosen with the switch: planned
for its caregiver, then taken off the day of the caregiver who fell sick and planned for another (the
sentences are kept in English, read in the reader's language)."""

from __future__ import annotations

from datetime import time

import psycopg

from dashboard.server import DashboardServer
from dispatcher.planning import plan_day, replan_on_change
from dispatcher.settings import Config
from eldercare.clock import ManualClock
from tests.dispatcher.test_planning import DAY, booked, local
from tests.dispatcher.town import Town, offset
from tests.roster.test_refusals import session

LONG_DAY = [(DAY.isoweekday(), time(7), time(20))]


def test_the_plans_reasons_read_in_the_language_chosen(
    dashboard: DashboardServer, conn: psycopg.Connection, town: Town, clock: ManualClock, config: Config
) -> None:
    pid = town.provider()
    caregivers = [town.caregiver(pid, offset(0, km), shifts=LONG_DAY) for km in (0, 0.5)]
    order = booked(conn, clock, config, town.elder(offset(0, 0.2)), "care", local(14), 60, 120)
    plan_day(conn, clock, config, DAY, made_by="test", tell=True)
    sick = conn.execute("SELECT caregiver_id FROM service_order WHERE id = %s", (order,)).fetchone()
    assert sick is not None and sick[0] in caregivers
    town.absent(sick[0], DAY, DAY)
    clock.set(local(8))
    assert replan_on_change(conn, clock, config) is not None
    conn.commit()
    reasons = [r for (r,) in conn.execute("SELECT reason FROM order_event WHERE order_id = %s ORDER BY id", (order,))]
    assert reasons[-2:] == [
        "taken off its caregiver's day: the day was planned again, for another caregiver",
        "planned for a caregiver by the day's plan",
    ]

    for language, said in (
        ("zh", ("按当日排班计划派给护理员", "已从原护理员的当日安排中撤下：当日重新排班，改由其他护理员服务")),
        ("en", ("planned for a caregiver by the day&#39;s plan", "taken off its caregiver&#39;s day: the day")),
    ):
        http = session(dashboard, language)
        try:
            page = http.get(f"/orders/{order}")
            assert page.status_code == 200
            for words in said:
                assert words in page.text, (language, words)
        finally:
            http.close()
