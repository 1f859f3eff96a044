"""Routing (三事分流) and the authorization matrix, on a small community built here. No I/O."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from gridcore.authorization import Act, may
from gridcore.community import Building, Category, Community, Grid, HandlingMode, Person, Role
from gridcore.routing import RouteReason, route
from gridcore.ticket import Location, Reporter, Ticket

AT = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)
W1, W1B, L1, W2, L2, STAFF, PARTNER, LEADER_BLDG, RESIDENT = 11, 12, 19, 21, 29, 90, 70, 15, 501

COMMUNITY = Community(
    code="XK", name="兴康社区", staff_chat_id=-100,
    grids=(Grid("1", "第一网格"), Grid("2", "第二网格")),
    buildings=(Building("3", "3号楼", "1"), Building("5", "5号楼", "2")),
    staff=(
        Person("王芳", Role.GRID_WORKER, "1", W1),
        Person("刘洋", Role.GRID_WORKER, "1", W1B),
        Person("李强", Role.GRID_LEADER, "1", L1),
        Person("赵敏", Role.GRID_WORKER, "2", W2),
        Person("孙丽", Role.GRID_LEADER, "2", L2),
        Person("陈书记", Role.COMMUNITY_STAFF, None, STAFF),
        Person("李经理", Role.PARTNER, None, PARTNER, title="物业公司"),
        Person("周大爷", Role.BUILDING_LEADER, "1", LEADER_BLDG, building_code="3"),
    ),
    categories=(
        Category("env", "环境卫生"),
        Category("fac", "公共设施", mode=HandlingMode.JOINT, co_handler="物业公司"),
        Category("dispute", "邻里纠纷", mode=HandlingMode.COORDINATED),
        Category("fire", "紧急险情", emergency=True, emergency_numbers=("119",)),
    ),
)


def ticket(category="env", building="3", grid="1", urgent=False, assignee=None) -> Ticket:
    t = Ticket.file(number="XK-20261122-0001", community_code="XK", category_code=category,
                    feedback_deadline=timedelta(days=3), description="楼道堆物", location=Location(building),
                    reporter=Reporter(RESIDENT, RESIDENT, "张阿姨"), at=AT, urgent=urgent, grid_code=grid)
    t.assignee = assignee
    return t


def with_staff(*changes) -> Community:
    staff = list(COMMUNITY.staff)
    for index, change in changes:
        staff[index] = dataclasses.replace(staff[index], **change)
    return dataclasses.replace(COMMUNITY, staff=tuple(staff))


def test_self_handled_goes_to_the_worker_with_fewest_open_tickets():
    assert route(COMMUNITY, ticket(), {}).assignee.telegram_user_id == W1  # tie: roster order
    routing = route(COMMUNITY, ticket(), {W1: 3, W1B: 1})
    assert routing.assignee.telegram_user_id == W1B and routing.reason is RouteReason.WORKER
    assert routing.copies == ()


def test_away_and_unbound_workers_are_skipped_then_the_leader_then_staff():
    away = with_staff((0, {"away": True}))
    assert route(away, ticket(), {W1B: 9}).assignee.telegram_user_id == W1B
    nobody = with_staff((0, {"away": True}), (1, {"telegram_user_id": None}))
    routing = route(nobody, ticket(), {})
    assert routing.assignee.telegram_user_id == L1 and routing.reason is RouteReason.NO_WORKER
    no_leader = with_staff((0, {"away": True}), (1, {"telegram_user_id": None}), (2, {"away": True}))
    routing = route(no_leader, ticket(), {})
    assert routing.to_staff and routing.reason is RouteReason.NOBODY


def test_joint_gives_the_partner_a_copy_and_coordinated_goes_to_staff():
    joint = route(COMMUNITY, ticket("fac"), {})
    assert joint.assignee.telegram_user_id == W1 and [p.telegram_user_id for p in joint.copies] == [PARTNER]
    coordinated = route(COMMUNITY, ticket("dispute"), {})
    assert coordinated.to_staff and coordinated.reason is RouteReason.COORDINATED


def test_urgent_tells_the_grid_leader_at_once_and_no_grid_goes_to_staff():
    urgent = route(COMMUNITY, ticket("fire", urgent=True), {})
    assert urgent.assignee.telegram_user_id == W1 and [p.telegram_user_id for p in urgent.copies] == [L1]
    public = route(COMMUNITY, ticket(building=None, grid=None), {})
    assert public.to_staff and public.reason is RouteReason.NO_GRID
    unknown = route(COMMUNITY, ticket(grid="9"), {})
    assert unknown.to_staff and unknown.reason is RouteReason.NO_GRID


# --- the authorization matrix: action × role × scope ---------------------------------------------
# Who presses, on a ticket of grid 1 assigned to W1.
ACTORS = {
    "assigned worker": W1,
    "other worker, same grid": W1B,
    "grid leader, same grid": L1,
    "worker, other grid": W2,
    "grid leader, other grid": L2,
    "community staff": STAFF,
    "partner": PARTNER,
    "building leader": LEADER_BLDG,
    "the reporter (resident)": RESIDENT,
    "a stranger": 999,
}
ALLOWED = {
    Act.ACCEPT: {"assigned worker", "grid leader, same grid", "community staff"},
    Act.PROGRESS: {"assigned worker", "grid leader, same grid", "community staff"},
    Act.RESOLVE: {"assigned worker", "grid leader, same grid", "community staff"},
    Act.TRANSFER: {"assigned worker", "grid leader, same grid", "community staff"},
    Act.ESCALATE: {"assigned worker", "grid leader, same grid"},
    Act.REVEAL_CONTACT: {"assigned worker"},
    Act.ASSIGN: {"grid leader, same grid", "community staff"},
    Act.RECATEGORISE: {"assigned worker", "grid leader, same grid", "community staff"},  # as ACCEPT
    Act.SET_PRIORITY: {"assigned worker", "grid leader, same grid", "community staff"},  # as RECATEGORISE
    Act.VIEW: {"assigned worker", "other worker, same grid", "grid leader, same grid", "community staff",
               "the reporter (resident)"},
}


@pytest.mark.parametrize("act", list(Act))
@pytest.mark.parametrize("who", list(ACTORS))
def test_authorization_matrix(act, who):
    assert may(COMMUNITY, ACTORS[who], act, ticket(assignee=W1)) is (who in ALLOWED[act])


def test_a_resident_assigned_by_mistake_still_cannot_act():
    # An assignee id that is nobody's staff role (a stale or forged value) grants nothing.
    assert not may(COMMUNITY, RESIDENT, Act.RESOLVE, ticket(assignee=RESIDENT))


def test_an_urgent_coordinated_ticket_goes_to_the_worker_on_duty_with_leader_and_staff_told():
    fire = Category("fire", "紧急险情", mode=HandlingMode.COORDINATED, emergency=True,
                    emergency_numbers=("119",))
    community = dataclasses.replace(COMMUNITY, categories=(fire,))
    urgent = route(community, ticket("fire", urgent=True), {W1: 2})
    assert urgent.assignee.telegram_user_id == W1B and urgent.reason is RouteReason.WORKER
    assert [p.telegram_user_id for p in urgent.copies] == [L1] and urgent.inform_staff
    no_worker = route(with_staff((0, {"away": True}), (1, {"away": True})), ticket("fire", urgent=True), {})
    assert no_worker.assignee.telegram_user_id == L1 and no_worker.inform_staff
    assert not route(COMMUNITY, ticket("dispute"), {}).inform_staff  # not urgent: staff assign as before
    assert not route(COMMUNITY, ticket(), {}).inform_staff
