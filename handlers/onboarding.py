"""Staff onboarding: `/start inv_<code>` binds the sender's Telegram account to a roster entry.

    gridbot invite ... --prints--> t.me/<bot>?start=inv_<code>
    /start inv_<code> -> take_invite (one-time, unexpired)
        None                               -> refused (the sender is staff already: "已绑定为 ...")
        the entry left the roster          -> refused ("gone")
        the entry is this account already  -> "已绑定"
        else bind -> the roster shows the id? yes -> "已绑定为 ..." / no (the roster names another
                                                     account, and roster ids win) -> refused ("taken")
Nothing changes for a refused code. The binding lives in storage beside the roster, so a roster reload
keeps it (RosterRepository.get() merges it into entries that have no Telegram id of their own).
"""

from __future__ import annotations

import re

from gridcore.community import Community, Person
from gridcore.posters import feedback_promise
from gridcore.staff import INVITE_PREFIX, find_person
from handlers import menus
from handlers.context import Context

PAYLOAD = re.compile(rf"^{re.escape(INVITE_PREFIX)}([A-Za-z0-9_-]{{1,60}})$")


def is_invite(payload: str) -> bool:
    return payload.startswith(INVITE_PREFIX)


async def open_invite(ctx: Context) -> None:
    match = PAYLOAD.match(ctx.incoming.args)
    user_id = ctx.sender_id
    invite = await ctx.uow.staff.take_invite(match.group(1), user_id, ctx.now) if match else None
    if invite is None:  # unknown, used or expired: nothing changes
        already = ctx.community.roles_of(user_id)
        await ctx.say("invite_refused", reason="invalid", **described(ctx.community, already))
        return
    community = ctx.community
    if invite.community_code != community.code:
        community = await ctx.uow.roster.get(invite.community_code) or community
    person = find_person(community, invite.person_key)
    if person is None:  # the roster no longer has this entry
        await ctx.say("invite_refused", reason="gone", **described(community, ()))
        return
    if person.telegram_user_id == user_id:
        await ctx.say("invite_bound", already=True, commands=staff_menu(ctx, community, user_id),
                      **described(community, (person,)))
        return
    await ctx.uow.staff.bind(invite.community_code, invite.person_key, user_id, ctx.now)
    reloaded = await ctx.uow.roster.get(invite.community_code)
    now_bound = find_person(reloaded, invite.person_key) if reloaded else None
    if now_bound is None or now_bound.telegram_user_id != user_id:
        # The roster itself names another account for this entry, and roster ids win over bindings.
        await ctx.say("invite_refused", reason="taken", **described(community, (person,)))
        return
    await ctx.say("invite_bound", already=False, commands=staff_menu(ctx, reloaded or community, user_id),
                  **described(community, (now_bound,)))


def staff_menu(ctx: Context, community: Community, user_id: int) -> menus.Menu:
    """The commands of every role the account now holds: named in the reply, and set as the chat's
    own command menu after the commit (Context.menus)."""
    menu = menus.menu(menus.command_names(menus.roles_of(community, user_id)), ctx.texts)
    ctx.menus[user_id] = menu
    return menu


def described(community: Community, people: tuple[Person, ...] | list[Person]) -> dict:
    """What the invite templates show of roster entries: role, grid name, name, building."""
    return {
        "community": community.name,
        "promise": feedback_promise(community),
        "people": [
            {
                "name": p.name,
                "role": p.role.value,
                "title": p.title,
                "grid": (grid.name if (grid := community.grid(p.grid_code or "")) else ""),
                "building": community.place_name(community.building(p.building_code or "")),
            }
            for p in people
        ],
    }
