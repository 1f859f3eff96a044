"""Commands for staff and volunteers, and the v:<ticket id> button that shows a ticket.

    /tasks            any staff          my open tickets (of this community), nearest feedback deadline
                                         first, overdue marked; a v:<id> button each. Street staff:
                                         the overdue tickets of every community of their street
    /ticket <number>  anyone with        the ticket and its timeline (staff in scope: with the reporter
                      Act.VIEW           and notes; the reporter: their own; followers: the public view,
                                         handlers.timelines); anyone else gets "没有找到", whether the
                                         ticket exists or not
    /grid             grid leaders       their grid's open tickets, grouped by handler
    /open             community staff    everything open in the community, grouped by grid; also in
                                         the staff group chat (there: no description, no resident)
    /proxy            building leaders   file for a neighbour (代办, see handlers.proxy)
    /console          any staff          a one-time login link to the web console (private chat only;
                                         gridcore.console: 10 minutes, once)

Who may is decided from the roster on every use; the others get a polite refusal and see nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import Any

from gridcore import console as console_rules
from gridcore.authorization import Act, is_staff, may
from gridcore.community import Role
from gridcore.messages import Button
from gridcore.redact import mask_phone
from gridcore.ticket import Ticket, TicketEvent, TicketStatus
from handlers import proxy, report, timelines
from handlers.cards import event_note, place_text, staff_name, viewer_buttons
from handlers.communities import street_communities
from handlers.context import Context

TASKS_LIMIT = 20
LIST_LIMIT = 300  # tickets loaded for /grid and /open; the message shows as many as fit
MAX_TEXT = 4000  # Telegram allows 4096 characters; the rendered HTML is never shorter than that
SUMMARY = 24  # characters of the description in a list line


@dataclass(frozen=True)
class Line:
    """One ticket in a list, with everything the template shows (nothing about the resident)."""

    id: int
    number: str
    category: str
    place: str
    status: str
    due: datetime
    overdue: bool
    handler: str
    summary: str  # the start of the description; empty in group chats


@dataclass(frozen=True)
class Entry:
    """One ledger event as staff see it."""

    at: datetime
    what: str
    who: str
    text: str


def overdue(ctx: Context, ticket: Ticket) -> bool:
    """The feedback deadline passed and the result has not gone back to the resident."""
    return ticket.is_open and ticket.status is not TicketStatus.RESOLVED and ticket.feedback_due_at < ctx.now


def place(ctx: Context, ticket: Ticket) -> str:
    return place_text(ctx.community, ticket.location) or ctx.label("public_place")


def line(ctx: Context, ticket: Ticket) -> Line:
    category = ctx.community.category(ticket.category_code)
    text = ticket.description.replace("\n", " ")
    assert ticket.id is not None
    return Line(ticket.id, ticket.number, category.name if category else ticket.category_code,
                place(ctx, ticket), ctx.label("status_" + ticket.status.value),
                ctx.local(ticket.feedback_due_at), overdue(ctx, ticket), staff_name(ctx, ticket.assignee),
                (text[:SUMMARY] + ("…" if len(text) > SUMMARY else "")) if ctx.chat_id > 0 else "")


def held(ctx: Context, role: Role) -> list[str | None]:
    """The grids (None: community-wide) in which the sender holds `role`."""
    return [p.grid_code for p in ctx.community.roles_of(ctx.sender_id) if p.role is role]


# --- /tasks ---------------------------------------------------------------------------------------


async def tasks(ctx: Context) -> None:
    if not is_staff(ctx.community, ctx.sender_id):
        await ctx.say("staff_only", need="staff")
        return
    if {p.role for p in ctx.community.roles_of(ctx.sender_id)} == {Role.STREET_STAFF}:
        await street_overdue(ctx)
        return
    # Only this community's: whoever is in several rosters acts in each one on its own tickets.
    tickets = [t for t in await ctx.uow.tickets.assigned_to(ctx.sender_id, limit=TASKS_LIMIT + 1)
               if t.community_code == ctx.community.code]
    lines = [line(ctx, t) for t in tickets[:TASKS_LIMIT]]
    buttons = [[Button(ctx.label("task_button", number=item.number, overdue=item.overdue), f"v:{item.id}")]
               for item in lines]
    await ctx.say("tasks", lines=lines, more=len(tickets) > TASKS_LIMIT, buttons=buttons)


async def street_overdue(ctx: Context) -> None:
    """/tasks of street office staff (街道): the overdue tickets of every community of their street, the
    most overdue first (a v:<id> button each: the ticket, read-only; the community handles it)."""
    found = []
    for community in await street_communities(ctx.uow, ctx.community):
        view = replace(ctx, community=community)  # that community's names of categories and buildings
        for ticket in await ctx.uow.tickets.open_in(community.code, limit=LIST_LIMIT):
            if overdue(view, ticket):
                found.append((ticket.feedback_due_at, community.name, line(view, ticket)))
    found.sort(key=lambda item: item[0])
    shown = found[:TASKS_LIMIT]
    buttons = [[Button(ctx.label("task_button", number=item.number, overdue=True), f"v:{item.id}")]
               for _, _, item in shown]
    await ctx.say("street_tasks", street=ctx.community.street or ctx.community.name,
                  lines=[(name, item) for _, name, item in shown], total=len(found), buttons=buttons)


# --- /grid and /open ------------------------------------------------------------------------------


async def grid(ctx: Context) -> None:
    grids = [code for code in dict.fromkeys(held(ctx, Role.GRID_LEADER)) if code is not None]
    if not grids:
        await ctx.say("staff_only", need="grid_leader")
        return
    for code in grids:
        found = ctx.community.grid(code)
        tickets = await ctx.uow.tickets.open_in(ctx.community.code, code, limit=LIST_LIMIT)
        workers = [p.telegram_user_id for p in ctx.community.people(Role.GRID_WORKER, code)]
        await send_list(ctx, "grid", found.name if found else code, tickets,
                        partial(by_handler, ctx, workers), lambda key: key[1] or ctx.label("unassigned"))


def by_handler(ctx: Context, workers: list[int | None], ticket: Ticket) -> tuple[int, str]:
    """The grid's workers in roster order, then anyone else handling (a leader, staff), then nobody."""
    if ticket.assignee is None:
        return len(workers) + 1, ""
    rank = workers.index(ticket.assignee) if ticket.assignee in workers else len(workers)
    return rank, staff_name(ctx, ticket.assignee) or str(ticket.assignee)


