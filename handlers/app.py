"""The entry point of the conversation layer: one incoming input, one transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from gridcore.community import Community
from gridcore.conversation import Conversation
from gridcore.directory import CommunityDirectory, DirectoryEntry
from gridcore.messages import OutgoingMessage
from gridcore.ports import UnitOfWork
from handlers import commands, community_choice, onboarding, rating, report, staff_commands, worker
from handlers.clock import Clock, system_clock
from handlers.communities import ticket_of, with_street
from handlers.context import Context
from handlers.inputs import Incoming, InputKind, Sender
from handlers.texts import Texts
from handlers.triage import Triage

T = TypeVar("T")
CONSOLE_BUTTON = "console"  # the button_data of an action a staff member takes outside the chat


@dataclass
class Handled:
    duplicate: bool = False
    callback_answer: str | None = None
    callback_alert: bool = False
    messages: list[OutgoingMessage] = field(default_factory=list)
    menus: dict[int, list[tuple[str, str]]] = field(default_factory=dict)  # see Context.menus


class Conversations:
    """Handles each input in one unit of work: record the update id (a repeat does nothing), load the
    conversation, apply the step, queue the replies in the outbox, save, commit."""

    def __init__(self, uow_factory: Callable[[], UnitOfWork], texts: Texts, *, clock: Clock = system_clock,
                 community_code: str | None = None, bot_username: str = "", console_url: str = "",
                 triage: Triage | None = None) -> None:
        self._uow_factory = uow_factory
        self._texts = texts
        self._clock = clock
        self._community_code = community_code
        self.bot_username = bot_username
        self.console_url = console_url  # /console sends a login link under it (handlers.staff_commands)
        self.triage = triage  # the category suggestion's model; None: the roster's keywords alone

    async def handle(self, incoming: Incoming) -> Handled:
        incoming = incoming.without_nul()
        async with self._uow_factory() as uow:
            if not await uow.begin_update(incoming.update_id, incoming.chat_id, incoming.sender.user_id):
                return Handled(duplicate=True)
            conversation = await uow.conversations.get(incoming.chat_id) or Conversation(
                incoming.chat_id, incoming.sender.user_id)
            directory, community = await self._resolve(uow, incoming, conversation)
            shown = community or await self._first(uow, directory)  # the question is asked in its name
            if shown is None:
                message = OutgoingMessage(incoming.chat_id, self._texts.render("not_configured"))
                await uow.outbox.add(message)
                await uow.commit()
                return Handled(callback_answer="", messages=[message])
            ctx = self._context(uow, incoming, shown, conversation)
            sent = ctx.sent
            if community is not None:
                await route(ctx)
            elif community_choice.pending(conversation) and not community_choice.wants_choice(incoming):
                chosen = await community_choice.on_input(ctx, directory.entries)
                if chosen is not None:  # what they sent first goes on now, or the report they were at
                    await ctx.finish()
                    entry, first = chosen
                    community = await self._load(uow, directory, entry.code) or shown
                    then = self._context(uow, first or incoming, community, conversation)
                    if first is not None:
                        await route(then)
                    elif conversation.dialog == report.DIALOG:
                        await report.resume(then)
                    await then.finish()
                    sent = ctx.sent + then.sent
            else:
                await community_choice.begin(ctx, directory.entries)
            await ctx.finish()
            conversation.updated_at = ctx.now
            await uow.conversations.save(conversation)
            await uow.commit()
        return Handled(callback_answer=ctx.callback_answer, callback_alert=ctx.callback_alert,
                       messages=sent, menus=ctx.menus)

    def _context(self, uow: UnitOfWork, incoming: Incoming, community: Community,
                 conversation: Conversation) -> Context:
        return Context(uow, incoming, community, conversation, self._texts, self._clock(), self.bot_username,
                       console_url=self.console_url, triage=self.triage)

    async def system(self, work: Callable[[Context], Awaitable[None]],
                     community_code: str | None = None) -> list[OutgoingMessage]:
        """Run a job that no one's message started (a sweep, a delivery failure) in one unit of work,
        with the same Context the conversations get; what it queues goes out through the outbox.
        `community_code`: the community it is for (default: the served one, else the first)."""
        incoming = Incoming(0, 0, Sender(0, "system"), InputKind.TEXT, is_private=False)

        async def run(ctx: Context) -> list[OutgoingMessage]:
            await work(ctx)
            return ctx.sent

        sent = await self._outside_chat(incoming, community_code, run)
        return sent or []

    async def as_staff(self, user_id: int, community_code: str,
                       work: Callable[[Context], Awaitable[T]]) -> T | None:
        """Run `work` for a staff member acting outside their chat (a web console's form), in one unit
        of work, with the Context their card's button would get (handlers.ticket_actions checks what
        they may do). Their chat's dialog is neither read nor saved: a note they were typing there
        stays as it was. Returns what `work` returned; None when the community is unknown."""
        incoming = Incoming(0, user_id, Sender(user_id, ""), InputKind.BUTTON, is_private=True,
                            button_data=CONSOLE_BUTTON)
        if not community_code:
            return None  # never "the first community" for someone who named none
        return await self._outside_chat(incoming, community_code, work)

    async def _outside_chat(self, incoming: Incoming, community_code: str | None,
                            work: Callable[[Context], Awaitable[T]]) -> T | None:
        """`work` in one unit of work with a throwaway conversation (never saved), then commit."""
        async with self._uow_factory() as uow:
            community = await self._community(uow, community_code)
            if community is None:
                return None
            throwaway = Conversation(incoming.chat_id, incoming.sender.user_id)
            ctx = self._context(uow, incoming, community, throwaway)
            result = await work(ctx)
            await ctx.finish()
            await uow.commit()
        return result

    async def community_codes(self, *, with_work_due: bool = False) -> list[str]:
        """The communities this deployment serves: the COMMUNITY setting's, else every one loaded.
        `with_work_due`: only those a deadline sweep has work in now (uow.tickets.communities_due), so
        a city's minute tick visits a handful of communities, not all of them."""
        async with self._uow_factory() as uow:
            served = self._community_code
            codes = [served] if served is not None else await uow.roster.list_codes()
            if with_work_due:
                due = set(await uow.tickets.communities_due(self._clock()))
                codes = [code for code in codes if code in due]
        return codes

    async def _community(self, uow: UnitOfWork, code: str | None = None) -> Community | None:
        code = code or self._community_code
        if code is None:
            codes = await uow.roster.list_codes()
            if not codes:
                return None
            code = codes[0]
        if self._community_code is not None:  # this deployment serves one community only, as it is
            return await uow.roster.get(code) if code == self._community_code else None
        return await self._load(uow, await uow.roster.directory(), code)

    async def _resolve(self, uow: UnitOfWork, incoming: Incoming, conversation: Conversation
                       ) -> tuple[CommunityDirectory, Community | None]:
        """Every community served, and the one this update is about (None: ask the resident which).
        Only that community's roster is read; the choice is made on the directory."""
        if self._community_code is not None:
            community = await uow.roster.get(self._community_code)
            return CommunityDirectory(() if community is None else (DirectoryEntry.of(community),)), community
        directory = await uow.roster.directory()
        if len(directory) <= 1:
            return directory, await self._first(uow, directory)
        found = await self._pick(uow, incoming, conversation, directory)
        return directory, (await self._load(uow, directory, found.code) if found is not None else None)

    @staticmethod
    async def _first(uow: UnitOfWork, directory: CommunityDirectory) -> Community | None:
        """The first community's roster (as it is: a lone community has no siblings)."""
        return await uow.roster.get(directory.entries[0].code) if directory else None

    @staticmethod
    async def _load(uow: UnitOfWork, directory: CommunityDirectory, code: str) -> Community | None:
        """The community's roster, with its street's street staff."""
        community = await uow.roster.get(code)
        return with_street(directory, community) if community is not None else None

    async def _pick(self, uow: UnitOfWork, incoming: Incoming, conversation: Conversation,
                    directory: CommunityDirectory) -> DirectoryEntry | None:
        """See handlers.communities and handlers.community_choice for the order."""
        ticket = await ticket_of(uow, incoming)
        task_ticket = conversation.data.get("ticket_id") if conversation.dialog in TICKET_TASKS else None
        if ticket is None and isinstance(task_ticket, int) and incoming.kind is not InputKind.BUTTON:
            ticket = await uow.tickets.get_by_id(task_ticket)  # a worker's note, a rating's reason
        if ticket is not None and (found := directory.find(ticket.community_code)) is not None:
            return found
        if not incoming.is_private:
            return directory.by_chat(incoming.chat_id) or directory.entries[0]
        linked = await community_choice.from_link(uow, incoming, directory)
        if linked is not None:
            if community_choice.pending(conversation):
                community_choice.restore(conversation)  # the link answers the question
            await community_choice.remember(uow, incoming, linked)
            return linked
        staff = directory.by_staff(incoming.sender.user_id)
        if incoming.kind is InputKind.COMMAND and incoming.command == "start" and onboarding.is_invite(
                incoming.args):
            return staff or directory.entries[0]  # an invite names its community (handlers.onboarding)
        if staff is not None:
            return staff  # staff act where their roster is; /community explains that
        if community_choice.pending(conversation) or community_choice.wants_choice(incoming):
            return None
        return await community_choice.saved(uow, incoming.sender.user_id, directory)


