"""gridcore.console: who logs in to the web console, and which tickets each staff member's list holds."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from dialog_support import example_community

from gridcore.community import Community, Person, Role
from gridcore.console import may_log_in, scope_for, secret_hash, staff_community_codes
from gridcore.directory import CommunityDirectory
from gridcore.ticket import Location, Reporter, Ticket

WORKER_1, LEADER_2, STAFF, BUILDING_LEADER, PARTNER = 1011, 1022, 1001, 1031, 1041
RESIDENT, STREET = 5001, 9001


def street_pair() -> tuple[Community, Community]:
    """兴康 (the example) and a sibling of the same street whose roster lists the street's staff."""
    xk = example_community()
    sibling = Community("HX", "和祥社区", street=xk.street,
                        staff=(Person("周文斌", Role.STREET_STAFF, None, STREET),
                               Person("王芳", Role.GRID_WORKER, "1", WORKER_1)))  # in both rosters
    return xk, sibling


def ticket(community: str, grid: str | None) -> Ticket:
    return Ticket.file(number=f"{community}-1", community_code=community, category_code="env",
                       feedback_deadline=timedelta(days=3), description="楼道堆物", location=Location("1"),
                       reporter=Reporter(RESIDENT, RESIDENT), at=datetime(2026, 12, 1, tzinfo=UTC),
                       grid_code=grid)


def test_grid_staff_see_their_grids_community_and_street_staff_whole_communities():
    xk, hx = street_pair()
    directory = CommunityDirectory.of([xk, hx])
    xk_seen = replace(xk, staff=(*xk.staff, *directory.street_staff_for(xk)))  # with_street

    worker = scope_for(WORKER_1, [xk_seen, hx])
    assert worker.communities == frozenset() and worker.grids == {("XK", "1"), ("HX", "1")}
    assert worker.covers(ticket("XK", "1")) and not worker.covers(ticket("XK", "2"))
    assert not worker.covers(ticket("XK", None))  # a ticket in no grid: community staff's

    assert scope_for(LEADER_2, [xk_seen]).grids == {("XK", "2")}
    staff = scope_for(STAFF, [xk_seen, hx])
    assert staff.communities == {"XK"} and staff.covers(ticket("XK", None))
    assert not staff.covers(ticket("HX", "1"))
    street = scope_for(STREET, [xk_seen, hx])
    assert street.communities == {"XK", "HX"}
    for nobody in (BUILDING_LEADER, PARTNER, RESIDENT):
        assert scope_for(nobody, [xk_seen, hx]).empty


def test_a_community_role_covers_grid_roles_of_the_same_community():
    xk = example_community()
    both = replace(xk, staff=(*xk.staff, Person("王芳", Role.COMMUNITY_STAFF, None, WORKER_1)))
    scope = scope_for(WORKER_1, [both])
    assert scope.communities == {"XK"} and scope.grids == frozenset()


def test_the_communities_to_load_include_the_whole_street_of_street_staff():
    xk, hx = street_pair()
    other = Community("ZZ", "别的社区", staff=(Person("某人", Role.GRID_WORKER, "1", 7777),))
    directory = CommunityDirectory.of([xk, hx, other])
    assert staff_community_codes(directory, STREET) == ["HX", "XK"]
    assert staff_community_codes(directory, WORKER_1) == ["HX", "XK"]
    assert staff_community_codes(directory, STAFF) == ["XK"]
    assert staff_community_codes(directory, RESIDENT) == []


def test_any_role_but_resident_logs_in():
    xk = example_community()
    resident_entry = replace(xk, staff=(*xk.staff, Person("居民", Role.RESIDENT, None, RESIDENT)))
    assert all(may_log_in(user, [xk]) for user in (WORKER_1, STAFF, BUILDING_LEADER, PARTNER))
    assert not may_log_in(RESIDENT, [resident_entry]) and not may_log_in(4242, [xk])


def test_only_a_hash_of_a_secret_is_kept():
    assert secret_hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
