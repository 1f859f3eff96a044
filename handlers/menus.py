"""Which commands each role is offered: /help's sections and the command menu of a staff member's chat.

Everyone gets the resident's commands; staff and volunteers get theirs in front:

    grid worker       /tasks /ticket /console
    grid leader       /tasks /grid /ticket /console
    community staff   /open /tasks /ticket /console
    street staff      /tasks /ticket /console (the street's overdue tickets; any ticket of the street)
    building leader   /proxy
    partner           (copies only: nothing more)

A staff member's chat gets its own menu (Telegram's per-chat command scope) when the bot starts and
when an invite binds them (handlers.onboarding); the bot sets it (bot.menus), this decides it.
"""

from __future__ import annotations

from gridcore.community import Community, Role
from handlers.texts import Texts

RESIDENT_COMMANDS = ("report", "my", "home", "phone", "cancel", "help")
ROLE_COMMANDS: dict[Role, tuple[str, ...]] = {
    Role.GRID_WORKER: ("tasks", "ticket", "console"),
    Role.GRID_LEADER: ("tasks", "grid", "ticket", "console"),
    Role.COMMUNITY_STAFF: ("open", "tasks", "ticket", "console"),
    Role.STREET_STAFF: ("tasks", "ticket", "console"),
    Role.BUILDING_LEADER: ("proxy",),
    Role.PARTNER: (),
}
Menu = list[tuple[str, str]]  # (command, description), as Telegram's menu lists them


def roles_of(community: Community, user_id: int) -> list[Role]:
    """The roles the roster gives this account, in the order of ROLE_COMMANDS (none: a resident)."""
    held = {p.role for p in community.roles_of(user_id)}
    return [role for role in ROLE_COMMANDS if role in held]


def command_names(roles: list[Role]) -> list[str]:
    names = [name for role in roles for name in ROLE_COMMANDS[role]]
    return list(dict.fromkeys([*names, *RESIDENT_COMMANDS]))


def menu(names: list[str], texts: Texts) -> Menu:
    return [(name, texts.label(f"command_{name}")) for name in names]


def staff_menus(community: Community, texts: Texts) -> dict[int, Menu]:
    """The menu of every bound staff member whose roles add commands to the residents' menu."""
    menus: dict[int, Menu] = {}
    for person in community.staff:
        user_id = person.telegram_user_id
        if user_id is None or user_id in menus:
            continue
        names = command_names(roles_of(community, user_id))
        if len(names) > len(RESIDENT_COMMANDS):
            menus[user_id] = menu(names, texts)
    return menus
