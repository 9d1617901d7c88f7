"""Request bodies past the limit are refused with 413 before they are read whole, parsed or authenticated."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import httpx
import pytest

from dashboard.server import DashboardServer

LIMIT = 1024 * 1024  # DashboardSettings().max_body_bytes


def _connect(server: DashboardServer) -> socket.socket:
    where = urlsplit(server.url)
    sock = socket.create_connection((where.hostname, where.port), timeout=30)
    return sock


def _answer(sock: socket.socket) -> bytes:
    """The response's head and body, as far as it came before the server closed or 30 s passed."""
    data = b""
    while b"\r\n\r\n" not in data or b"}" not in data.split(b"\r\n\r\n", 1)[1]:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


@pytest.mark.parametrize("path", ["/api/v1/orders", "/api/v1/token", "/sms/inbound", "/login"])
def test_a_declared_200_mb_body_is_refused_before_a_byte_of_it_is_read(server: DashboardServer, path: str) -> None:
    with _connect(server) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {200 * 1024 * 1024}\r\n\r\n".encode()
        )
        answer = _answer(sock)  # not one byte of the body was sent: the old code waited for it
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"bytes at most" in answer


def test_a_chunked_body_is_refused_once_it_passes_the_limit(server: DashboardServer) -> None:
    with _connect(server) as sock:
        sock.sendall(
            b"POST /api/v1/orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        chunk = b"[" + b"1," * 32767 + b"1"  # 64 KiB of a JSON array that never ends
        sent = 0
        while sent <= LIMIT:
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sent += len(chunk)
        # the body has not ended (no last chunk): an answer now means the server stopped reading at the limit
        answer = _answer(sock)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"bytes at most" in answer


def test_an_authenticated_large_body_is_refused_and_a_normal_one_accepted(
    client: httpx.Client, headers: dict[str, dict[str, str]]
) -> None:
    h = headers["operator"]
    big = {"elder_id": 5, "service_type": "meal", "notes": "x" * (2 * LIMIT)}
    refused = client.post("/api/v1/orders", json=big, headers=h)
    assert refused.status_code == 413 and "bytes at most" in refused.json()["detail"]
    accepted = client.post("/api/v1/orders", json={"elder_id": 5, "service_type": "meal"}, headers=h)
    assert accepted.status_code == 201, accepted.text
