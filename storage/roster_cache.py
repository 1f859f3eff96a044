"""The community as last read, kept per engine, so an update does not read the whole roster again.

Every update needs the Community (grids, buildings, categories, staff and their invite bindings):
seven queries and a few hundred objects, a third of the statements of a dialog step. The roster
changes rarely, and in this process only through a unit of work: RosterRepository.upsert and
StaffRepository.bind mark their unit of work, and its commit drops everything cached for the
engine. A unit of work that changed the roster reads it from the database until it ends (it must
see its own writes).

A change made by another process (`gridbot roster load` beside a running bot, an invite bound by
another replica) bumps `communities.roster_version` in its transaction. An entry stored with a
stamp (a community's version; the list of codes) is trusted for `ttl` seconds, then revalidated:
the repository reads every community's version in one small query and `revalidate` keeps (and
restarts the timer of) each entry whose stamp is unchanged and drops the others. An entry stored
without a stamp is simply dropped once it is `ttl` seconds old.

Beside each community, the cache keeps the list of codes and the community directory
(gridcore.directory, RosterRepository.directory): the same rules drop them.

An entry read while a change was being committed is not kept: each unit of work remembers the
cache's generation when it began, and a read (or a revalidation) is stored only if no commit dropped
the cache since.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable
from typing import Any

from gridcore.community import Community

__all__ = ["CODES", "DEFAULT_TTL", "DIRECTORY", "RosterCache", "RosterView", "cache_for"]

DEFAULT_TTL = 5.0
CODES = "\x00codes"  # the key of the list of community codes
DIRECTORY = "\x00directory"  # the key of the community directory (gridcore.directory)


_NO_STAMP = object()  # an entry that only expires


class RosterCache:
    def __init__(self, ttl: float = DEFAULT_TTL, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.generation = 0
        self.clock = clock
        self._entries: dict[str, tuple[float, Any, Any]] = {}  # key -> (stored at, value, stamp)

    def lookup(self, key: str) -> Any | None:
        """The value if it is younger than `ttl`."""
        entry = self._entries.get(key)
        if entry is None or self.clock() - entry[0] >= self.ttl:
            return None
        return entry[1]

    def expired(self, key: str) -> bool:
        """An entry older than `ttl` that `revalidate` may keep."""
        entry = self._entries.get(key)
        return entry is not None and entry[2] is not _NO_STAMP and self.clock() - entry[0] >= self.ttl

    def store(self, key: str, value: Any, generation: int, stamp: Any = _NO_STAMP) -> None:
        if generation == self.generation and self.ttl > 0:
            self._entries[key] = (self.clock(), value, stamp)

    def revalidate(self, current: dict[str, Any], generation: int) -> None:
        """`current`: the stamps as the database has them now. Every stamped entry whose stamp is the
        current one starts a new `ttl`; the other stamped entries are dropped. Nothing changes if a
        commit dropped the cache since `generation` (`current` may predate it)."""
        if generation != self.generation:
            return
        now = self.clock()
        for key, (_, value, stamp) in list(self._entries.items()):
            if stamp is _NO_STAMP:
                continue
            if key in current and current[key] == stamp:
                self._entries[key] = (now, value, stamp)
            else:
                del self._entries[key]

    def invalidate(self) -> None:
        self.generation += 1
        self._entries.clear()


class RosterView:
    """One unit of work's use of the cache: bypassed once the unit of work wrote roster data."""

    def __init__(self, cache: RosterCache) -> None:
        self.cache = cache
        self.generation = cache.generation
        self.dirty = False

    def lookup(self, key: str) -> Any | None:
        return None if self.dirty else self.cache.lookup(key)

    def expired(self, key: str) -> bool:
        return not self.dirty and self.cache.expired(key)

    def store(self, key: str, value: Any, stamp: Any = _NO_STAMP) -> None:
        if not self.dirty:
            self.cache.store(key, value, self.generation, stamp)

    def revalidate(self, current: dict[str, Any]) -> None:
        if not self.dirty:
            self.cache.revalidate(current, self.generation)

    def community(self, code: str) -> Community | None:
        return self.lookup(code)

    def committed(self) -> None:
        if self.dirty:
            self.cache.invalidate()
            self.dirty = False
            self.generation = self.cache.generation


_CACHES: weakref.WeakKeyDictionary[Any, RosterCache] = weakref.WeakKeyDictionary()


def cache_for(engine: Any) -> RosterCache:
    """The one cache of an engine (its sync_engine), shared by every unit of work on it in this process."""
    key = getattr(engine, "sync_engine", engine)
    cache = _CACHES.get(key)
    if cache is None:
        cache = _CACHES[key] = RosterCache()
    return cache
