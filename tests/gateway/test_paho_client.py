"""The gateway's paho client: the read-ahead socket, and the paho internals it leans on."""

from __future__ import annotations

import importlib.metadata
import socket

import pytest
from packaging.requirements import Requirement

from gateway.paho_client import PAHO_PIN, ReadAhead, missing_internals


def test_the_paho_internals_the_gateway_uses_are_there() -> None:
    missing = missing_internals()
    assert not missing, (
        f"paho-mqtt {importlib.metadata.version('paho-mqtt')} changed internals that gateway/paho_client.py "
        f"relies on: {', '.join(missing)}. Adapt GatewayClient (or drop it for plain paho) before moving the pin "
        f"{PAHO_PIN!r} in pyproject.toml."
    )


def test_the_pin_in_pyproject_is_the_one_checked() -> None:
    installed = [Requirement(r) for r in importlib.metadata.requires("eldercare") or []]
    pinned = next(r for r in installed if r.name == "paho-mqtt")
    assert pinned.specifier == Requirement(PAHO_PIN).specifier, (
        f"pyproject.toml pins paho-mqtt{pinned.specifier}, gateway/paho_client.py was checked against {PAHO_PIN}"
    )


def test_read_ahead_serves_small_reads_from_one_large_one() -> None:
    left, right = socket.socketpair()
    left.setblocking(False)
    reader = ReadAhead(left)
    right.sendall(b"\x30\x05hello\x30\x05world")
    assert reader.recv(1) == b"\x30"
    assert reader.pending() == 13  # the rest came with the first read
    assert reader.recv(1) == b"\x05" and reader.recv(5) == b"hello"
    assert reader.recv(100) == b"\x30\x05world"  # never more than what is buffered
    assert reader.pending() == 0
    with pytest.raises(BlockingIOError):
        reader.recv(1)
    right.close()
    assert reader.recv(1) == b""  # the end of the connection passes through
    reader.close()
