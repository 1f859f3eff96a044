"""gridcore.directory: picking the community of an update from a few facts per community (no I/O)."""

from __future__ import annotations

from dataclasses import replace

from gridcore.community import Community, Grid, Person, Role
from gridcore.directory import CommunityDirectory, DirectoryEntry

STREET = "城东街道"


def community(code: str, *, street: str | None = STREET, chats: int = 0, staff: tuple[Person, ...] = (),
              street_chat_id: int | None = -900) -> Community:
    return Community(code=code, name=f"{code}社区", staff_chat_id=-chats - 1 if chats else None,
                     public_chat_id=-chats - 2 if chats else None, street=street,
                     street_chat_id=street_chat_id,
                     grids=(Grid("1", "一网格", -chats - 11 if chats else None), Grid("2", "二网格", None)),
                     staff=staff)


def test_an_entry_keeps_its_own_chats_and_splits_community_from_street_staff() -> None:
    boss = Person("王主任", Role.COMMUNITY_STAFF, telegram_user_id=11)
    walker = Person("李街道", Role.STREET_STAFF, telegram_user_id=99, phone="13800000000")
    unbound = Person("赵街道", Role.STREET_STAFF)
    entry = DirectoryEntry.of(community("A", chats=100, staff=(boss, walker, unbound)))
    assert entry.own_chats == frozenset({-101, -102, -111})  # a grid without a group adds nothing
    assert entry.street_chat_id == -900 and entry.street == STREET and entry.name == "A社区"
    assert entry.staff_ids == frozenset({11}) and entry.street_staff_ids == frozenset({99})
    assert entry.street_staff == (walker, unbound)  # whole entries, in roster order


def test_a_group_is_its_own_communitys_before_it_is_a_street_group() -> None:
    a = community("A", chats=100)
    b = community("B", chats=200, street_chat_id=-101)  # B's street group is A's staff group
    directory = CommunityDirectory.of([b, a])
    assert directory.codes() == ["A", "B"]
    assert directory.by_chat(-101).code == "A"
    assert directory.by_chat(-211).code == "B"
    assert directory.by_chat(-900).code == "A"  # the street group: the street's first community
    assert directory.by_chat(-5) is None


def test_staff_are_found_where_they_hold_a_community_role_first() -> None:
    walker = Person("李街道", Role.STREET_STAFF, telegram_user_id=7)
    as_staff = Person("李街道", Role.COMMUNITY_STAFF, telegram_user_id=7)
    directory = CommunityDirectory.of([
        community("A", staff=(walker,)), community("C", staff=(as_staff,)), community("D", staff=(as_staff,)),
        community("B", staff=(walker,))])
    assert directory.by_staff(7).code == "C"
    assert CommunityDirectory.of([community("B", staff=(walker,)), community("A", staff=(walker,))]
                                 ).by_staff(7).code == "A"
    assert directory.by_staff(8) is None


def test_find_names_street_of() -> None:
    directory = CommunityDirectory.of([community("B"), community("A"), community("Z", street="别的街道"),
                                       community("N", street=None)])
    assert directory.find("B").name == "B社区"
    assert directory.find("X") is None and directory.find(None) is None
    assert directory.names() == [("A", "A社区"), ("B", "B社区"), ("N", "N社区"), ("Z", "Z社区")]
    assert [e.code for e in directory.street_of("B")] == ["A", "B"]
    assert [e.code for e in directory.street_of("N")] == ["N"]
    assert directory.street_of("X") == []
    assert len(directory) == 4 and not CommunityDirectory(())


def test_a_community_carries_its_siblings_street_staff_once_each() -> None:
    walker = Person("李街道", Role.STREET_STAFF, telegram_user_id=7)
    other = Person("周街道", Role.STREET_STAFF, telegram_user_id=8)
    a = community("A", staff=(walker,))
    b = community("B", staff=(Person("王主任", Role.COMMUNITY_STAFF, telegram_user_id=1),))
    c = community("C", staff=(other, walker))
    far = community("F", street="别的街道", staff=(Person("远", Role.STREET_STAFF, telegram_user_id=9),))
    directory = CommunityDirectory.of([a, b, c, far])
    assert list(directory.street_staff_for(b)) == [walker, other]
    assert list(directory.street_staff_for(a)) == [other]  # its own walker is not added again
    assert list(directory.street_staff_for(replace(b, street=None))) == []
