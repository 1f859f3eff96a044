"""The ticket list and one ticket's page.

    GET <base>/tickets            the filter form (web.filters), 50 a page with the total; descriptions
                                  through the redactor (a list is for many eyes)
    GET <base>/tickets/<number>   what the handler's card shows, the whole ledger, photos, the voice
                                  note, and a form for each action the viewer may take now

A ticket outside what the viewer may see (gridcore.authorization Act.VIEW) is a 403, whether it exists
or not. The full text (what the resident wrote, their name, a masked phone, the voice note) is for the
handling chain only: the handler, the grid's leader, community staff (Act.ACCEPT's holders); any other
viewer (a grid worker of the grid, street staff) reads it redacted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from gridcore.authorization import Act, may
from gridcore.community import Community
from gridcore.ports import UnitOfWork
from gridcore.redact import mask_phone, redact
from gridcore.ticket import Action, Ticket, TicketEvent, Urgency
from gridcore.ticket_query import PAGE_SIZE, is_overdue
from handlers import ticket_actions
from handlers.cards import event_note, handling_round, known_names, place_text, staff_name
from handlers.context import Context
from handlers.staff_commands import Entry  # one ledger line as staff read it, in chat (/ticket) and here
from web.exports import export_form_link, export_link
from web.filters import FLAGS, OPEN, Choice, choices, read_form
from web.state import Console, console_of, viewer_of
from web.viewer import Viewer, acting_context

SUMMARY = 40  # characters of a description in the list
# The console's forms.
ACTS = (Act.ACCEPT, Act.PROGRESS, Act.RESOLVE, Act.TRANSFER, Act.ESCALATE, Act.ASSIGN, Act.RECATEGORISE,
        Act.SET_PRIORITY)


@dataclass(frozen=True)
class Row:
    number: str
    community: str
    filed: datetime
    place: str
    category: str
    status: str
    level: str  # 一般 / 紧急 / 重大
    handler: str
    due: datetime
    overdue: bool
    summary: str  # redacted


def label(console: Console, name: str, **context: Any) -> str:
    return console.config.texts.label(name, **context)


def place(console: Console, community: Community, ticket: Ticket) -> str:
    return place_text(community, ticket.location) or label(console, "public_place")


def row(console: Console, community: Community, ticket: Ticket, now: datetime) -> Row:
    category = community.category(ticket.category_code)
    names = (ticket.reporter.display_name,) if ticket.reporter.display_name else ()
    text = redact(" ".join(ticket.description.split()), names)
    zone = ZoneInfo(community.timezone)
    return Row(ticket.number, community.name, ticket.created_at.astimezone(zone),
               place(console, community, ticket),
               category.name if category else ticket.category_code,
               label(console, "status_" + ticket.status.value),
               label(console, "priority_" + ticket.urgency.value), person_name(community, ticket.assignee),
               ticket.feedback_due_at.astimezone(zone), is_overdue(ticket, now),
               text[:SUMMARY] + ("…" if len(text) > SUMMARY else ""))


def export_links(base: str, form: dict[str, str]) -> dict[str, str]:
    return {"xlsx": export_link(base, form, "xlsx"), "csv": export_link(base, form, "csv"),
            "form": export_form_link(base, form)}


def person_name(community: Community, user_id: int | None) -> str:
    if user_id is None:
        return ""
    return next((p.name for p in community.staff if p.telegram_user_id == user_id), "")


async def ticket_list(request: web.Request) -> web.StreamResponse:
    console, viewer = console_of(request), viewer_of(request)
    config = console.config
    now = config.clock()
    first = next(iter(viewer.communities.values()), None)
    wanted = read_form(request.query, viewer.communities, viewer.scope,
                       first.timezone if first else "Asia/Shanghai")
    rows: list[Row] = []
    total = 0
    if not viewer.scope.empty:
        async with config.units() as uow:
            found = await uow.tickets.search(wanted.query, now, limit=PAGE_SIZE, offset=wanted.offset)
        total = found.total
        rows = [row(console, viewer.communities[t.community_code], t, now) for t in found.tickets
                if t.community_code in viewer.communities]
    pages = max(1, -(-total // PAGE_SIZE))
    unfinished = console.config.texts.label_in("console", "open_statuses")
    statuses = [(OPEN, unfinished)] + [(s, label(console, "status_" + s)) for s in (
        "submitted", "assigned", "accepted", "escalated", "transferred", "reopened", "resolved", "closed",
        "withdrawn")]
    return console.page(request, "tickets", nav="tickets", rows=rows, total=total, page=wanted.page,
                        pages=pages, form=wanted.form, links={n: wanted.link(n) for n in (
                            wanted.page - 1, wanted.page + 1) if 1 <= n <= pages},
                        choices=choices(viewer.communities, viewer.scope), statuses=statuses, flags=FLAGS,
                        levels=[Choice(u.value, label(console, f"priority_{u.value}")) for u in Urgency],
                        several=len(viewer.communities) > 1, nothing=viewer.scope.empty,
                        export_links=export_links(console.base, wanted.form))


async def visible_ticket(uow: UnitOfWork, viewer: Viewer, number: str) -> tuple[Ticket, Community] | None:
    """The ticket and its community's roster, if the viewer may see it (else None, existing or not)."""
    ticket = await uow.tickets.get(number.strip().upper()[:40])
    community = viewer.communities.get(ticket.community_code) if ticket is not None else None
    if ticket is None or community is None or not may(community, viewer.user_id, Act.VIEW, ticket):
        return None
    return ticket, community


