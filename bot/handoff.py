"""The sender's side of storage.outbox_store.Handoff: rows leased to this process when they were queued.

A unit of work that queues a message asks `admits(chat)` first. The rows of a chat go to this
sender (inserted already leased, handed over by `take()` after the commit, no claim transaction)
only when every pending row of that chat is one this sender holds already; otherwise they stay
unleased and the claim path delivers them behind the older ones (storage.outbox_store.claim).

Per chat, the handed rows go out one after another, in id order. When one is not delivered (a
retry is due, or it failed for good), the rest of that chat's are released (lease cleared): they
go through the claim path, behind it. The chat's epoch then changes, so rows leased against the
old state and committed after it are released too, instead of overtaking the row left behind.
A row whose delivery was under way when the sender stopped keeps its lease, as a claimed row does
(at-least-once: it is sent again once the lease runs out).

Rows the sender claimed are delivered here too (`adopt()`): while one is in flight, its chat's next
rows can be handed behind it. Otherwise a chat, once on the claim path, stayed there for as long as its
resident answered before the last row was marked sent (a claim transaction per message).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from typing import Any

from storage.outbox_store import PendingMessage

__all__ = ["HandedOff"]
PER_CHAT = 8  # at Telegram's 1 message/s per chat, the last of them goes out within ~8 s of a 60 s lease


class HandedOff:
    def __init__(self, send: Callable[[PendingMessage], Awaitable[bool]],
                 release: Callable[[list[int]], Awaitable[None]], wake: Callable[[], None], *,
                 room: int, per_chat: int = PER_CHAT) -> None:
        """`send` delivers a row and records the outcome (True: sent); `release` clears leases;
        `wake` asks the claim loop to look again. At most `room` rows are held at once, `per_chat`
        of one chat: a held row must go out well within its lease, even at Telegram's pace."""
        self.running = False  # set by the sender while its run() runs
        self.tasks: set[asyncio.Task[None]] = set()
        self._send = send
        self._release = release
        self._wake = wake
        self._room = room
        self._per_chat = per_chat
        self._queues: dict[int, deque[PendingMessage]] = {}
        self._epochs: dict[int, int] = {}  # chats whose handed rows were ever released (others: 0)
        self._claim_after: set[int] = set()  # chats with unleased rows waiting behind a queue here
        self._on_settled: dict[int, Callable[[], None]] = {}  # adopted rows: called once each is settled
        self._held = 0

    def admits(self, chat_id: int) -> tuple[int, frozenset[int]] | None:
        """May rows of this chat be leased to this sender? None: no. Else the chat's epoch and the
        ids of its rows held here: the new rows may be leased if no other row of the chat is pending."""
        if not self.running or self._held >= self._room:
            return None
        queue = self._queues.get(chat_id, ())
        if len(queue) >= self._per_chat:
            return None
        return self._epochs.get(chat_id, 0), frozenset(row.id for row in queue)

    def take(self, rows: Iterable[PendingMessage], epochs: dict[int, int],
             unleased_chats: Iterable[int]) -> None:
        """A transaction committed: `rows` were leased (against `epochs`); other rows of
        `unleased_chats` wait for a claim."""
        wake = False
        for chat in unleased_chats:
            if chat in self._queues:
                self._claim_after.add(chat)  # claimable once this sender's rows of the chat are done
            else:
                wake = True
        stale = []
        for row in rows:
            chat = row.chat_id
            if not self.running or self._epochs.get(chat, 0) != epochs[chat]:
                stale.append(row.id)
                continue
            self._held += 1
            queue = self._queues.get(chat)
            if queue is not None:
                queue.append(row)
            else:
                self._queues[chat] = deque([row])
                self._spawn(self._deliver(chat))
        if stale:
            self._spawn(self._give_back(stale))
        if wake:
            self._wake()

    def adopt(self, row: PendingMessage, settled: Callable[[], None]) -> None:
        """Deliver a row this sender claimed; `settled()` is called once it was sent, put back or given up
        (or the sender stopped)."""
        queue = self._queues.get(row.chat_id)
        if queue is not None and any(held.id == row.id for held in queue):
            settled()  # its lease ran out while it waited here: it is on its way already
            return
        self._on_settled[row.id] = settled
        self._held += 1
        if queue is not None:
            queue.append(row)
        else:
            self._queues[row.chat_id] = deque([row])
            self._spawn(self._deliver(row.chat_id))

    def _settled(self, ids: Iterable[int]) -> None:
        for id in ids:
            callback = self._on_settled.pop(id, None)
            if callback is not None:
                callback()

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _give_back(self, ids: list[int]) -> None:
        try:
            await self._release(ids)
        finally:
            self._wake()

    async def _deliver(self, chat: int) -> None:
        queue = self._queues[chat]
        in_flight = fell_back = False
        try:
            while queue and self.running:  # stopped: the rest is released below, not started
                in_flight = True
                delivered = await self._send(queue[0])
                in_flight = False
                self._settled([queue.popleft().id])
                self._held -= 1
                if not delivered:
                    fell_back = True  # that row is pending again, outside this sender's hands
                    break
        finally:
            if self._queues.get(chat) is queue:
                del self._queues[chat]
            left = [row.id for row in queue]
            self._held -= len(left)
            self._settled(left)
            if in_flight:
                left = left[1:]  # its delivery may have gone through: it keeps its lease
            if fell_back or queue:
                self._epochs[chat] = self._epochs.get(chat, 0) + 1
            try:
                if left:
                    await self._release(left)
            finally:
                if left or chat in self._claim_after:
                    self._claim_after.discard(chat)
                    self._wake()
