"""No group message may show a resident's name, phone number or other personal data (issues 5, 16).

`PiiWatch` learns residents' names and the phone numbers they shared or typed, and finds them in the
plain text of a message; it also flags whatever the bot's own redactor (gridcore.redact.find, the same
detector) finds there: a phone, ID or bank card number, e-mail, WeChat/QQ id or introduced name that
went out unmasked, whoever it belongs to. `scan_database` applies it to everything a test's database
ever queued for a group chat (the outbox keeps every row, sent or not, edits included), learning the
residents from the same database: the residents table, tickets' reporters (a 代办 neighbour too) and
phone numbers written into what residents typed (descriptions, location details, rating reasons).
tests/conftest.py runs it when each test's engine is torn down, so every suite that touches a database
is covered; `scan_fake` does the same for the in-memory unit of work (tests/fake_uow.py).

A resident is anyone who is not on the roster's staff; staff names may appear in groups (the handler
of a card) and are never flagged, nor is a resident name that is also a staff member's name. Names of
one character are not checked (a surname alone is everywhere).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from fake_uow import FakeStorage
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from gridcore import redact
from gridcore.community import Community
from sandbox.html_check import parse_html
from storage.models import OutboxRow, ResidentRow, StaffBindingRow, TicketRow
from storage.uow import uow_factory

PHONES = (redact.Kind.MOBILE, redact.Kind.LANDLINE)


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def digits_of(phone: str) -> str:
    """A phone number as bare digits (the redactor's reading of it, else every digit in it)."""
    found = [f.value for f in redact.find(phone) if f.kind in PHONES]
    return found[0] if found else re.sub(r"\D", "", normalise(phone))


def phones_in(text: str) -> set[str]:
    """Phone numbers written in a text, as bare digits — however they are written."""
    return {f.value for f in redact.find(text) if f.kind in PHONES}


def plain(html: str) -> str:
    try:
        return parse_html(html)[0]
    except Exception:
        return html


@dataclass
class PiiWatch:
    staff_names: frozenset[str] = frozenset()
    names: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)  # bare digits

    def resident(self, name: str | None = None, phone: str | None = None) -> None:
        name = normalise(name or "").strip()
        if len(name) >= 2 and name not in self.staff_names:
            self.names.add(name)
        if phone:
            self.phone(phone)

    def phone(self, phone: str) -> None:
        digits = digits_of(phone)
        if len(digits) >= 7:
            self.phones.add(digits)

    def typed(self, text: str) -> None:
        """Whatever a resident typed: the phone numbers in it are theirs (or a neighbour's) to protect."""
        self.phones.update(phones_in(text))

    def leaks(self, html: str) -> list[str]:
        """The residents' names and phone numbers this message shows, and any personal data the
        redactor finds in it (a staff member's name is no leak)."""
        text = plain(html)
        found = [f.value for f in redact.find(text, self.names) if not self.is_staff(f)]
        if self.phones:
            separated = re.sub(r"(?<=\d)[\s.-]+(?=\d)", "", normalise(text))
            numbers = set(re.findall(r"\d+", separated))
            found += [phone for phone in self.phones
                      if phone in numbers or f"86{phone}" in numbers]
        return list(dict.fromkeys(found))

    def is_staff(self, finding: redact.Finding) -> bool:
        name = re.sub(r"\s", "", normalise(finding.value))
        return finding.kind is redact.Kind.NAME and name in self.staff_names

    def check(self, messages: Iterable[tuple[int, str]]) -> None:
        problems = [(chat_id, leak, text[:300]) for chat_id, text in messages if chat_id < 0 and text
                    for leak in self.leaks(text)]
        assert not problems, f"resident names/phones in group messages: {problems[:5]}"


