"""The gateway's paho client: reads its connection ahead and acknowledges a committed batch in one write.

Both lean on paho internals (``_create_socket``, ``_sock``, ``_packet_queue``, ``loop_read``) that paho's own
TLS and websocket support use. They are not public API: ``PAHO_PIN`` in pyproject.toml keeps paho at a
version they were checked against, and ``missing_internals`` (run by tests/gateway/test_paho_client.py) says
which of them a new paho changed.
"""

from __future__ import annotations

import inspect
import struct
from typing import Any

import paho.mqtt.client as mqtt

PAHO_PIN = "paho-mqtt>=2.1,<2.3"  # as in pyproject.toml; revisit both when paho's internals change


class ReadAhead:
    """The broker connection, read 64 KiB at a time.

    paho reads every packet with two or three small recv() calls and goes back to select() between
    packets; in a burst of thousands of messages that is most of its work. This wrapper serves those reads
    from one large recv, and its ``pending()`` (paho's hook for TLS sockets, which buffer too) tells
    paho's loop to go on reading without waiting in select().
    """

    __slots__ = ("_buffer", "_position", "_sock")

    def __init__(self, sock: Any) -> None:
        self._sock = sock
        self._buffer = b""
        self._position = 0

    def recv(self, size: int) -> bytes:
        if self._position >= len(self._buffer):
            self._buffer = self._sock.recv(65536)  # BlockingIOError, ssl errors and EOF (b"") pass through
            self._position = 0
        chunk = self._buffer[self._position : self._position + size]
        self._position += len(chunk)
        return chunk

    def pending(self) -> int:
        inner = getattr(self._sock, "pending", None)
        return len(self._buffer) - self._position + (inner() if inner is not None else 0)

    def send(self, data: bytes | bytearray) -> int:
        return int(self._sock.send(data))

    def close(self) -> None:
        self._sock.close()

    def fileno(self) -> int:
        return int(self._sock.fileno())

    def setblocking(self, flag: bool) -> None:
        self._sock.setblocking(flag)


_PUBACK = struct.Struct("!BBH")  # fixed header (PUBACK), remaining length 2, packet id


class GatewayClient(mqtt.Client):
    """A paho client that reads its connection ahead and acknowledges a committed batch in one write."""

    def _create_socket(self) -> Any:
        return ReadAhead(super()._create_socket())

    def loop_read(self, max_packets: int = 1) -> mqtt.MQTTErrorCode:
        # paho handles one packet per select(); go on while the read-ahead buffer holds more, so that a
        # burst costs one select() (and one release of the GIL) per 64 KiB rather than per message
        rc = super().loop_read(max_packets)
        for _ in range(10_000):
            sock = self._sock
            if rc != mqtt.MQTT_ERR_SUCCESS or not isinstance(sock, ReadAhead) or not sock.pending():
                break
            rc = super().loop_read(max_packets)
        return rc

    def ack_batch(self, mids: list[int]) -> None:
        """PUBACK every message of ``mids`` with one queued packet: one wake-up and one send, not one each."""
        if mids:
            self._packet_queue(mqtt.PUBACK, b"".join(_PUBACK.pack(mqtt.PUBACK, 2, mid) for mid in mids), 0, 1)


def missing_internals() -> list[str]:
    """The paho internals ``GatewayClient`` relies on that the installed paho no longer has as expected."""
    missing = []
    client = mqtt.Client
    expected = {
        "_create_socket": ["self"],
        "loop_read": ["self", "max_packets"],
        "_packet_queue": ["self", "command", "packet", "mid", "qos", "info"],
    }
    for name, parameters in expected.items():
        method = getattr(client, name, None)
        if method is None or list(inspect.signature(method).parameters) != parameters:
            missing.append(f"{name}({', '.join(parameters[1:])})")
    init = inspect.getsource(client.__init__)
    for attribute in ("self._sock", "self._out_packet", "self._sockpairW"):
        if attribute not in init:
            missing.append(attribute)
    if "self._sock.pending()" not in inspect.getsource(client._loop):
        missing.append("_loop skipping select() while the socket has pending() bytes")
    return missing
