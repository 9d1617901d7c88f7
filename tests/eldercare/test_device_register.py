"""The device register on PostgreSQL: enrol, bind, unbind, replace, rotate and revoke, and what it refuses."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from devices.mosquitto import password_hash
from eldercare import device_register as register
from eldercare.device_register import Enrolment, RegisterError
from eldercare.passwords import verify_device_secret

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
ADMIN = "admin"


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(database_url) as connection:
        connection.execute(
            """
            INSERT INTO township (code, name, lat, lon) VALUES ('T1', '蒲圻街道', 29.7, 113.9);
            INSERT INTO community (township_id, code, name, lat, lon) VALUES (1, 'C1', '金鸡山社区', 29.7, 113.9);
            INSERT INTO elder (code, name, gender, birth_date, community_id, address, lat, lon) VALUES
                ('E1', '王秀英', 'F', '1940-05-01', 1, '金鸡路1号', 29.71, 113.89),
                ('E2', '李建国', 'M', '1938-11-12', 1, '金鸡路2号', 29.71, 113.89);
            INSERT INTO elder (code, name, gender, birth_date, community_id, address, lat, lon, active) VALUES
                ('E3', '张桂兰', 'F', '1935-02-02', 1, '金鸡路3号', 29.71, 113.89, false);
            """
        )
        yield connection


def _refused(conn: psycopg.Connection, code: str, call: object) -> RegisterError:
    assert callable(call)
    with pytest.raises(RegisterError) as caught, conn.transaction():
        call()
    assert caught.value.code == code, caught.value.message
    return caught.value


def test_enrol_keeps_only_a_hash_and_binds_to_the_elder(conn: psycopg.Connection) -> None:
    device, credential = register.enrol(conn, Enrolment("watch", serial="860000000000001", elder_id=1), ADMIN, T0)

    assert device.id == credential.device_id == "860000000000001"  # an IMEI serves as the broker user name
    assert device.elder_id == 1 and device.may_connect
    stored = conn.execute("SELECT secret_hash FROM device WHERE id = %s", (device.id,)).fetchone()
    assert stored is not None and credential.secret not in stored[0]
    assert stored[0].startswith("$7$") and verify_device_secret(stored[0], credential.secret)
    assert not verify_device_secret(stored[0], credential.secret + "x")
    [binding] = register.bindings(conn, device.id)
    assert (binding.elder_id, binding.bound_at, binding.unbound_at, binding.bound_by) == (1, T0, None, ADMIN)
    actions = [
        r[0] for r in conn.execute("SELECT action FROM audit_log WHERE target_id = %s ORDER BY id", (device.id,))
    ]
    assert actions == ["device.enrol", "device.bind"]
    assert register.broker_accounts(conn) == [(device.id, stored[0])]


def test_an_unbound_device_has_no_broker_account(conn: psycopg.Connection) -> None:
    device, _ = register.enrol(conn, Enrolment("button", serial="BTN-0001"), ADMIN, T0)
    assert device.elder_id is None and not device.may_connect
    assert device.id.startswith("button-") or device.id == "BTN-0001"
    assert register.broker_accounts(conn) == []


def test_bind_unbind_and_rebind_keep_the_history(conn: psycopg.Connection) -> None:
    device, _ = register.enrol(conn, Enrolment("pendant", serial="P-77"), ADMIN, T0)
    register.bind(conn, device.id, 1, ADMIN, T0 + timedelta(hours=1))
    register.unbind(conn, device.id, "operator", T0 + timedelta(hours=2))
    register.bind(conn, device.id, 2, ADMIN, T0 + timedelta(hours=3))

    history = [(b.elder_id, b.bound_at, b.unbound_at, b.end_reason) for b in register.bindings(conn, device.id)]
    assert history == [
        (1, T0 + timedelta(hours=1), T0 + timedelta(hours=2), "unbound"),
        (2, T0 + timedelta(hours=3), None, None),
    ]
    assert register.get(conn, device.id).elder_id == 2
    before, after = conn.execute(
        "SELECT details->'before'->>'elder_id', details->'after'->>'elder_id' FROM audit_log "
        "WHERE action = 'device.unbind'"
    ).fetchone() or (None, None)
    assert (before, after) == ("1", None)


def test_replace_moves_the_elder_to_the_new_device_and_revokes_the_old(conn: psycopg.Connection) -> None:
    old, _ = register.enrol(conn, Enrolment("watch", serial="W-1", elder_id=1), ADMIN, T0)
    new, _ = register.enrol(conn, Enrolment("watch", serial="W-2"), ADMIN, T0)

    register.replace(conn, old.id, new.id, ADMIN, T0 + timedelta(days=1))

    assert register.get(conn, new.id).elder_id == 1
    old_now = register.get(conn, old.id)
    assert old_now.elder_id is None and old_now.credential_revoked_at is not None
    assert register.bindings(conn, old.id)[-1].end_reason == "replaced by W-2"
    assert [a for a, _ in register.broker_accounts(conn)] == ["W-2"]


def test_rotate_and_revoke(conn: psycopg.Connection) -> None:
    device, first = register.enrol(conn, Enrolment("watch", serial="W-9", elder_id=1), ADMIN, T0)
    second = register.rotate(conn, device.id, ADMIN, T0 + timedelta(hours=1))
    hashed = conn.execute("SELECT secret_hash FROM device WHERE id = %s", (device.id,)).fetchone()
    assert hashed is not None and second.secret != first.secret
    assert verify_device_secret(hashed[0], second.secret) and not verify_device_secret(hashed[0], first.secret)

    revoked = register.revoke(conn, device.id, ADMIN, T0 + timedelta(hours=2))
    assert revoked.credential_revoked_at == T0 + timedelta(hours=2) and not revoked.may_connect
    assert register.broker_accounts(conn) == []
    _refused(conn, "already_revoked", lambda: register.revoke(conn, device.id, ADMIN, T0))
    third = register.rotate(conn, device.id, ADMIN, T0 + timedelta(hours=3))  # a new credential lets it in again
    assert register.get(conn, device.id).may_connect and third.secret not in (first.secret, second.secret)


def test_bad_input_is_refused_with_a_reason_and_nothing_written(conn: psycopg.Connection) -> None:
    register.enrol(conn, Enrolment("watch", serial="860000000000001", elder_id=1), ADMIN, T0)
    bound = "860000000000001"
    unbound, _ = register.enrol(conn, Enrolment("door", serial="D-1"), ADMIN, T0)
    devices_before = conn.execute("SELECT count(*) FROM device").fetchone()

    assert (
        "watch" in _refused(conn, "unknown_type", lambda: register.enrol(conn, Enrolment("toaster"), ADMIN, T0)).message
    )
    _refused(conn, "duplicate_serial", lambda: register.enrol(conn, Enrolment("watch", serial=bound), ADMIN, T0))
    _refused(
        conn,
        "duplicate_device_id",
        lambda: register.enrol(conn, Enrolment("watch", serial="X-1", device_id=bound), ADMIN, T0),
    )
    _refused(conn, "bad_serial", lambda: register.enrol(conn, Enrolment("watch", serial="有 空格"), ADMIN, T0))
    _refused(conn, "bad_device_id", lambda: register.enrol(conn, Enrolment("watch", device_id="a b"), ADMIN, T0))
    _refused(
        conn, "unknown_elder", lambda: register.enrol(conn, Enrolment("gas", serial="G-1", elder_id=99), ADMIN, T0)
    )
    _refused(conn, "unknown_elder", lambda: register.bind(conn, unbound.id, 99, ADMIN, T0))
    _refused(conn, "inactive_elder", lambda: register.bind(conn, unbound.id, 3, ADMIN, T0))
    _refused(conn, "already_bound", lambda: register.bind(conn, bound, 2, ADMIN, T0))
    _refused(conn, "not_bound", lambda: register.unbind(conn, unbound.id, ADMIN, T0))
    _refused(conn, "unknown_device", lambda: register.unbind(conn, "nosuch", ADMIN, T0))
    _refused(conn, "same_device", lambda: register.replace(conn, bound, bound, ADMIN, T0))
    _refused(conn, "not_bound", lambda: register.replace(conn, unbound.id, bound, ADMIN, T0))
    assert "a device is replaced by one of its type" in (
        _refused(conn, "other_type", lambda: register.replace(conn, bound, unbound.id, ADMIN, T0)).message
    )  # a door sensor in a watch's place (before, taken)

    assert conn.execute("SELECT count(*) FROM device").fetchone() == devices_before
    assert conn.execute("SELECT count(*) FROM device_binding").fetchone() == (1,)
    with pytest.raises(psycopg.errors.UniqueViolation), conn.transaction():  # the database holds the line too
        conn.execute(
            "INSERT INTO device_binding (device_id, elder_id, bound_at, bound_by) VALUES (%s, 2, %s, 'x')", (bound, T0)
        )


def test_every_change_is_announced_on_commit(conn: psycopg.Connection, database_url: str) -> None:
    conn.commit()
    with psycopg.connect(database_url, autocommit=True) as listener:
        listener.execute(f"LISTEN {register.CHANNEL}")
        with conn.transaction():
            register.enrol(conn, Enrolment("smoke", serial="S-1", elder_id=2), ADMIN, T0)
        heard = [n.payload for n in listener.notifies(timeout=10, stop_after=1)]
    assert heard == ["S-1"]


def test_mosquitto_hashes_are_what_the_register_stores() -> None:
    assert password_hash("s", salt=b"0" * 12).startswith("$7$101$")


def test_enrolling_many_bound_devices_checks_each_and_refuses_all_together(conn: psycopg.Connection) -> None:
    issued = ("a-secret-made-before", password_hash("a-secret-made-before"))
    many = [(Enrolment("watch", device_id=f"wch-{n}", elder_id=1 + n % 2), issued) for n in range(3)]
    for wrong, code in (
        ([(Enrolment("toaster", device_id="x-1", elder_id=1), issued)], "unknown_type"),
        ([many[0], many[0]], "duplicate_device_id"),
        ([(Enrolment("watch", device_id="wch-9", elder_id=3), issued)], "unknown_elder"),  # inactive
        ([(Enrolment("watch", device_id="wch-8", elder_id=99), issued)], "unknown_elder"),
    ):
        _refused(conn, code, lambda wrong=wrong: register.enrol_bound(conn, wrong, ADMIN, T0))
    assert conn.execute("SELECT count(*) FROM device").fetchone() == (0,)

    devices = register.enrol_bound(conn, many, ADMIN, T0)

    assert [d.may_connect for d in devices] == [True] * 3
    assert register.bindings(conn, "wch-1")[0].elder_id == 2
    (stored,) = conn.execute("SELECT DISTINCT secret_hash FROM device").fetchone() or ("",)
    assert verify_device_secret(stored, "a-secret-made-before")
    audited = conn.execute("SELECT count(*) FROM audit_log WHERE action = 'device.enrol'").fetchone()
    assert audited == (3,)
    _refused(conn, "duplicate_device_id", lambda: register.enrol_bound(conn, many[:1], ADMIN, T0))
