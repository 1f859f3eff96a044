"""Commands a resident may send at any time: /start, /help, /report, /my, /cancel, and ticket timelines."""

from __future__ import annotations

from gridcore.conversation import Resident
from gridcore.links import read_building_link
from gridcore.messages import Button
from gridcore.posters import feedback_promise
from gridcore.ticket import Ticket
from handlers import menus, onboarding, report, staff_commands, timelines
from handlers.context import Context
from handlers.draft import ReportDraft

MY_LIMIT = 10


async def start(ctx: Context) -> None:
    """Welcome; a stairwell QR code's deep link (b-<community>-<building>, or the older b_<building>)
    fills the building of the next report only (the remembered home stays: handlers.report_home), and a
    link naming a community makes it the resident's. A staff invite's deep link (inv_<code>) binds the
    account to its roster entry instead."""
    if onboarding.is_invite(ctx.incoming.args):
        await onboarding.open_invite(ctx)
        return
    if report.home.under_way(ctx):  # the home offer or /home: left as it is (a QR code is no home)
        await ctx.end_dialog()
    link = read_building_link(ctx.incoming.args)
    building = None
    if link is not None:
        resident = await remember_resident(ctx)
        if link.community_code is not None and resident.move_to(link.community_code):
            await ctx.uow.residents.save(resident)
        if link.community_code in (None, ctx.community.code):
            building = ctx.community.building(link.building_code)
    if building is not None and ctx.conversation.dialog is None:
        ctx.conversation.data[report.s.LINKED_BUILDING] = building.code
    await ctx.say("welcome", community=ctx.community.name,
                  promise=ctx.label("feedback_promise", promise=feedback_promise(ctx.community)),
                  place=ctx.community.place_name(building) if building else "",
                  unknown_link=bool(ctx.incoming.args) and building is None)
    if ctx.conversation.dialog != report.DIALOG:
        return
    await ctx.say("dialog_continues")
    draft = ReportDraft.load(ctx.conversation.data)
    if building is not None and draft.building_code is None:
        report.s.set_building(draft, building)
        draft.home_asked = True
        await report.advance(ctx, draft)
    else:
        await report.resume(ctx)


async def home(ctx: Context) -> None:
    """/home: the remembered home, to change or forget (handlers.report_home)."""
    await report.home.command(ctx, report.DIALOG)


async def help_(ctx: Context) -> None:
    """Everyone's commands, then those of each role the roster gives the sender (handlers.menus)."""
    roles = [role.value for role in menus.roles_of(ctx.community, ctx.sender_id)]
    await ctx.say("help", community=ctx.community.name, roles=roles)


async def report_(ctx: Context) -> None:
    if report.emergency.in_follow_up(ctx) or report.home.under_way(ctx):
        await ctx.end_dialog()  # a new report ends an emergency's follow-up window, or the home question
    if ctx.conversation.dialog == report.DIALOG:
        await ctx.say("dialog_continues")
        await report.resume(ctx)
    elif ctx.conversation.dialog is not None:
        await ctx.say("finish_task_first")
    else:
        await report.start(ctx)


async def cancel(ctx: Context) -> None:
    if ctx.conversation.dialog is None:
        await ctx.say("nothing_to_cancel")
    elif ctx.conversation.dialog == report.DIALOG:
        await report.cancel(ctx)
    else:  # a worker's note or a rating reason: cancel it; a report it interrupted comes back
        await ctx.end_dialog()
        await ctx.say("task_cancelled")
        if ctx.conversation.dialog == report.DIALOG:
            await report.resume(ctx)


async def my_tickets(ctx: Context) -> None:
    """The resident's newest tickets: their own with what they wrote, the ones they joined (+1) with
    the public view only (handlers.timelines)."""
    tickets = await ctx.uow.tickets.for_resident(ctx.incoming.sender.user_id, limit=MY_LIMIT)
    items = [dict(own=timelines.is_reporter(ctx, t), description=t.description,
                  status=ctx.label("status_" + t.status.value), **timelines.public_context(ctx, t))
             for t in tickets]
    for item in items:
        if not item["own"]:  # a followed ticket: the public phase, and nothing its reporter wrote
            item["status"], item["description"] = item["phase"], ""
    buttons = [[Button(ctx.label("ticket_button", number=item["number"], status=item["status"]),
                       f"t:{item['number']}")] for item in items]
    await ctx.say("my_tickets", tickets=items, buttons=buttons)


async def timeline(ctx: Context) -> None:
    """A ticket's timeline, for its reporter (their own) and followers (the public view) only."""
    ctx.answer("")
    number = ctx.incoming.button_data.removeprefix("t:")
    ticket = await ctx.uow.tickets.get(number)
    if ticket is None or not may_view(ctx, ticket):
        await ctx.say("ticket_not_found", number=number[:30])
        return
    await timelines.show(ctx, ticket)


async def contact(ctx: Context) -> None:
    """A resident shares their own phone number: kept for the grid worker (who sees it masked; the
    handler alone gets it in full with 联系居民)."""
    if ctx.conversation.dialog == report.DIALOG and ctx.conversation.step == "confirm":
        await report.on_input(ctx)  # at the summary: the answer to the phone offer
        return
    incoming = ctx.incoming
    own = incoming.contact_user_id == incoming.sender.user_id and bool(incoming.phone.strip())
    if own:
        resident = await remember_resident(ctx)
        resident.phone = report.phone.shared_number(incoming.phone)
        await ctx.uow.residents.save(resident)
    await ctx.say("contact_saved" if own else "contact_not_own", remove_reply_keyboard=own)
    if ctx.conversation.dialog == report.DIALOG:
        await report.resume(ctx)


def may_view(ctx: Context, ticket: Ticket) -> bool:
    user_id = ctx.incoming.sender.user_id
    return ticket.reporter.user_id == user_id or user_id in ticket.followers


async def remember_resident(ctx: Context) -> Resident:
    """The resident's profile, created or refreshed from what the channel tells about them."""
    sender = ctx.incoming.sender
    resident = await ctx.uow.residents.get(sender.user_id)
    if resident is None:
        resident = Resident(sender.user_id, ctx.chat_id, sender.display_name, sender.username)
        await ctx.uow.residents.save(resident)
    elif (resident.display_name, resident.username, resident.chat_id) != (
        sender.display_name, sender.username, ctx.chat_id
    ):
        resident.display_name, resident.username, resident.chat_id = (
            sender.display_name, sender.username, ctx.chat_id)
        await ctx.uow.residents.save(resident)
    return resident


COMMANDS = {
    "start": start,
    "help": help_,
    "report": report_,
    "my": my_tickets,
    "home": home,
    "cancel": cancel,
    "phone": report.phone.command,
    # Staff and volunteers (handlers.staff_commands): each checks the roster and refuses politely.
    "tasks": staff_commands.tasks,
    "ticket": staff_commands.ticket,
    "grid": staff_commands.grid,
    "open": staff_commands.open_,
    "proxy": staff_commands.proxy_,
    "console": staff_commands.console,
}
