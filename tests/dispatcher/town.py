"""A small town written row by row, so that each test knows exactly who is where and who should be chosen."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from datetime import date, datetime, time

import psycopg

CENTER = (29.72, 113.93)  # Chibi, Hubei
ALWAYS = [(day, time(0, 0), time(23, 59, 59)) for day in range(1, 8)]
_phones = itertools.count(13800000000)


def offset(km_north: float, km_east: float, origin: tuple[float, float] = CENTER) -> tuple[float, float]:
    lat, lon = origin
    return lat + km_north / 110.95, lon + km_east / (111.32 * math.cos(math.radians(lat)))


def phone() -> str:
    return f"+86{next(_phones)}"


@dataclass
class Town:
    conn: psycopg.Connection
    community_id: int = 0
    township_id: int = 0
    providers: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.township_id = self._one(
            "INSERT INTO township (code, name, lat, lon) VALUES ('T1', '蒲圻街道', %s, %s) RETURNING id", CENTER
        )
        self.community_id = self.community("C01")

    def _one(self, query: str, params: tuple[object, ...] = ()) -> int:
        row = self.conn.execute(query.encode(), params).fetchone()
        assert row is not None
        return int(row[0])

    def community(self, code: str) -> int:
        return self._one(
            "INSERT INTO community (township_id, code, name, lat, lon) VALUES (%s, %s, %s, %s, %s) RETURNING id",
            (self.township_id, code, f"社区{code}", *CENTER),
        )

    def provider(
        self,
        services: tuple[str, ...] = ("emergency", "meal", "cleaning", "bathing", "medical", "mobility", "care"),
        *,
        standing: str = "normal",
        capacity: int = 50,
        communities: tuple[int, ...] | None = None,
        active: bool = True,
    ) -> int:
        n = len(self.providers) + 1
        pid = self._one(
            "INSERT INTO provider (code, name, phone, manager_name, manager_phone, standing, capacity, active) "
            "VALUES (%s, %s, %s, '经理', %s, %s, %s, %s) RETURNING id",
            (f"P{n:03d}", f"服务中心{n}", phone(), phone(), standing, capacity, active),
        )
        for service in services:
            self.conn.execute("INSERT INTO provider_service VALUES (%s, %s)", (pid, service))
        for community_id in communities or (self.community_id,):
            self.conn.execute("INSERT INTO provider_area VALUES (%s, %s)", (pid, community_id))
        self.providers.append(pid)
        return pid

    def caregiver(
        self,
        provider_id: int,
        at: tuple[float, float],
        *,
        skills: tuple[str, ...] = ("emergency", "meal", "cleaning", "bathing", "medical", "mobility", "care"),
        mode: str = "ebike",
        rating: float = 4.5,
        max_load: int = 2,
        language: str = "zh",
        shifts: list[tuple[int, time, time]] | None = None,
        opted_out: bool = False,
        active: bool = True,
        number: str | None = None,
    ) -> int:
        cid = self._one(
            "INSERT INTO caregiver (code, provider_id, name, gender, phone, language, home_lat, home_lon, "
            "travel_mode, max_load, rating, sms_opt_out, active) "
            "VALUES ('tmp' || nextval(pg_get_serial_sequence('caregiver', 'id')), %s, %s, 'F', %s, %s, %s, %s, %s, "
            "%s, %s, %s, %s) RETURNING id",
            (
                provider_id,
                "护理员",
                number or phone(),
                language,
                at[0],
                at[1],
                mode,
                max_load,
                rating,
                opted_out,
                active,
            ),
        )
        self.conn.execute(
            "UPDATE caregiver SET code = %s, name = %s WHERE id = %s", (f"C{cid:05d}", f"护理员{cid}", cid)
        )
        for service in skills:
            self.conn.execute("INSERT INTO caregiver_skill VALUES (%s, %s)", (cid, service))
        for weekday, starts, ends in ALWAYS if shifts is None else shifts:
            self.conn.execute(
                "INSERT INTO caregiver_shift (caregiver_id, weekday, starts, ends) VALUES (%s, %s, %s, %s)",
                (cid, weekday, starts, ends),
            )
        return cid

    def absent(self, caregiver_id: int, first_day: date | str, last_day: date | str, kind: str = "sick") -> None:
        """The caregiver is away (sick, leave) from ``first_day`` to ``last_day``."""
        self.conn.execute(
            "INSERT INTO caregiver_absence (caregiver_id, kind, first_day, last_day) VALUES (%s, %s, %s, %s)",
            (caregiver_id, kind, first_day, last_day),
        )

    def sos(self, elder_id: int, at: datetime, *, device: str | None = None) -> int:
        """The elder presses SOS at ``at`` (on ``device``, when given): a critical alarm, as the gateway opens it;
        its id."""
        return self._one(
            "INSERT INTO alarm (elder_id, device_id, type, severity, raised_at, last_raised_at) "
            "VALUES (%s, %s, 'sos', 'critical', %s, %s) RETURNING id",
            (elder_id, device, at, at),
        )

    def elder(
        self,
        at: tuple[float, float] = CENTER,
        *,
        contacts: int = 1,
        devices: tuple[str, ...] = ("button",),
        community_id: int | None = None,
        language: str = "zh",
    ) -> int:
        eid = self._one(
            "INSERT INTO elder (code, name, gender, birth_date, language, community_id, address, lat, lon) "
            "VALUES ('tmp' || nextval(pg_get_serial_sequence('elder', 'id')), '王秀英', 'F', '1940-05-01', %s, %s, "
            "'赤壁市蒲圻街道金桂路12号', %s, %s) RETURNING id",
            (language, community_id or self.community_id, *at),
        )
        self.conn.execute("UPDATE elder SET code = %s WHERE id = %s", (f"E{eid:06d}", eid))
        for priority in range(1, contacts + 1):
            self.conn.execute(
                "INSERT INTO emergency_contact (elder_id, name, relation, phone, priority) "
                "VALUES (%s, '王强', '儿子', %s, %s)",
                (eid, phone(), priority),
            )
        for kind in devices:
            self.conn.execute(
                "INSERT INTO device (id, type, elder_id, secret_hash) VALUES (%s, %s, %s, 'x')",
                (f"{kind[:3]}{eid:06d}", kind, eid),
            )
        return eid
