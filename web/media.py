"""A ticket's photos and voice note, fetched from Telegram for a viewer who may see the ticket.

    GET <base>/tickets/<number>/photo/<index>   the resident's photos, then the result photos
    GET <base>/tickets/<number>/voice           the voice note: the handling chain only (it is the
                                                resident's own voice, as cards keep it out of groups)

Only the ticket's own files are served (by position, never a file id from the URL).
"""

from __future__ import annotations

import logging

from aiohttp import web

from web.state import console_of, viewer_of
from web.tickets import photo_ids, sees_full_text, visible_ticket

log = logging.getLogger(__name__)
PRIVATE_CACHE = {"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"}


async def fetched(request: web.Request, file_id: str, content_type: str) -> web.StreamResponse:
    console = console_of(request)
    try:
        body = await console.config.fetch_file(file_id)
    except Exception as error:  # Telegram unreachable, the file gone: the page shows a broken image
        log.warning("console: a ticket's file could not be fetched (%s)", type(error).__name__)
        return web.Response(status=502, text=console.config.texts.label_in("console", "file_unavailable"))
    return web.Response(body=body, content_type=content_type, headers=PRIVATE_CACHE)


async def photo(request: web.Request) -> web.StreamResponse:
    console, viewer = console_of(request), viewer_of(request)
    async with console.config.units() as uow:
        found = await visible_ticket(uow, viewer, request.match_info["number"])
        if found is None:
            return console.refuse(request, "ticket")
        ticket, _ = found
        photos = photo_ids(ticket, list(await uow.tickets.ledger(ticket.number)))
    index = request.match_info["index"]
    if not index.isdigit() or int(index) >= len(photos):
        return console.refuse(request, "file", status=404)
    return await fetched(request, photos[int(index)], "image/jpeg")


async def voice(request: web.Request) -> web.StreamResponse:
    console, viewer = console_of(request), viewer_of(request)
    async with console.config.units() as uow:
        found = await visible_ticket(uow, viewer, request.match_info["number"])
    if found is None:
        return console.refuse(request, "ticket")
    ticket, community = found
    if not sees_full_text(community, viewer, ticket):
        return console.refuse(request, "voice")
    if not ticket.voice:
        return console.refuse(request, "file", status=404)
    return await fetched(request, ticket.voice, "audio/ogg")
