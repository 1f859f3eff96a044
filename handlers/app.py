"""The entry point of the conversation layer: one incoming input, one transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from gridcore.community import Community
from gridcore.conversation import Conversation
from gridcore.messages import OutgoingMessage
from gridcore.ports import UnitOfWork
from handlers import commands, rating, report, staff_commands, worker
from handlers.clock import Clock, system_clock
from handlers.context import Context
from handlers.inputs import Incoming, InputKind, Sender
from handlers.texts import Texts


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
                 community_code: str | None = None, bot_username: str = "") -> None:
        self._uow_factory = uow_factory
        self._texts = texts
        self._clock = clock
        self._community_code = community_code
        self.bot_username = bot_username

    async def handle(self, incoming: Incoming) -> Handled:
        incoming = incoming.without_nul()
        async with self._uow_factory() as uow:
            if not await uow.begin_update(incoming.update_id, incoming.chat_id, incoming.sender.user_id):
                return Handled(duplicate=True)
            community = await self._community(uow)
            conversation = await uow.conversations.get(incoming.chat_id) or Conversation(
                incoming.chat_id, incoming.sender.user_id)
            if community is None:
                message = OutgoingMessage(incoming.chat_id, self._texts.render("not_configured"))
                await uow.outbox.add(message)
                await uow.commit()
                return Handled(callback_answer="", messages=[message])
            ctx = Context(uow, incoming, community, conversation, self._texts, self._clock(),
                          self.bot_username)
            await route(ctx)
            await ctx.finish()
            conversation.updated_at = ctx.now
            await uow.conversations.save(conversation)
            await uow.commit()
        return Handled(callback_answer=ctx.callback_answer, callback_alert=ctx.callback_alert,
                       messages=ctx.sent, menus=ctx.menus)

    async def system(self, work: Callable[[Context], Awaitable[None]]) -> list[OutgoingMessage]:
        """Run a job that no one's message started (a sweep, a delivery failure) in one unit of work,
        with the same Context the conversations get; what it queues goes out through the outbox."""
        async with self._uow_factory() as uow:
            community = await self._community(uow)
            if community is None:
                return []
            incoming = Incoming(0, 0, Sender(0, "system"), InputKind.TEXT, is_private=False)
            ctx = Context(uow, incoming, community, Conversation(0, 0), self._texts, self._clock(),
                          self.bot_username)
            await work(ctx)
            await ctx.finish()
            await uow.commit()
        return ctx.sent

    async def _community(self, uow: UnitOfWork) -> Community | None:
        code = self._community_code
        if code is None:
            codes = await uow.roster.list_codes()
            if not codes:
                return None
            code = codes[0]
        return await uow.roster.get(code)


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
    if incoming.kind is InputKind.COMMAND:
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
