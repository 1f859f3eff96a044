"""The reliability suite's tools (issue 5): sizes, scripted residents acting on an in-process sandbox,
a TCP proxy that can cut the database away, and the delivery audit every test ends with.

Sizes: small (CI, `make test`) by default; GRIDBOT_SUITE_SIZE=full gives the bench size.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
from collections import Counter, defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from sandbox import actions
from sandbox.models import StoredMessage
from sandbox.server import Sandbox

FULL = os.environ.get("GRIDBOT_SUITE_SIZE", "").lower() == "full"


def size(small: int, full: int) -> int:
    return full if FULL else small


# The questions of the report dialog a resident meets (step name, a fragment of the question), in
# dialog order, and "filed" at the end. Every resident answers each question once.
QUESTIONS = [
    ("confirm_category", "对吗"),
    ("unit", "哪个单元"),
    ("detail", "几楼"),
    ("photos", "有照片"),
    ("anonymous", "实名还是匿名"),
    ("duplicate", "已经有人反映过"),
    ("confirm", "请核对"),
    ("filed", "已提交"),
]
STEP_ORDER = {name: index for index, (name, _) in enumerate(QUESTIONS)}
HOME_OFFER = "是您家吗"  # after the first report filed (handlers.report_home)
HOME_DECLINED = "不记住"  # the bot's answer to 不用 (templates/zh/home_not_saved.html)
PROBLEMS = ["门口垃圾桶满了没人清", "楼道的灯坏了", "楼下有人乱停车", "保安晚上不在岗，物业不管",
            "消防通道被堵了"]
BUILDINGS = ["1号楼", "2号楼", "3号楼", "5号楼", "6号楼", "9号楼", "10号楼", "13号楼", "14号楼", "17号楼",
             "18号楼", "21号楼", "22号楼", "25号楼", "26号楼"]  # all with units


def kind_of(message: StoredMessage) -> str | None:
    body = message.data.get("text") or message.data.get("caption") or ""
    return next((name for name, fragment in QUESTIONS if fragment in body), None)


def content_key(message: StoredMessage) -> tuple[str, str]:
    data = message.data
    kind = next((k for k in ("text", "photo", "sticker", "document") if k in data), "other")
    return kind, data.get("text") or data.get("caption") or ""


@dataclass
class ScriptedResident:
    """A resident who reports a problem through the whole dialog, reading the sandbox directly.

    They answer every question once, in whatever order it comes, and ignore a question they already
    answered (a duplicate delivery): a resident whose last input got no reply yet just keeps waiting,
    as a person would."""

    sb: Sandbox
    user_id: int
    description: str
    rng: random.Random
    think: float = 0.2
    answered: list[str] = field(default_factory=list)
    inputs: int = 0
    ticket_number: str | None = None
    on_input: Any = None  # called after every input (the burst counts them)

    def bot_messages(self) -> list[StoredMessage]:
        chat = self.sb.chats.get(self.user_id)
        if chat is None:
            return []
        return [m for _, m in sorted(chat.messages.items()) if m.from_bot and not m.deleted]

    async def run(self, timeout: float) -> None:
        async with asyncio.timeout(timeout):
            try:
                await self._dialog()
            except TimeoutError:
                raise AssertionError(f"resident {self.user_id} stuck after {self.answered}:\n"
                                     + self.transcript()) from None

    async def _dialog(self) -> None:
        await self._pause()
        self._input(actions.send_text(self.sb, self.user_id, self.description))
        while True:
            kind, message = await self._next_question()
            if kind == "filed":
                body = message.data.get("text", "")
                self.ticket_number = body.split("工单号：", 1)[1].split()[0]
                # After a first report the bot offers to remember its place as the home (on the filed
                # message or right after it): a resident who says 不用 leaves no dialog open.
                offer = await self._message_with(HOME_OFFER)
                await self._pause()
                self.answered.append("home")
                self._input(self._press(offer, "不用"))
                await self._message_with(HOME_DECLINED)  # handled: nothing of it still to queue
                return
            await self._pause()
            self.answered.append(kind)
            if kind == "detail":
                self._input(actions.send_text(self.sb, self.user_id, "一楼楼道"))
            else:
                label = {"confirm_category": "是的", "photos": "没有照片", "anonymous": "实名反映",
                         "duplicate": "仍要新建", "confirm": "确认提交"}.get(kind)
                self._input(self._press(message, label))

    def _press(self, message: StoredMessage, label: str | None) -> dict[str, Any]:
        rows = (message.data.get("reply_markup") or {}).get("inline_keyboard") or []
        buttons = [b for row in rows for b in row if "callback_data" in b]
        button = next((b for b in buttons if label is None or label in b["text"]), None)
        assert button is not None, f"no button {label!r} on {message.data.get('text')!r}"
        return actions.press(self.sb, self.user_id, message.message_id, button["callback_data"])

    def _input(self, result: dict[str, Any]) -> None:
        self.inputs += 1
        if self.on_input is not None:
            self.on_input(self)

    async def _pause(self) -> None:
        await asyncio.sleep(self.rng.random() * self.think)

    async def _message_with(self, fragment: str) -> StoredMessage:
        while True:
            version = self.sb.version
            for message in self.bot_messages():
                if fragment in (message.data.get("text") or ""):
                    return message
            await self.sb.wait_change(version, 1.0)

    async def _next_question(self) -> tuple[str, StoredMessage]:
        while True:
            version = self.sb.version
            for message in self.bot_messages():
                kind = kind_of(message)
                if kind is not None and kind not in self.answered:
                    return kind, message
            await self.sb.wait_change(version, 1.0)

    def transcript(self) -> str:
        chat = self.sb.chats.get(self.user_id)
        lines = [f"{'bot' if m.from_bot else 'me '} #{m.message_id}: {(m.data.get('text') or '')[:60]!r}"
                 for _, m in sorted(chat.messages.items())] if chat else []
        return "\n".join(lines[-15:])


class Burst:
    """Many residents running the report dialog at once; `reached(n)` waits for the n-th input."""

    def __init__(self, sb: Sandbox, count: int, *, first_id: int = 600_000, seed: int = 5,
                 think: float = 0.2) -> None:
        self.rng = random.Random(seed)
        self.inputs = 0
        self._changed = asyncio.Event()
        self.residents = [
            ScriptedResident(sb, first_id + i, BUILDINGS[i % len(BUILDINGS)] + PROBLEMS[i % len(PROBLEMS)],
                             random.Random(seed * 1000 + i), think, on_input=self._count)
            for i in range(count)
        ]
        self.tasks: list[asyncio.Task[None]] = []

    def _count(self, resident: ScriptedResident) -> None:
        self.inputs += 1
        self._changed.set()

    def start(self, timeout: float) -> None:
        self.tasks = [asyncio.create_task(r.run(timeout), name=f"resident-{r.user_id}")
                      for r in self.residents]

    async def reached(self, inputs: int) -> None:
        while self.inputs < inputs:
            if all(task.done() for task in self.tasks):
                raise AssertionError(f"the burst ended after {self.inputs} inputs, before {inputs}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), 1.0)

    async def finish(self) -> None:
        """Wait for every resident; the first failure is raised (the others are cancelled)."""
        try:
            await asyncio.gather(*self.tasks)
        finally:
            for task in self.tasks:
                task.cancel()
            await asyncio.gather(*self.tasks, return_exceptions=True)

    def chat_ids(self) -> set[int]:
        """The residents' private chats (a private chat's id is its user's)."""
        return {r.user_id for r in self.residents}

    def confirmed(self) -> dict[int, str]:
        return {r.user_id: r.ticket_number for r in self.residents if r.ticket_number}


