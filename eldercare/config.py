"""Settings shared by every component, read from ``ELDERCARE_*`` variables and ``.env``."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar, overload
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import psycopg
import pydantic_settings
from psycopg.conninfo import conninfo_to_dict
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from eldercare.secret_strength import weakness

DEV_SECRET_KEY = "dev-only-secret-key-change-me"
DEV_TWILIO_SID = "AC00000000000000000000000000000000"
DEV_TWILIO_TOKEN = "dev-only-twilio-auth-token"
SECRET_KEY_MIN_LENGTH = 32  # secrets.token_urlsafe(32) gives 43 characters
TWILIO_TOKEN_MIN_LENGTH = 32  # Twilio's auth tokens are 32 hexadecimal digits
PASSWORD_MIN_LENGTH = 16
TWILIO_API_BASE = "https://api.twilio.com"


class Mode(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


@dataclass(frozen=True, slots=True)
class CityBounds:
    """The city's extent in degrees: a location outside it is flagged (an elder's home, a community's centre)."""

    south: float
    west: float
    north: float
    east: float

    @property
    def centre(self) -> tuple[float, float]:
        return (self.south + self.north) / 2, (self.west + self.east) / 2

    def contains(self, lat: float, lon: float) -> bool:
        return self.south <= lat <= self.north and self.west <= lon <= self.east


# Chibi (赤壁市), Hubei: about 29.47-29.92 N, 113.53-114.22 E, with a little margin
CHIBI = CityBounds(29.40, 113.45, 30.00, 114.30)


S = TypeVar("S", bound=BaseSettings)


class SettingsError(Exception):
    """The configuration cannot be used; the message says what to change."""


