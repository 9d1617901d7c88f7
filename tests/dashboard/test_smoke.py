from httpx import Client as TestClient


def test_pages_render(client: TestClient, headers) -> None:
    h = headers["operator"]
    for path in ["/api/v1/alarms", "/api/v1/alarms/live", "/api/v1/orders", "/api/v1/orders/1", "/api/v1/elders",
                 "/api/v1/elders/1", "/api/v1/devices", "/api/v1/providers", "/api/v1/caregivers",
                 "/api/v1/recurring-services", "/api/v1/kpis", "/api/v1/reports/monthly?month=2026-03",
                 "/api/v1/reports/monthly.csv?month=2026-03", "/api/v1/return-visits/sample", "/healthz", "/metrics"]:
        r = client.get(path, headers=h)
        assert r.status_code == 200, (path, r.text[:2000])
