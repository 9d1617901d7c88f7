"""Keeping Mosquitto in step with the device register, without a restart.

The devices' password file is written from the register (each device that may connect, with the Mosquitto
hash of its credential) and Mosquitto is told to reload it: SIGHUP to its process, or a command of the
deployment's (for example ``docker kill --signal HUP mosquitto``). Mosquitto 2 re-reads ``password_file`` and
``acl_file`` on SIGHUP and checks the clients already connected against them, so a revoked or unbound device
is refused from then on. The ACL needs no rewrite: its patterns tie every device to its own user name.

Configured by ``ELDERCARE_MOSQUITTO_PASSWD`` (the devices' password file) and ``ELDERCARE_MOSQUITTO_PID_FILE``
or ``ELDERCARE_MOSQUITTO_RELOAD_COMMAND``; with ``ELDERCARE_MOSQUITTO_PASSWD`` set, every change made through
the API is followed by a sync. ``eldercare devices sync-broker`` does one by hand.
"""

from __future__ import annotations

import logging
import os
import shlex
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

import psycopg
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from devices.mosquitto import hashed_password_file, replace_file
from eldercare import device_register
from eldercare.config import SettingsError, load_settings

log = logging.getLogger(__name__)
_LOCK_KEY = 0x656C6465_72627379  # "elderbsy": the advisory lock that serialises broker syncs


PID_MAX = 2**22  # the largest pid Linux gives (pid_max's ceiling)


class BrokerSyncError(Exception):
    """The broker could not be brought in step; the message says why and what to do."""


class MosquittoSettings(BaseSettings):
    """Where Mosquitto's devices' password file is and how to make Mosquitto reload it."""

    model_config = SettingsConfigDict(
        env_prefix="ELDERCARE_MOSQUITTO_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    passwd: Path | None = Field(None, description="the devices' password file (password_file of the 1883 listener)")
    pid_file: Path | None = Field(None, description="Mosquitto's pid file (pid_file in mosquitto.conf): SIGHUP it")
    # 0 and -1 would signal a process group or every process; 1 is init: none of them is Mosquitto
    pid: int | None = Field(None, ge=2, le=PID_MAX, description="Mosquitto's process id, instead of a pid file")
    reload_command: str | None = Field(None, description="a command that makes Mosquitto reload, instead of SIGHUP")

    @property
    def configured(self) -> bool:
        return self.passwd is not None


@dataclass(frozen=True, slots=True)
class SyncReport:
    accounts: int
    passwd: Path
    reloaded: str  # how Mosquitto was told


def sync(conn: psycopg.Connection, settings: MosquittoSettings) -> SyncReport:
    """Write the devices' password file from the register (committed rows) and make Mosquitto reload it."""
    if settings.passwd is None:
        raise BrokerSyncError(
            "the devices' password file is unknown: set ELDERCARE_MOSQUITTO_PASSWD (or pass --passwd) to the "
            "password_file of Mosquitto's devices' listener"
        )
    # One sync at a time, across processes: each reads the register after taking the lock, so the last file
    # written holds every change committed before it, whichever change's sync ran last.
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        accounts = device_register.broker_accounts(conn)
        try:
            replace_file(settings.passwd, hashed_password_file(accounts))
        except OSError as err:
            raise BrokerSyncError(
                f"cannot write {settings.passwd}: {err}; check the folder and its permissions"
            ) from None
        how = reload(settings)
    log.info("wrote %s (%d devices) and %s", settings.passwd, len(accounts), how)
    return SyncReport(len(accounts), settings.passwd, how)


def reload(settings: MosquittoSettings) -> str:
    """Tell Mosquitto to re-read its files; returns what was done."""
    if settings.reload_command:
        try:
            done = subprocess.run(shlex.split(settings.reload_command), capture_output=True, text=True, timeout=30)
        except (OSError, ValueError, subprocess.TimeoutExpired) as err:  # not found, not executable, a quote open
            raise BrokerSyncError(f"the reload command {settings.reload_command!r} could not run: {err}") from None
        if done.returncode != 0:
            raise BrokerSyncError(
                f"the reload command {settings.reload_command!r} failed ({done.returncode}): "
                f"{(done.stderr or done.stdout).strip()[:300]}"
            )
        return f"ran {settings.reload_command!r}"
    pid = settings.pid
    if pid is None and settings.pid_file is not None:
        try:
            pid = int(settings.pid_file.read_text(encoding="utf-8").strip())
        except (OSError, ValueError) as err:
            raise BrokerSyncError(f"cannot read Mosquitto's pid from {settings.pid_file}: {err}") from None
        if not 2 <= pid <= PID_MAX:
            raise BrokerSyncError(f"{settings.pid_file} says pid {pid}, which is no process's; is it Mosquitto's?")
    if pid is None:
        raise BrokerSyncError(
            "the password file is written but Mosquitto was not told: set ELDERCARE_MOSQUITTO_PID_FILE or "
            "ELDERCARE_MOSQUITTO_RELOAD_COMMAND (or send Mosquitto SIGHUP yourself)"
        )
    try:
        os.kill(pid, signal.SIGHUP)
    except OSError as err:
        raise BrokerSyncError(f"cannot signal Mosquitto (pid {pid}): {err}; is it running, and as whom?") from None
    return f"sent SIGHUP to pid {pid}"


def sync_if_configured(conn: psycopg.Connection, settings: MosquittoSettings | None = None) -> SyncReport | None:
    """After a committed change: sync when a password file is configured; a failure is logged, not raised
    (the change stands; `eldercare devices sync-broker` repeats the sync)."""
    try:
        settings = settings if settings is not None else load_settings(MosquittoSettings)
        if not settings.configured:
            return None
        return sync(conn, settings)
    except (BrokerSyncError, SettingsError) as err:
        log.error("the broker was not brought in step with the device register: %s", err)
        return None