def sees_full_text(community: Community, viewer: Viewer, ticket: Ticket) -> bool:
    """The handling chain: the handler, the grid's leader, community staff (gridcore.authorization)."""
    return may(community, viewer.user_id, Act.ACCEPT, ticket)


def actor_name(console: Console, community: Community, actor: str) -> str:
    kind, _, who = actor.partition(":")
    if kind == "staff" and who.isdigit():
        return person_name(community, int(who)) or console.config.texts.label_in("console", "actor_staff")
    if kind in ("resident", "system"):
        return console.config.texts.label_in("console", f"actor_{kind}")
    return ""


def entry(console: Console, ctx: Context, event: TicketEvent, names: tuple[str, ...] | None) -> Entry:
    """One ledger line; `names` None: the viewer sees the full text, else it is redacted (with these)."""
    text = event_note(ctx, event)
    if names is not None:
        text = redact(text, names)
    return Entry(ctx.local(event.at), label(console, "action_" + event.action.value),
                 actor_name(console, ctx.community, event.actor), text)


def result_photos(events: list[TicketEvent]) -> list[str]:
    return [str(p) for e in events if e.action is Action.RESOLVE for p in e.details.get("photos") or ()]


def photo_ids(ticket: Ticket, events: list[TicketEvent]) -> list[str]:
    """The resident's photos, then the handler's result photos: /photo/<index> is an index into these."""
    return [*ticket.photos, *result_photos(events)]


async def ticket_page(request: web.Request) -> web.StreamResponse:
    console, viewer = console_of(request), viewer_of(request)
    config = console.config
    async with config.units() as uow:
        found = await visible_ticket(uow, viewer, request.match_info["number"])
        if found is None:
            return console.refuse(request, "ticket")
        ticket, community = found
        ctx = acting_context(uow, viewer, community, config.texts, config.clock())
        events = list(await uow.tickets.ledger(ticket.number))
        full = sees_full_text(community, viewer, ticket)
        names = None if full else await known_names(ctx, ticket)
        round_ = await handling_round(ctx, ticket)
        acts = [act.value for act in ACTS if ticket_actions.allowed(ctx, ticket, act).ok]
        transfer = ticket_actions.transfer_targets(ctx, ticket) if Act.TRANSFER.value in acts else []
        assign = ticket_actions.assign_targets(ctx, ticket) if Act.ASSIGN.value in acts else []
        replies = {kind: community.replies_for(ticket.category_code, kind) if kind in acts else ()
                   for kind in (Act.PROGRESS.value, Act.RESOLVE.value)}
        categories = (ticket_actions.recategorise_targets(ctx, ticket)
                      if Act.RECATEGORISE.value in acts else [])
        levels = [(level.value, ctx.label(f"priority_{level.value}"))
                  for level in ticket_actions.priority_targets(ticket) if Act.SET_PRIORITY.value in acts]
        context = card_context(console, ctx, ticket, full, names)
        timeline = [entry(console, ctx, e, names) for e in events]
    photos = photo_ids(ticket, events)
    return console.page(request, "ticket", nav="tickets", ticket_number=ticket.number, **context,
                        round=round_.number, reopen_reason=round_.reason if full else "",
                        timeline=timeline, own_photos=len(ticket.photos),
                        result_photos=len(photos) - len(ticket.photos),
                        voice=bool(ticket.voice) and full, acts=acts,
                        transfer_targets=transfer, assign_targets=assign, replies=replies,
                        categories=categories, levels=levels)


def card_context(console: Console, ctx: Context, ticket: Ticket, full: bool,
                 names: tuple[str, ...] | None) -> dict[str, Any]:
    """What the handler's card shows (handlers.cards.render_card), as plain values."""
    community = ctx.community
    category = community.category(ticket.category_code)
    reporter = ticket.reporter
    rating = ticket.rating
    hidden = names or ()
    return dict(
        community=community.name, category=category.name if category else ticket.category_code,
        mode=category.mode.value if category else "",
        co_handler=(category.co_handler or "") if category else "",
        place=place(console, community, ticket), state=label(console, "status_" + ticket.status.value),
        urgent=ticket.urgency.raised, level=label(console, "priority_" + ticket.urgency.value),
        filed=ctx.local(ticket.created_at),
        due=ctx.local(ticket.feedback_due_at), overdue=is_overdue(ticket, ctx.now),
        handler=staff_name(ctx, ticket.assignee), grid=(community.grid(ticket.grid_code or "") or None),
        anonymous=reporter.anonymous,
        reporter_name=reporter.display_name if full and not reporter.anonymous else "",
        reporter_phone=mask_phone(reporter.phone) if full and not reporter.anonymous else "",
        filer=person_name(community, ticket.filed_by) if ticket.filed_by is not None else "",
        description=ticket.description if full else redact(ticket.description, hidden),
        detail=ticket.location.detail if full else redact(ticket.location.detail, hidden),
        full=full, rating=rating_lines(console, ticket) if rating is not None else [])


def rating_lines(console: Console, ticket: Ticket) -> list[str]:
    rating = ticket.rating
    assert rating is not None
    lines = []
    if rating.contacted is not None:
        lines.append(label(console, f"rate_c_{int(rating.contacted)}"))
    if rating.solved is not None:
        lines.append(label(console, f"rate_s_{rating.solved.value}"))
    if rating.satisfaction is not None:
        lines.append(label(console, f"rate_f_{rating.satisfaction.value}"))
    return lines