TICKET_TASKS = (worker.TASK, rating.DIALOG)  # short dialogs about one ticket (conversation.data ticket_id)


async def route(ctx: Context) -> None:
    incoming = ctx.incoming
    button = incoming.button_data if incoming.kind is InputKind.BUTTON else ""
    if button.startswith("w:"):  # a worker's card, in a private chat or the staff group
        await worker.on_button(ctx)
        return
    if not incoming.is_private:
        await group_input(ctx)
        return
    await commands.remember_resident(ctx)
    if incoming.kind is InputKind.COMMAND and incoming.command == community_choice.COMMAND:
        await community_choice.explain(ctx)
    elif incoming.kind is InputKind.COMMAND:
        await commands.COMMANDS.get(incoming.command, unknown_command)(ctx)
    elif button.startswith("t:"):
        await commands.timeline(ctx)
    elif button.startswith("v:"):  # a ticket shown to staff (/tasks)
        await staff_commands.view_button(ctx)
    elif button.startswith("rt:"):
        await rating.on_button(ctx)
    elif ctx.conversation.dialog == worker.TASK and incoming.kind is not InputKind.EDITED:
        await worker.on_input(ctx)
    elif ctx.conversation.dialog == rating.DIALOG and incoming.kind is not InputKind.EDITED:
        await rating.on_input(ctx)
    elif incoming.kind is InputKind.EDITED:
        await ctx.say("edited_ignored", in_dialog=ctx.conversation.dialog is not None)
        if ctx.conversation.dialog == report.DIALOG:
            await report.resume(ctx)
    elif incoming.kind is InputKind.CONTACT:
        await commands.contact(ctx)
    elif ctx.conversation.dialog == report.DIALOG:
        await report.on_input(ctx)
    else:
        await idle_input(ctx)


