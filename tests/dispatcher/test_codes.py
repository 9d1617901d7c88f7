from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from dispatcher.codes import ALPHABET, CODE_PATTERN, order_code


def test_alphabet_has_no_look_alikes() -> None:
    assert len(ALPHABET) == 32 and len(set(ALPHABET)) == 32
    assert not set("01OI") & set(ALPHABET)


def test_codes_are_unique_over_many_orders() -> None:
    codes = {order_code(i) for i in range(1, 300_001)}
    assert len(codes) == 300_000


@given(st.integers(min_value=1, max_value=(1 << 40) - 1))
def test_codes_fit_the_schema_and_the_reply_pattern(order_id: int) -> None:
    code = order_code(order_id)
    assert re.fullmatch(r"[A-Z0-9]{4,12}", code)
    assert CODE_PATTERN.fullmatch(code)
    assert len(code) == (6 if order_id < (1 << 30) else 8)


def test_neighbouring_orders_do_not_look_alike() -> None:
    a, b = order_code(1000), order_code(1001)
    assert sum(x == y for x, y in zip(a, b, strict=True)) <= 3
