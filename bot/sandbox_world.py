"""The local sandbox's world, drawn from the roster: who its page offers to chat as (sample residents,
then the roster's bound staff) and which group chats exist (the staff group and each grid's group)."""

from __future__ import annotations

from collections.abc import Iterable

from gridcore.community import Community, Person, Role

# How the CLI and the sandbox page name a roster role.
ROLE_LABELS = {
    Role.GRID_WORKER: "网格员", Role.GRID_LEADER: "网格长", Role.BUILDING_LEADER: "楼栋长",
    Role.COMMUNITY_STAFF: "社区工作人员", Role.STREET_STAFF: "街道工作人员", Role.RESIDENT: "居民",
    Role.PARTNER: "共建单位",
}
SAMPLE_RESIDENTS = [
    {"id": 5001, "name": "张阿姨", "role_label": "居民（示例）"},
    {"id": 5002, "name": "李叔", "role_label": "居民（示例）"},
    {"id": 5003, "name": "王姐", "role_label": "居民（示例）"},
]


def personas_for(community: Community | None) -> list[dict]:
    """Who the sandbox page offers to chat as: sample residents, then the roster's staff."""
    personas = list(SAMPLE_RESIDENTS)
    for person in community.staff if community else ():
        if person.telegram_user_id is None:
            continue
        grid = community.grid(person.grid_code) if person.grid_code else None
        label = ROLE_LABELS.get(person.role, person.role.value) + (f" · {grid.name}" if grid else "")
        personas.append({"id": person.telegram_user_id, "name": person.name,
                         "username": person.username, "role_label": label})
    return personas


def ids(people: Iterable[Person]) -> list[int]:
    return [p.telegram_user_id for p in people if p.telegram_user_id is not None]


def groups_for(community: Community | None) -> list[dict]:
    """The roster's group chats, made to exist in the sandbox: the staff group and each grid's group."""
    if community is None:
        return []
    groups = []
    if community.staff_chat_id is not None:
        groups.append({"id": community.staff_chat_id, "title": f"{community.name} 工作群",
                       "member_ids": ids(community.people(Role.COMMUNITY_STAFF))})
    for grid in community.grids:
        if grid.group_chat_id is not None:
            members = [p for p in community.staff if p.grid_code == grid.code]
            groups.append({"id": grid.group_chat_id, "title": f"{community.name} {grid.name}",
                           "member_ids": ids(members)})
    return groups