async def idle_input(ctx: Context) -> None:
    """No dialog under way: a description of a problem (or a photo or voice note of it) starts a report."""
    incoming = ctx.incoming
    length = len(incoming.text.strip())
    if incoming.kind is InputKind.TEXT and length > report.s.MAX_DESCRIPTION:
        await ctx.say("description_too_long", length=length, limit=report.s.MAX_DESCRIPTION)
    elif await report.enter(ctx):
        pass
    elif incoming.kind is InputKind.BUTTON:
        await report.s.refuse_button(ctx)
    else:
        await ctx.say("idle_hint", what=incoming.what or incoming.kind.value)


async def group_input(ctx: Context) -> None:
    """In a group the bot answers commands only, and sends residents to the private chat."""
    if ctx.incoming.kind is InputKind.BUTTON:
        await report.s.refuse_button(ctx)
    elif ctx.incoming.kind is InputKind.COMMAND and ctx.incoming.command in ("start", "help", "report", "my"):
        await ctx.say("group_hint", bot_username=ctx.bot_username)
    elif ctx.incoming.kind is InputKind.COMMAND and ctx.incoming.command in staff_commands.IN_GROUPS:
        await staff_commands.IN_GROUPS[ctx.incoming.command](ctx)


async def unknown_command(ctx: Context) -> None:
    await ctx.say("unknown_command", command=ctx.incoming.command[:32])
