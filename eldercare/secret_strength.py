"""Why a secret is too weak for production: a placeholder, a known example, too short or too predictable."""

from __future__ import annotations

import math
from collections import Counter

# fragments of the placeholders in deploy/env.example, the development defaults and well-known examples
PLACEHOLDERS = (
    "change-me",
    "changeme",
    "change_me",
    "your-auth-token",
    "your_auth_token",
    "generate-with",
    "dev-only",
    "placeholder",
    "example",
    "replace-me",
    "xxxxxxxx",
    "password",
    "passwort",
    "secret-key",
    "123456",
    "qwerty",
)
MIN_BITS_PER_CHARACTER = 3.0
MIN_DISTINCT_CHARACTERS = 10


def bits_per_character(value: str) -> float:
    """Shannon entropy of the string's characters: 0 for ``aaaa``, 1 for ``abab``, about 6 for random base64."""
    counts = Counter(value)
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


def weakness(value: str, *, min_length: int) -> str | None:
    """What makes ``value`` unfit as a production secret, or None when nothing does."""
    lowered = value.lower()
    found = next((p for p in PLACEHOLDERS if p in lowered), None)
    if found is not None:
        return f"is a placeholder or a known example (contains {found!r})"
    if len(value) < min_length:
        return f"is too short ({len(value)} characters, at least {min_length} wanted)"
    if len(set(value)) < MIN_DISTINCT_CHARACTERS or bits_per_character(value) < MIN_BITS_PER_CHARACTER:
        return "is too predictable (too few different characters)"
    return None