# -- the database side -------------------------------------------------------------------------------
async def scalar_rows(engine: AsyncEngine, sql: str, **params: Any) -> list[Any]:
    async with engine.connect() as connection:
        return list((await connection.execute(text(sql), params)).all())


async def tickets_by_reporter(engine: AsyncEngine) -> dict[int, list[str]]:
    found: dict[int, list[str]] = defaultdict(list)
    for reporter, number in await scalar_rows(engine, "SELECT reporter_user_id, number FROM tickets"):
        found[int(reporter)].append(number)
    return dict(found)


async def assert_each_confirmed_ticket_filed_once(engine: AsyncEngine, confirmed: dict[int, str],
                                                  residents: int) -> None:
    """Every resident saw a confirmation, and the database holds exactly that ticket for each of them."""
    assert len(confirmed) == residents
    in_db = await tickets_by_reporter(engine)
    assert {user: numbers for user, numbers in in_db.items() if user in confirmed} == {
        user: [number] for user, number in confirmed.items()}


async def conversation_steps(engine: AsyncEngine) -> dict[int, tuple[str | None, str | None]]:
    rows = await scalar_rows(engine, "SELECT chat_id, dialog, step FROM conversations")
    return {int(chat): (dialog, step) for chat, dialog, step in rows}


async def wait_outbox_settled(engine: AsyncEngine, timeout: float) -> None:
    """Until no outbox row is pending (delivered or given up)."""
    async with asyncio.timeout(timeout):
        while (await scalar_rows(engine, "SELECT count(*) FROM outbox WHERE status = 'pending'"))[0][0]:
            await asyncio.sleep(0.2)