async def scan_database(engine: AsyncEngine) -> None:
    """Every group message the database ever queued, against the residents the database knows."""
    try:
        async with engine.connect() as connection:
            outbox = (await connection.execute(
                select(OutboxRow.chat_id, OutboxRow.payload).where(OutboxRow.chat_id < 0))).all()
            if not outbox:
                return
            residents = (await connection.execute(
                select(ResidentRow.user_id, ResidentRow.display_name, ResidentRow.phone))).all()
            tickets = (await connection.execute(select(
                TicketRow.reporter_user_id, TicketRow.reporter_display_name, TicketRow.reporter_phone,
                TicketRow.filed_by_user_id, TicketRow.description, TicketRow.location_detail,
                TicketRow.rating))).all()
            bound = set((await connection.execute(select(StaffBindingRow.telegram_user_id))).scalars())
    except DBAPIError:  # no tables (a migration test) — nothing was sent
        return
    async with uow_factory(engine)() as uow:
        communities = [await uow.roster.get(code) for code in await uow.roster.list_codes()]
    check_groups([(chat_id, payload.get("text", "")) for chat_id, payload in outbox],
                 [c for c in communities if c is not None], bound, residents,
                 [(user_id, name, phone, filed_by, description, detail, (rating or {}).get("reason"))
                  for user_id, name, phone, filed_by, description, detail, rating in tickets])


def scan_fake(storage: FakeStorage) -> None:
    """scan_database for the in-memory unit of work (tests/fake_uow.py)."""
    outbox = [(row.chat_id, row.message.text) for row in storage.outbox_rows() if row.chat_id < 0]
    if not outbox:
        return
    check_groups(outbox, storage.communities(), storage.bound_user_ids(),
                 [(r.user_id, r.display_name, r.phone) for r in storage.residents()],
                 [(t.reporter.user_id, t.reporter.display_name, t.reporter.phone, t.filed_by, t.description,
                   t.location.detail, t.rating.reason if t.rating is not None else None)
                  for t in storage.tickets()])


def check_groups(outbox: Iterable[tuple[int, str]], communities: Iterable[Community], bound: set[int],
                 residents: Iterable[tuple[Any, ...]], tickets: Iterable[tuple[Any, ...]]) -> None:
    """The group messages (chat id, text) against the residents a database knows: the residents
    (user id, name, phone) and tickets (reporter's id, name and phone, filed by, description, location
    detail, rating reason) that are not staff (on a community's roster, or bound by an invite)."""
    staff = [p for c in communities for p in c.staff]
    staff_ids = {p.telegram_user_id for p in staff if p.telegram_user_id is not None} | bound
    watch = PiiWatch(frozenset(normalise(p.name).strip() for p in staff))
    for user_id, name, phone in residents:
        if user_id not in staff_ids:
            watch.resident(name, phone)
    for user_id, name, phone, filed_by, description, detail, reason in tickets:
        if user_id not in staff_ids or filed_by is not None:  # a 代办 ticket's reporter is the neighbour
            watch.resident(name, phone)
        for text in (description, detail, reason):
            watch.typed(text or "")
    watch.check(outbox)


def watch_sandbox(sandbox: Any, staff: Iterable[Any]) -> Callable[[], None]:
    """Record every text and caption the bot sends to a group chat of an in-process sandbox (edits too,
    as they reach the Bot API); the returned check looks for the sandbox's residents (every user not on
    the roster's staff) and the phone numbers they shared or typed."""
    sent: list[tuple[int, str]] = []

    async def hook(method: str, params: dict[str, Any]) -> None:
        text = params.get("text") or params.get("caption")
        try:
            chat_id = int(params.get("chat_id"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return
        if chat_id < 0 and text:
            sent.append((chat_id, str(text)))

    sandbox.api_hooks.append(hook)
    staff = list(staff)

    def check() -> None:
        staff_ids = {p.telegram_user_id for p in staff}
        watch = PiiWatch(frozenset(normalise(p.name).strip() for p in staff))
        for user in sandbox.users.values():
            if user.id not in staff_ids:
                watch.resident(" ".join(part for part in (user.first_name, user.last_name) if part))
        for update in sandbox.update_log:
            message = update.get("message") or update.get("edited_message") or {}
            if message.get("from", {}).get("id") in staff_ids:
                continue
            if message.get("contact"):
                watch.phone(str(message["contact"].get("phone_number", "")))
            watch.typed(str(message.get("text") or message.get("caption") or ""))
        watch.check(sent)

    return check
