"""The community directory: what picking the community of an update needs, for every community at once.

One deployment may serve hundreds of communities (a city's street offices). Which community an update
is about is decided from a few facts per community — its code and name, its street office, the group
chats that are its own, the Telegram accounts of its staff — so that only the picked community's full
roster (grids, buildings, categories, staff) has to be read. The street staff entries themselves are
kept too (a few per community), so a community can carry its sibling communities' street staff
without their rosters being read.

Staff accounts are the roster's ids and those an invite bound to an entry without one (roster ids
win), as Community.staff has them once read.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from gridcore.community import Community, Person, Role

__all__ = ["CommunityDirectory", "DirectoryEntry"]


@dataclass(frozen=True)
class DirectoryEntry:
    code: str
    name: str
    street: str | None
    own_chats: frozenset[int]  # staff group, public group, every grid's group
    street_chat_id: int | None  # the street office's group (shared by the street's communities)
    staff_ids: frozenset[int]  # accounts holding a community role (anything but street staff)
    street_staff_ids: frozenset[int]
    street_staff: tuple[Person, ...]  # in roster order

    @classmethod
    def build(cls, code: str, name: str, street: str | None, own_chats: Iterable[int | None],
              street_chat_id: int | None, staff: Iterable[Person]) -> DirectoryEntry:
        """`staff`: the roster's entries in roster order, bindings applied; only street staff need more
        than role and account."""
        people = tuple(staff)
        return cls(
            code=code, name=name, street=street,
            own_chats=frozenset(c for c in own_chats if c is not None),
            street_chat_id=street_chat_id,
            staff_ids=frozenset(p.telegram_user_id for p in people
                                if p.role is not Role.STREET_STAFF and p.telegram_user_id is not None),
            street_staff_ids=frozenset(p.telegram_user_id for p in people
                                       if p.role is Role.STREET_STAFF and p.telegram_user_id is not None),
            street_staff=tuple(p for p in people if p.role is Role.STREET_STAFF),
        )

    @classmethod
    def of(cls, community: Community) -> DirectoryEntry:
        return cls.build(community.code, community.name, community.street,
                         (community.staff_chat_id, community.public_chat_id,
                          *(g.group_chat_id for g in community.grids)),
                         community.street_chat_id, community.staff)


class CommunityDirectory:
    """Every community's entry, in code order."""

    def __init__(self, entries: Iterable[DirectoryEntry]) -> None:
        self.entries: tuple[DirectoryEntry, ...] = tuple(sorted(entries, key=lambda e: e.code))
        self._by_code = {e.code: e for e in self.entries}

    @classmethod
    def of(cls, communities: Iterable[Community]) -> CommunityDirectory:
        return cls(DirectoryEntry.of(c) for c in communities)

    def __len__(self) -> int:
        return len(self.entries)

    def __bool__(self) -> bool:
        return bool(self.entries)

    def codes(self) -> list[str]:
        return [e.code for e in self.entries]

    def names(self) -> list[tuple[str, str]]:
        """(code, name) of every community, in code order: what the community question lists."""
        return [(e.code, e.name) for e in self.entries]

    def find(self, code: str | None) -> DirectoryEntry | None:
        return self._by_code.get(code) if code else None

    def by_chat(self, chat_id: int) -> DirectoryEntry | None:
        """The community a group chat belongs to: its own group first, else its street office's group
        (the first community of that street, by code)."""
        own = next((e for e in self.entries if chat_id in e.own_chats), None)
        return own or next((e for e in self.entries if e.street_chat_id == chat_id), None)

    def by_staff(self, user_id: int) -> DirectoryEntry | None:
        """The first community (by code) where this account holds a community role, else the first
        where it is street staff."""
        direct = next((e for e in self.entries if user_id in e.staff_ids), None)
        return direct or next((e for e in self.entries if user_id in e.street_staff_ids), None)

    def street_of(self, code: str) -> list[DirectoryEntry]:
        """The communities of `code`'s street office, in code order (itself alone without a street)."""
        entry = self._by_code.get(code)
        if entry is None:
            return []
        if entry.street is None:
            return [entry]
        return [e for e in self.entries if e.street == entry.street]

    def street_staff_for(self, community: Community) -> Sequence[Person]:
        """The street staff of `community`'s sibling communities that its own roster lacks (each once,
        by account), sibling by sibling in code order."""
        if community.street is None:
            return ()
        present = {p.telegram_user_id for p in community.staff if p.role is Role.STREET_STAFF}
        extra: list[Person] = []
        for sibling in (e for e in self.entries if e.street == community.street):
            for person in sibling.street_staff:
                if sibling.code != community.code and person.telegram_user_id not in present:
                    present.add(person.telegram_user_id)
                    extra.append(person)
        return extra
