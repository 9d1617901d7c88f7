"""The dashboard's own settings, read from ``ELDERCARE_DASHBOARD_*`` variables and ``.env``."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class DashboardSettings(BaseSettings):
    """Tuning of the operators' dashboard; platform-wide values come from ``eldercare.config.Settings``."""

    model_config = SettingsConfigDict(
        env_prefix="ELDERCARE_DASHBOARD_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    session_hours: float = Field(12, gt=0, le=24 * 14, description="how long a login session lasts (one shift)")
    token_minutes: int = Field(60, ge=1, le=24 * 60, description="how long a bearer token from /api/v1/token lasts")
    login_window_minutes: int = Field(15, ge=1, description="the window over which failed logins are counted")
    login_failures_per_user: int = Field(
        5, ge=1, description="failed logins for one username from one address before that pair must wait"
    )
    login_failures_per_ip: int = Field(20, ge=1, description="failed logins from one address before it must wait")
    max_body_bytes: int = Field(
        1024 * 1024,
        ge=1024,
        description="largest request body accepted (JSON, forms, Twilio's webhooks); larger ones get 413 unread",
    )
    max_import_bytes: int = Field(
        32 * 1024 * 1024,
        ge=1024,
        description="largest spreadsheet accepted by /api/v1/imports (10,000 elders in .xlsx are about 1.5 MB)",
    )
    trusted_proxies: str = Field(
        "",
        description="comma-separated addresses or networks of the reverse proxies whose X-Forwarded-For and "
        "X-Forwarded-Proto are believed (e.g. 10.0.0.5,10.1.0.0/16); none by default",
    )
    secure_cookies: bool = Field(False, description="mark cookies Secure (set it when served over HTTPS)")
    kpi_max_age_seconds: float = Field(
        15, ge=0, description="KPI rollups older than this are refreshed before a KPI page or report is answered"
    )
    device_offline_minutes: int = Field(30, ge=1, description="a device not heard from for this long is offline")
    low_battery_percent: int = Field(20, ge=1, le=100, description="batteries at or below this are low")
    rectification_days: int = Field(
        7, ge=1, le=90, description="days a provider has to answer a spot-check finding before it raises an alarm"
    )
    return_visit_sample: int = Field(10, ge=1, le=200, description="completed orders drawn each week for spot-checks")
    pool_min: int = Field(2, ge=1, description="database connections kept open")
    pool_max: int = Field(10, ge=1, le=200, description="database connections at most")
