"""The console's dashboards of the last minutes, in process (web.dashboard computes them)."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import datetime

from handlers.dashboard import Dashboard

CACHE_SIZE = 16  # dashboards kept; one is a few hundred small rows
# (community codes shown, their grids or None for whole communities, the minute of the console's clock)
CacheKey = tuple[tuple[str, ...], frozenset[tuple[str, str]] | None, datetime]


class DashboardCache:
    """The last CACHE_SIZE dashboards by key; a computation under way is shared, not started twice."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._tasks: OrderedDict[CacheKey, asyncio.Task[Dashboard]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._tasks)

    async def get(self, key: CacheKey, compute: Callable[[], Awaitable[Dashboard]]) -> Dashboard:
        task = self._tasks.get(key)
        if task is None:
            task = asyncio.ensure_future(compute())
            self._tasks[key] = task
            while len(self._tasks) > self.size:
                self._tasks.popitem(last=False)
        else:
            self._tasks.move_to_end(key)
        try:
            return await asyncio.shield(task)
        except Exception:
            if self._tasks.get(key) is task:
                del self._tasks[key]  # a failure is not remembered: the next request tries again
            raise
