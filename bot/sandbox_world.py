"""The local sandbox's world, drawn from the roster(s): who its page offers to chat as (sample residents,
then the roster's bound staff) and which group chats exist (the staff group and each grid's group).
With several communities (a street office's deployment) the world holds all of them: each person once
(a street_staff may be listed in more than one roster), each label naming the community."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

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


def _staff_personas(community: Community, prefix: str) -> list[dict]:
    personas = []
    for person in community.staff:
        if person.telegram_user_id is None:
            continue
        grid = community.grid(person.grid_code) if person.grid_code else None
        label = ROLE_LABELS.get(person.role, person.role.value) + (f" · {grid.name}" if grid else "")
        if person.role is Role.STREET_STAFF and community.street:
            label = f"{community.street} {label}"  # the whole street, not this one community
        elif prefix:
            label = f"{prefix} {label}"
        personas.append({"id": person.telegram_user_id, "name": person.name,
                         "username": person.username, "role_label": label})
    return personas


def personas_for(community: Community | None) -> list[dict]:
    """Who the sandbox page offers to chat as: sample residents, then the roster's staff."""
    return personas_for_all([community] if community is not None else [])


def personas_for_all(communities: Sequence[Community]) -> list[dict]:
    """personas_for() over several communities: sample residents, then each community's staff, labelled
    with the community's name when there is more than one; a person listed twice appears once."""
    personas, seen = list(SAMPLE_RESIDENTS), set()
    for community in communities:
        prefix = community.name if len(communities) > 1 else ""
        for persona in _staff_personas(community, prefix):
            key = (persona["id"], persona["role_label"])
            if key not in seen:
                seen.add(key)
                personas.append(persona)
    return personas


def ids(people: Iterable[Person]) -> list[int]:
    return [p.telegram_user_id for p in people if p.telegram_user_id is not None]


def groups_for(community: Community | None) -> list[dict]:
    """The roster's group chats, made to exist in the sandbox: the staff group and each grid's group."""
    return groups_for_all([community] if community is not None else [])


def groups_for_all(communities: Sequence[Community]) -> list[dict]:
    """groups_for() over several communities, and each street office's group (street_chat_id) once, its
    members the street staff of every community of that street."""
    groups: list[dict] = []
    streets: dict[int, dict] = {}
    for community in communities:
        if community.staff_chat_id is not None:
            groups.append({"id": community.staff_chat_id, "title": f"{community.name} 工作群",
                           "member_ids": ids(community.people(Role.COMMUNITY_STAFF))})
        for grid in community.grids:
            if grid.group_chat_id is not None:
                members = [p for p in community.staff if p.grid_code == grid.code]
                groups.append({"id": grid.group_chat_id, "title": f"{community.name} {grid.name}",
                               "member_ids": ids(members)})
        if community.street and community.street_chat_id is not None:
            street = streets.setdefault(community.street_chat_id, {
                "id": community.street_chat_id, "title": f"{community.street} 工作群", "member_ids": []})
            street["member_ids"].extend(i for i in ids(community.people(Role.STREET_STAFF))
                                        if i not in street["member_ids"])
    return groups + list(streets.values())
