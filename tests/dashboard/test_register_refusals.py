"""The register's and the care plan's refusals on the dashboard's forms read in the language chosen with the
switch: the elder form's problems by their fields, the care plan's refusal on its error page."""

from __future__ import annotations

import re

import httpx
import psycopg

from dashboard.server import DashboardServer
from tests.dashboard.conftest import City
from tests.dashboard.test_supervision_refusals import signed_in


def _csrf(http: httpx.Client, path: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', http.get(path).text)
    assert found is not None
    return found.group(1)


def test_the_elder_form_and_the_care_plan_refuse_in_the_language_chosen(city: City, server: DashboardServer) -> None:
    with psycopg.connect(city.url) as conn:
        elder_id, community_id = conn.execute(
            "SELECT e.id, e.community_id FROM elder e WHERE e.active ORDER BY e.id LIMIT 1"
        ).fetchone()  # type: ignore[misc]
    for language, phone, schedule, unsaid in (
        (
            "zh",
            "phone: &#39;+8612345678901&#39; 不是大陆手机号：+86 后应为 11 位数字",
            "服务计划未能保存：schedule：不是有效的 crontab 时间表",
            "not a",
        ),
        (
            "en",
            "phone: &#39;+8612345678901&#39; is not a mainland mobile number",
            "the care plan cannot be saved: schedule: not a crontab schedule",
            "不是",
        ),
    ):
        http = signed_in(server, language)
        try:
            form = {
                "csrf_token": _csrf(http, "/elders-new"),
                "name": "王秀英",
                "gender": "F",
                "birth_date": "1940-05-01",
                "phone": "+8612345678901",
                "community_id": str(community_id),
                "address": "金桂路12号",
                "living_situation": "alone",
                "language": "zh",
            }
            page = http.post("/elders-new", data=form)
            assert page.status_code == 422 and phone in page.text and unsaid not in page.text

            plan = {"csrf_token": _csrf(http, f"/elders/{elder_id}"), "service_type": "meal", "schedule": "0 25 * * *"}
            page = http.post(f"/elders/{elder_id}/care-plan", data=plan)
            assert page.status_code == 422 and schedule in page.text
        finally:
            http.close()
