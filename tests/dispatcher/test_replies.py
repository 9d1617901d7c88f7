from __future__ import annotations

import pytest

from dispatcher.replies import Intent, Reply, parse


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Y", Reply(Intent.ACCEPT)),
        ("y", Reply(Intent.ACCEPT)),
        ("Yes", Reply(Intent.ACCEPT)),
        ("1", Reply(Intent.ACCEPT)),
        ("接", Reply(Intent.ACCEPT)),
        ("接K7M3QP", Reply(Intent.ACCEPT, "K7M3QP")),
        ("Y K7M3QP", Reply(Intent.ACCEPT, "K7M3QP")),
        ("y k7m3qp", Reply(Intent.ACCEPT, "K7M3QP")),
        ("Ｙ　Ｋ７Ｍ３ＱＰ", Reply(Intent.ACCEPT, "K7M3QP")),  # full-width, as Chinese keyboards type
        ("1 K7M3QP", Reply(Intent.ACCEPT, "K7M3QP")),
        ("N", Reply(Intent.DECLINE)),
        ("no", Reply(Intent.DECLINE)),
        ("2 K7M3QP", Reply(Intent.DECLINE, "K7M3QP")),
        ("拒 K7M3QP", Reply(Intent.DECLINE, "K7M3QP")),
        ("拒绝", Reply(Intent.DECLINE)),
        ("ARRIVED", Reply(Intent.ARRIVED)),
        ("arrived: K7M3QP!", Reply(Intent.ARRIVED, "K7M3QP")),
        ("到达", Reply(Intent.ARRIVED)),
        ("到达 K7M3QP", Reply(Intent.ARRIVED, "K7M3QP")),
        ("DONE K7M3QP", Reply(Intent.DONE, "K7M3QP")),
        ("ARRIVED K7M3QP 482915", Reply(Intent.ARRIVED, "K7M3QP", "482915")),
        ("完成 K7M3QP 012345", Reply(Intent.DONE, "K7M3QP", "012345")),
        ("到达 012345", Reply(Intent.ARRIVED, None, "012345")),
        ("到达 482935", Reply(Intent.ARRIVED, "482935")),  # an order code or a card code: inbound decides
        ("完成。", Reply(Intent.DONE)),
        ("STOP", Reply(Intent.STOP)),
        ("stop", Reply(Intent.STOP)),
        ("退订", Reply(Intent.STOP)),
        ("START", Reply(Intent.START)),
        ("HELP", Reply(Intent.HELP)),
        ("NO K7M3QPXY", Reply(Intent.DECLINE, "K7M3QPXY")),
        ("Y ES2345", Reply(Intent.ACCEPT, "ES2345")),
    ],
)
def test_understood_replies(body: str, expected: Reply) -> None:
    assert parse(body) == expected


@pytest.mark.parametrize(
    "body",
    [
        "",
        "   ",
        "ok",
        "yes pls",
        "Y K0M3QP",
        "Y K7M3Q",
        "我到了楼下",
        "Y K7M3QP extra",
        "DONE DONE",
        "接单吧",
        "Y K7M3QP 012345",
        "ARRIVED K7M3QP 01234",
        "到达 0123456",
    ],
)
def test_anything_else_is_not_understood(body: str) -> None:
    assert parse(body) is None
