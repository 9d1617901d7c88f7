"""Reports computed from the KPI rollups, remembered per rollup version: the same rollups give the same figures.

The version is ``kpi_setting.refreshed_at``, which every refresh of the rollups moves in the transaction that
changes them, so a remembered report is never older than the rollups it came from, in any process.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import datetime
from typing import TypeVar

T = TypeVar("T")


class ReportMemo:
    """The last ``size`` reports, keyed by (rollup version, request); thread-safe."""

    def __init__(self, size: int = 64) -> None:
        self._size = size
        self._items: OrderedDict[tuple[datetime, Hashable], object] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, version: datetime | None, key: Hashable, compute: Callable[[], T]) -> T:
        if version is None:
            return compute()
        with self._lock:
            if (version, key) in self._items:
                self._items.move_to_end((version, key))
                return self._items[(version, key)]  # type: ignore[return-value]
        value = compute()
        with self._lock:
            self._items[(version, key)] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return value