@dataclass
class DeliveryAudit:
    sent_rows: int
    statuses: dict[str, int]
    messages: int  # bot messages in the sandbox
    orphans: int  # bot messages no outbox row recorded: applied sends whose answer was lost
    same_text_twice: int  # a chat got a text it had already got (what a person sees as a duplicate)
    problems: list[str]

    def summary(self) -> dict[str, Any]:
        return {"outbox": self.statuses, "bot_messages": self.messages, "orphans": self.orphans,
                "same_text_twice": self.same_text_twice}


async def audit_delivery(sb: Sandbox, engine: AsyncEngine, residents: Collection[int]) -> DeliveryAudit:
    """Every outbox row sent; the bot messages in outbox order; every extra message a repeat of one
    that was then delivered and recorded.

    Order: a resident's private chat is written by that resident's updates, one after another, so all
    its messages must be in outbox order. A worker's chat or a group gets cards from many residents'
    filings at once, and on PostgreSQL two of those transactions can commit in the opposite order of
    their outbox ids; each goes out once committed. There the order that matters, and is checked, is
    per ticket (its card, then what changed it)."""
    problems: list[str] = []
    statuses = dict(Counter(s for (s,) in await scalar_rows(engine, "SELECT status FROM outbox")))
    creator: dict[tuple[int, int], int] = {}
    ticket_of: dict[int, str | None] = {}
    rows = await scalar_rows(
        engine, "SELECT id, chat_id, sent_message_ids, ticket_number FROM outbox WHERE status = 'sent'")
    for row_id, chat_id, ids, ticket_number in rows:
        ticket_of[row_id] = ticket_number
        if isinstance(ids, str):
            ids = json.loads(ids)
        for message_id in ids or []:
            key = (int(chat_id), int(message_id))
            creator[key] = min(creator.get(key, row_id), row_id)
    messages = orphans = twice = 0
    for chat_id, chat in sb.chats.items():
        ordered = [m for _, m in sorted(chat.messages.items()) if m.from_bot]
        messages += len(ordered)
        last_row: dict[str | None, int] = defaultdict(int)  # per ticket, or one sequence for the chat
        seen_texts: set[tuple[str, str]] = set()
        for index, message in enumerate(ordered):
            key = content_key(message)
            if key[1] and key in seen_texts:
                twice += 1
            seen_texts.add(key)
            row = creator.get((chat_id, message.message_id))
            if row is None:
                orphans += 1
                later = [m for m in ordered[index + 1:] if (chat_id, m.message_id) in creator]
                if not any(content_key(m) == key for m in later):
                    problems.append(f"chat {chat_id}: message {message.message_id} {key[1][:40]!r} was "
                                    "never recorded and never delivered again")
                continue
            sequence = None if chat_id in residents else ticket_of.get(row)
            if row < last_row[sequence]:
                problems.append(f"chat {chat_id}: message {message.message_id} (outbox {row}, ticket "
                                f"{ticket_of.get(row)}) came after outbox {last_row[sequence]}")
            last_row[sequence] = max(last_row[sequence], row)
    for (chat_id, message_id) in creator:
        chat = sb.chats.get(chat_id)
        if chat is None or message_id not in chat.messages:
            problems.append(f"outbox recorded message {message_id} in chat {chat_id}; the sandbox has none")
    if statuses.get("pending") or statuses.get("failed"):
        problems.append(f"outbox not all sent: {statuses}")
    return DeliveryAudit(len(rows), statuses, messages, orphans, twice, problems)


# -- the database's network ----------------------------------------------------------------------------
class TcpProxy:
    """127.0.0.1:<port> forwarded to the database. `cut()` closes every live connection and stops
    listening (new connections are refused, as when PostgreSQL is down); `restore()` listens again on
    the same port."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self.connections = 0
        self.cuts = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self.connections += 1
        self._writers.update((writer, upstream_writer))
        pipes = [asyncio.create_task(self._pipe(reader, upstream_writer)),
                 asyncio.create_task(self._pipe(upstream_reader, writer))]
        self._pipes.update(pipes)
        for pipe in pipes:
            pipe.add_done_callback(self._pipes.discard)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            self._writers.discard(writer)
            writer.transport.abort()

    async def cut(self) -> None:
        self.cuts += 1
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()
        for pipe in list(self._pipes):
            pipe.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)

    async def restore(self) -> None:
        await self.start()

    async def close(self) -> None:
        await self.cut()
