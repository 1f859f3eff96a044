"""Staff onboarding: a roster entry is bound to a Telegram account by a one-time invite."""

from __future__ import annotations

from gridcore.community import Community, Person, Role

INVITE_PREFIX = "inv_"  # deep-link payload: inv_<code>, 1–64 of [A-Za-z0-9_-]


def person_key(person: Person) -> str:
    """How a roster entry is named across reloads: role, grid and name."""
    return f"{person.role.value}|{person.grid_code or ''}|{person.name}"


def find_person(community: Community, key: str) -> Person | None:
    return next((p for p in community.staff if person_key(p) == key), None)


def invite_target(community: Community, role: Role, grid_code: str | None, name: str | None) -> Person:
    """The one roster entry an invite is for; ValueError naming the choices when it is not clear."""
    candidates = [p for p in community.people(role, grid_code) if name is None or p.name == name]
    if len(candidates) == 1:
        return candidates[0]
    where = f" in grid {grid_code}" if grid_code else ""
    if not candidates:
        raise ValueError(f"the roster has no {role.value}{where}" + (f" named {name}" if name else ""))
    names = ", ".join(p.name for p in candidates)
    raise ValueError(f"several {role.value}s{where} ({names}): say which with --name")