async def open_(ctx: Context) -> None:
    community_staff = bool(held(ctx, Role.COMMUNITY_STAFF))
    if not community_staff:
        await ctx.say("staff_only", need="community_staff")
        return
    if ctx.chat_id < 0 and ctx.chat_id != ctx.community.staff_chat_id:
        await ctx.say("private_only", bot_username=ctx.bot_username, staff_group=True)
        return
    tickets = await ctx.uow.tickets.open_in(ctx.community.code, limit=LIST_LIMIT)
    codes = [g.code for g in ctx.community.grids]

    def by_grid(ticket: Ticket) -> tuple[int, str]:
        code = ticket.grid_code
        return (codes.index(code), code) if code in codes else (len(codes), code or "")

    def title(key: tuple[int, str]) -> str:
        found = ctx.community.grid(key[1])
        return found.name if found else ctx.label("no_grid")

    await send_list(ctx, "open", ctx.community.name, tickets, by_grid, title)


GroupKey = tuple[int, str]  # (order, what the group is: a handler's name, a grid code)


async def send_list(ctx: Context, kind: str, name: str, tickets: Sequence[Ticket],
                    key: Callable[[Ticket], GroupKey], title: Callable[[GroupKey], str]) -> None:
    """Open tickets grouped (by handler or grid), earliest deadline first in each group; as many as fit."""
    lines = [(key(t), line(ctx, t)) for t in tickets]
    late = sum(item.overdue for _, item in lines)
    shown = len(lines)
    while True:
        groups: dict[tuple[int, str], list[Line]] = {}
        for group, item in sorted(lines[:shown], key=lambda pair: pair[0]):
            groups.setdefault(group, []).append(item)
        context: dict[str, Any] = dict(
            kind=kind, name=name, total=len(lines), late=late, shown=shown, private=ctx.chat_id > 0,
            groups=[(title(group), items) for group, items in groups.items()])
        if shown <= 1 or len(ctx.texts.render("staff_list", **context)) <= MAX_TEXT:
            break
        shown = max(1, shown * 3 // 4)
    await ctx.say("staff_list", **context)


# --- one ticket: /ticket <number> and the v:<id> button ----------------------------------------


async def ticket(ctx: Context) -> None:
    number = ctx.incoming.args.strip().upper()[:40]
    if not number:
        await ctx.say("ticket_usage")
        return
    found = await ctx.uow.tickets.get(number)
    if found is None or not may(ctx.community, ctx.sender_id, Act.VIEW, found):
        await ctx.say("ticket_not_found", number=number[:30])  # the same answer: existence is not told
        return
    await show(ctx, found)


async def view_button(ctx: Context) -> None:
    raw = ctx.incoming.button_data.removeprefix("v:")
    found = await ctx.uow.tickets.get_by_id(int(raw)) if raw.isdigit() else None
    if found is None or not may(ctx.community, ctx.sender_id, Act.VIEW, found):
        ctx.answer(ctx.label("ticket_gone"), alert=True)
        return
    ctx.answer("")
    await show(ctx, found)


async def show(ctx: Context, ticket: Ticket) -> None:
    """Staff in scope see the reporter (masked phone) and the notes, with the buttons their card of it
    would have now (the handler: 签收/进展/办结…; whoever may assign: 指派); the reporter their own
    timeline, followers the public view. Someone both (a worker who reported it) gets the resident's view."""
    user_id = ctx.sender_id
    if user_id == ticket.reporter.user_id or user_id in ticket.followers:
        await timelines.show(ctx, ticket)  # a follower gets the public view only
        return
    events = await ctx.uow.tickets.ledger(ticket.number)
    category = ctx.community.category(ticket.category_code)
    status = ctx.label("status_" + ticket.status.value)
    reporter = ticket.reporter
    await ctx.say("staff_ticket", ticket=ticket, category=category.name if category else ticket.category_code,
                  place=place_text(ctx.community, ticket.location), status=status,
                  handler=staff_name(ctx, ticket.assignee),
                  due=ctx.local(ticket.feedback_due_at), overdue=overdue(ctx, ticket),
                  anonymous=reporter.anonymous, reporter_name=reporter.display_name,
                  reporter_phone=mask_phone(reporter.phone),
                  filer=staff_name(ctx, ticket.filed_by) if ticket.filed_by is not None else None,
                  entries=[entry(ctx, e) for e in events], ticket_number=ticket.number,
                  buttons=viewer_buttons(ctx, ticket))


def entry(ctx: Context, event: TicketEvent) -> Entry:
    kind, _, who = event.actor.partition(":")
    name = staff_name(ctx, int(who)) if kind == "staff" and who.isdigit() else ""
    return Entry(ctx.local(event.at), ctx.label("action_" + event.action.value), name,
                 event_note(ctx, event)[:100])


# --- /proxy ---------------------------------------------------------------------------------------


async def proxy_(ctx: Context) -> None:
    leader = proxy.building_leader(ctx.community, ctx.sender_id)
    if leader is None:
        await ctx.say("staff_only", need="building_leader")
    elif ctx.conversation.dialog == report.DIALOG:
        await ctx.say("dialog_continues")
        await report.resume(ctx)
    elif ctx.conversation.dialog is not None:
        await ctx.say("finish_task_first")
    else:
        await report.advance(ctx, proxy.new_draft(leader))


# --- /console --------------------------------------------------------------------------------------


async def console(ctx: Context) -> None:
    """A one-time link that logs this staff member in to the web console. Only its token's hash is
    stored; the link itself exists only in this private chat."""
    if not is_staff(ctx.community, ctx.sender_id):
        await ctx.say("staff_only", need="staff")
        return
    if not ctx.console_url:
        await ctx.say("console_off")
        return
    token = console_rules.new_secret()
    expires = ctx.now + console_rules.LOGIN_VALID
    await ctx.uow.console.add_login(console_rules.secret_hash(token), ctx.sender_id, ctx.now, expires)
    await ctx.say("console_link", url=f"{ctx.console_url.rstrip('/')}/login/{token}",
                  minutes=int(console_rules.LOGIN_VALID.total_seconds() // 60), expires=ctx.local(expires))


# --- in group chats -------------------------------------------------------------------------------


async def private_only(ctx: Context) -> None:
    await ctx.say("private_only", bot_username=ctx.bot_username, staff_group=False)


# Staff commands a group chat answers: /open lists (safely) in the staff group; the others say to
# write privately, so nothing about a resident is ever shown in a group.
IN_GROUPS: dict[str, Callable[[Context], Coroutine[Any, Any, None]]] = {
    "open": open_, "tasks": private_only, "ticket": private_only, "grid": private_only,
    "proxy": private_only, "console": private_only,
}
