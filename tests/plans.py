"""Reading a query's plan (``EXPLAIN (ANALYZE, FORMAT JSON)``) in the tests that hold a query to reading only what it
needs: its nodes, and how many rows a scan read."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every node of a plan (the ``Plan`` of EXPLAIN's JSON), the node itself first."""
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


def rows_read(node: dict[str, Any]) -> float:
    """The rows a scan node read a loop: those it kept and those its filter took out."""
    return node["Actual Rows"] + node.get("Rows Removed by Filter", 0)
