"""Order codes: short, unique, and easy to read and type on a phone (no 0/O, no 1/I)."""

from __future__ import annotations

import re

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # 32 symbols, 5 bits each
CODE_PATTERN = re.compile(f"[{ALPHABET}]{{6}}(?:[{ALPHABET}]{{2}})?")

# Orders are numbered by the database; the code scrambles the number so that consecutive orders do not have
# look-alike codes. Each step is a bijection on n bits, so distinct ids always give distinct codes.
_SHORT_BITS, _LONG_BITS = 30, 40
_MULTIPLIERS = (0x2545F491, 0x5851F42D)


def _scramble(value: int, bits: int) -> int:
    mask = (1 << bits) - 1
    half = bits // 2
    value = (value * _MULTIPLIERS[0]) & mask
    value ^= value >> half
    return (value * _MULTIPLIERS[1]) & mask


def order_code(order_id: int) -> str:
    """The code of order ``order_id``: 6 symbols for the first billion orders, 8 after that."""
    if order_id < 1:
        raise ValueError("order ids start at 1")
    bits = _SHORT_BITS if order_id < (1 << _SHORT_BITS) else _LONG_BITS
    if order_id >= (1 << _LONG_BITS):
        raise ValueError("order id too large for an order code")
    value = _scramble(order_id, bits)
    symbols = [ALPHABET[(value >> shift) & 31] for shift in range(bits - 5, -1, -5)]
    return "".join(symbols)
