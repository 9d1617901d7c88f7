"""The bad-input matrix: each case lands in dead letters with its reason; the valid messages around it are stored."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import psycopg

from devices import Reason, epoch_ms, topic
from gateway import Gateway
from simulators.fleet import Fleet
from tests.gateway.running import City, rows, scalar
from tests.services import Mosquitto
from tests.waiting import patience, wait_until


def test_bad_input_is_dead_lettered_with_its_reason_and_valid_input_around_it_is_stored(
    city: City, mosquitto: Mosquitto, gateways: Callable[..., Gateway], fleets: Callable[..., Fleet]
) -> None:
    watch, other, retired = city.device("watch"), city.device("watch", 1), city.device("button")
    with psycopg.connect(city.database_url) as conn:
        conn.execute("UPDATE device SET active = false WHERE id = %s", (retired.id,))
    gateway = gateways(city.database_url, mosquitto.url)
    fleet = fleets(city, mosquitto.url, [watch])
    now = fleet.clock.now()
    ms = epoch_ms(now)

    def body(**fields: object) -> bytes:
        return encode_dict({"ts": ms, "seq": fleet.next_seq(watch.id), **fields})

    telemetry, event, status = (topic(watch.id, c) for c in ("telemetry", "event", "status"))
    matrix: list[tuple[Reason, str, bytes]] = [
        (Reason.MALFORMED_JSON, telemetry, b'{"ts": 1, "seq"'),
        (Reason.MALFORMED_JSON, telemetry, b"\xff\xfe not utf-8"),
        (Reason.WRONG_TYPE, telemetry, body(hr="seventy")),
        (Reason.WRONG_TYPE, telemetry, encode_dict({"ts": ms, "hr": 70})),  # no seq
        (Reason.WRONG_TYPE, telemetry, b"[1, 2, 3]"),
        (Reason.WRONG_TYPE, telemetry, body(hr=True)),
        (Reason.WRONG_TYPE, status, body(state="sleeping")),
        (Reason.WRONG_TYPE, telemetry, body(samples=[{"ts": ms, "hr": 70}, {"ts": ms, "hr": 71}])),
        (Reason.OUT_OF_RANGE, telemetry, body(hr=400)),
        (Reason.OUT_OF_RANGE, telemetry, body(samples=[{"ts": ms, "lat": 200.0}])),
        (Reason.OUT_OF_RANGE, telemetry, body(battery=-1)),
        (Reason.UNKNOWN_EVENT, event, body(type="party")),
        (Reason.UNKNOWN_DEVICE, topic("zzz999999", "telemetry"), body(hr=70)),
        (Reason.INACTIVE_DEVICE, topic(retired.id, "telemetry"), body(battery=80)),
        (Reason.TOPIC_MISMATCH, telemetry, body(device_id=other.id, hr=70)),
        (Reason.FUTURE_TIMESTAMP, telemetry, body(ts=epoch_ms(now + timedelta(days=1)), hr=70)),
        (Reason.STALE_TIMESTAMP, telemetry, body(ts=1000, hr=70)),
        (Reason.OVERSIZE, telemetry, body(hr=70, note="x" * 70_000)),
        (Reason.OVERSIZE, telemetry, body(samples=[{"ts": ms - i, "hr": 70} for i in range(601)])),
        (Reason.BAD_TOPIC, "eldercare/v1/devices/x/telemetry", body(hr=70)),
    ]
    valid = []
    for _, where, payload in matrix:
        valid.append(fleet.send_telemetry(watch.id))
        fleet.publish_raw(watch.id, where, payload)
    valid.append(fleet.send_telemetry(watch.id))
    assert fleet.wait_acknowledged(patience(10))

    expected = Counter(reason.value for reason, _, _ in matrix)
    got = wait_until(
        lambda: Counter(r for (r,) in rows(city.database_url, "SELECT reason FROM dead_letter")) == expected
    )
    assert got, Counter(r for (r,) in rows(city.database_url, "SELECT reason FROM dead_letter"))

    def stored() -> set[int]:
        return {s for (s,) in rows(city.database_url, "SELECT seq FROM reading WHERE device_id = %s", watch.id)}

    # a batch's dead letters commit ahead of its readings (gateway/writer.py): wait for the readings themselves
    assert wait_until(lambda: stored() == set(valid)), sorted(set(valid) - stored())

    letters = rows(city.database_url, "SELECT reason, device_id, topic, length(payload), payload_size FROM dead_letter")
    for reason, device_id, where, kept, size in letters:
        assert kept <= 4096 and size >= kept, (reason, kept, size)
        if reason == "topic_mismatch":
            assert device_id == watch.id and where == telemetry
        if reason == "unknown_device":
            assert device_id == "zzz999999"
    assert max(size for *_, size in letters) > 70_000
    # the gateway is still up and still stores what comes next
    last = fleet.send_telemetry(watch.id, samples=3)
    assert wait_until(lambda: scalar(city.database_url, "SELECT count(*) FROM reading WHERE seq = %s", last) == 3)
    assert gateway.ingest.committed_batches > 0


def encode_dict(fields: dict[str, object]) -> bytes:
    return json.dumps(fields).encode()


def test_a_row_the_database_refuses_is_dead_lettered_and_the_rest_of_its_batch_stored(
    city: City, mosquitto: Mosquitto, gateways: Callable[..., Gateway], fleets: Callable[..., Fleet]
) -> None:
    """A constraint the decoder does not know of (here: a trigger refusing one device) costs one message only."""
    watch, pendant = city.device("watch"), city.device("pendant")
    with psycopg.connect(city.database_url) as conn:
        conn.execute(
            f"""
            CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.device_id = '{pendant.id}' THEN RAISE check_violation USING MESSAGE = 'refused for the test';
                END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER refuse BEFORE INSERT ON reading FOR EACH ROW EXECUTE FUNCTION refuse();
            """.encode()
        )
    # the gateway's session exists but the gateway is away, so that the whole backlog arrives as one batch
    gateways(city.database_url, mosquitto.url, client_id="gw.refuse").stop()
    fleet = fleets(city, mosquitto.url, [watch, pendant])
    sent = [fleet.send_telemetry(d.id) for d in (watch, pendant, watch, watch) for _ in range(5)]
    assert fleet.wait_acknowledged(patience(10))
    gateways(city.database_url, mosquitto.url, client_id="gw.refuse")
    assert wait_until(lambda: scalar(city.database_url, "SELECT count(*) FROM dead_letter") == 5)
    assert wait_until(lambda: scalar(city.database_url, "SELECT count(*) FROM reading") == len(sent) - 5)
    assert {r for (r,) in rows(city.database_url, "SELECT reason FROM dead_letter")} == {"storage_rejected"}