class Settings(BaseSettings):
    """Platform-wide settings. Components keep their own tuning in their own settings classes."""

    model_config = SettingsConfigDict(
        env_prefix="ELDERCARE_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    mode: Mode = Field(Mode.DEVELOPMENT, description="development or production")
    data_dir: Path = Field(Path("var"), description="where the embedded defaults keep their data")
    database_url: SecretStr | None = Field(
        None, description="PostgreSQL URL; unset starts the embedded PostgreSQL in DATA_DIR/pgdata"
    )
    mqtt_url: str | None = Field(
        None, description="mqtt://user:password@host:port; unset starts an in-process broker on loopback"
    )
    embedded_mqtt_port: int = Field(1883, ge=0, le=65535, description="port of the in-process broker")
    secret_key: SecretStr = Field(SecretStr(DEV_SECRET_KEY), description="signs session cookies and caregivers' links")
    public_url: str = Field(
        "http://127.0.0.1:8000", description="the URL Twilio and caregivers' phones use to reach us"
    )
    timezone: str = Field("Asia/Shanghai", description="local time zone for schedules and reports")
    twilio_account_sid: str = Field(DEV_TWILIO_SID)
    twilio_auth_token: SecretStr = Field(SecretStr(DEV_TWILIO_TOKEN))
    twilio_from: str = Field("+8610690000", description="the sender number of outgoing SMS")
    twilio_api_base: str = Field(TWILIO_API_BASE, description="Twilio's REST API, or the local stand-in")
    city_bounds: tuple[float, float, float, float] = Field(
        (CHIBI.south, CHIBI.west, CHIBI.north, CHIBI.east),
        description="the city's extent as [south, west, north, east] in degrees (JSON); its centre is the middle",
    )
    log_level: str = Field("INFO", description="DEBUG, INFO, WARNING, ERROR or CRITICAL")
    db_pool_max: int = Field(10, ge=1, le=200, description="connections per process pool")

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder such as Asia
            raise ValueError(
                f"{value!r} is not an IANA time zone; use a name such as Asia/Shanghai (case matters)"
            ) from None
        return value

    @field_validator("log_level")
    @classmethod
    def _known_log_level(cls, value: str) -> str:
        names = logging.getLevelNamesMapping()
        if value.upper() not in names:
            raise ValueError(f"{value!r} is not a log level; use one of {', '.join(sorted(names))}")
        return value.upper()

    @field_validator("database_url")
    @classmethod
    def _parsable_database_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        url = value.get_secret_value()
        expected = (
            "write it as postgresql://user:password@host:5432/dbname, or as key=value pairs (host=... dbname=...)"
        )
        try:
            parts = conninfo_to_dict(url)
        except psycopg.Error as err:
            raise ValueError(
                f"cannot be read as a PostgreSQL URL ({_without_passwords(str(err).strip(), url)}); {expected}"
            ) from None
        # libpq reads the port only when it connects: a port such as "xx" passed here and failed every command
        for port in str(parts.get("port") or "").split(","):  # one per host, for several hosts
            if port and not (port.isascii() and port.isdigit() and 1 <= int(port) <= 65535):
                raise ValueError(f"port {port!r} is not a number from 1 to 65535; {expected}")
        return value

    @field_validator("data_dir")
    @classmethod
    def _directory_or_nothing(cls, value: Path) -> Path:
        if value.exists() and not value.is_dir():
            raise ValueError(
                f"{str(value)!r} exists and is not a directory; point it at a directory, or at a path that does "
                "not exist yet (it is created)"
            )
        return value

    @field_validator("mqtt_url")
    @classmethod
    def _usable_mqtt_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from eldercare.mqtt import BrokerAddress  # imported here: eldercare.mqtt imports this module

        try:
            BrokerAddress.parse(value)  # as every client reads it
        except ValueError as err:
            raise ValueError(f"{err}; write it as mqtt://user:password@host:1883 (or mqtts:// for TLS)") from None
        return value

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> Settings:
        if self.mode is Mode.PRODUCTION:
            problems = [f"{name} {why}" for name, why in self._weak_secrets()]
            if self.database_url is None:
                problems.append("ELDERCARE_DATABASE_URL is unset (embedded PostgreSQL is for development)")
            if self.mqtt_url is None:
                problems.append("ELDERCARE_MQTT_URL is unset (the in-process broker is for development)")
            if problems:
                raise ValueError(
                    "production mode refuses: "
                    + "; ".join(problems)
                    + ". Set them in the environment or in .env (a secret key from "
                    '`python3 -c "import secrets; print(secrets.token_urlsafe(48))"`, passwords as long and random), '
                    "or use ELDERCARE_MODE=development."
                )
        south, west, north, east = self.city_bounds
        if not (-90 <= south < north <= 90 and -180 <= west < east <= 180):
            raise ValueError(
                f"ELDERCARE_CITY_BOUNDS must be [south, west, north, east] with south < north and west < east, "
                f"in degrees; got {list(self.city_bounds)}"
            )
        return self

    @property
    def city(self) -> CityBounds:
        return CityBounds(*self.city_bounds)

    def _weak_secrets(self) -> list[tuple[str, str]]:
        """(variable, what is wrong) for each secret unfit for production."""
        found = []
        checks: list[tuple[str, str | None, int]] = [
            ("ELDERCARE_SECRET_KEY", self.secret_key.get_secret_value(), SECRET_KEY_MIN_LENGTH),
            ("ELDERCARE_TWILIO_AUTH_TOKEN", self.twilio_auth_token.get_secret_value(), TWILIO_TOKEN_MIN_LENGTH),
            ("the password in ELDERCARE_DATABASE_URL", _database_password(self.database_url), PASSWORD_MIN_LENGTH),
            (
                "the password in ELDERCARE_MQTT_URL",
                urlsplit(self.mqtt_url).password if self.mqtt_url else None,
                PASSWORD_MIN_LENGTH,
            ),
        ]
        for name, value, min_length in checks:
            why = weakness(value, min_length=min_length) if value is not None else None
            if value in (DEV_SECRET_KEY, DEV_TWILIO_TOKEN):
                why = "is the development default"
            if why is not None:
                found.append((name, why))
        if self.twilio_account_sid == DEV_TWILIO_SID or "xxxx" in self.twilio_account_sid.lower():
            found.append(("ELDERCARE_TWILIO_ACCOUNT_SID", "is a placeholder (your account's SID starts with AC)"))
        return found


def _database_password(url: SecretStr | None) -> str | None:
    if url is None:
        return None
    try:
        password = conninfo_to_dict(url.get_secret_value()).get("password")
    except Exception:  # a malformed URL is refused by _parsable_database_url; only its password matters here
        return None
    return str(password) if password is not None else None


# the password of a URL (user:password@) or of key=value pairs (password=...), found without parsing the whole
_PASSWORDS = re.compile(r"://[^/@\s]*?:([^@]*)@|password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)")


def _without_passwords(text: str, url: str) -> str:
    """``text`` (a parser's complaint about ``url``, or ``url`` itself) with the passwords in ``url`` masked."""
    for found in _PASSWORDS.finditer(url):
        password = found.group(1) or found.group(2)
        if password:
            text = text.replace(password, "***")
    return text


def redact_url(url: str) -> str:
    """The URL with any password replaced, fit for logs and error messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc}"))


@overload
def load_settings() -> Settings: ...
@overload
def load_settings(kind: type[S], **given: Any) -> S: ...
def load_settings(kind: type[BaseSettings] = Settings, **given: Any) -> BaseSettings:
    """Read and validate the settings of ``kind`` (the platform's, or a component's tuning such as
    ``DispatcherSettings``), ``given`` values over the environment's, turning pydantic's report into one naming
    the variables to change."""
    prefix = kind.model_config.get("env_prefix") or ""
    try:
        return kind(**given)
    except pydantic_settings.SettingsError as err:
        raise SettingsError("invalid configuration:\n  " + _unreadable(err, prefix)) from None
    except UnicodeDecodeError as err:
        env_file = given.get("_env_file", kind.model_config.get("env_file"))
        raise SettingsError(
            f"invalid configuration:\n  {env_file or 'the .env file'}: not UTF-8 text ({err.reason} at byte "
            f"{err.start}); save it as UTF-8"
        ) from None
    except ValidationError as err:
        nested = kind.model_config.get("env_nested_delimiter") or "."
        lines = []
        for error in err.errors():
            field = nested.join(str(p) for p in error["loc"])
            name = f"{prefix}{field.upper()}" if field else f"{prefix}*"
            lines.append(f"  {name}: {error['msg']}")
        raise SettingsError("invalid configuration:\n" + "\n".join(lines)) from None


_SOURCE_FIELD = re.compile(r'field "(?P<field>[^"]+)" from source "(?P<source>[^"]+)"')


def _unreadable(err: pydantic_settings.SettingsError, prefix: str) -> str:
    """One line naming the variable pydantic-settings could not read, such as a complex value that is not JSON."""
    found = _SOURCE_FIELD.search(str(err))
    if found is None:
        return str(err)
    name = f"{prefix}{found['field'].upper()}"
    if found["source"] == "DotEnvSettingsSource":
        name += " (in .env)"
    cause = f" ({err.__cause__})" if err.__cause__ is not None else ""
    return f'{name}: cannot be read{cause}; this setting takes JSON, such as [1, 2] or {{"key": 1}}'
