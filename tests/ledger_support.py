"""Tickets with a full history for the ledger tests (tests/test_ledger*.py): filed by residents with
names and phones in their words, handled, supervised, transferred, reopened, rated."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gridcore.community import Community
from gridcore.ticket import Action, Location, Rating, Reporter, Satisfaction, Solved, Ticket

# 2026-12-01 09:30 in Shanghai
T0 = datetime(2026, 12, 1, 1, 30, tzinfo=UTC)
NAME, PHONE = "王秀英", "13912345678"
WORDS = f"我是{NAME}，电话 {PHONE}，楼上装修漏水到我家，协商不成"
WORKER, OTHER_WORKER = 2011, 2012  # 彭丽华 (grid 1), 袁志刚 (grid 2) in examples/cuihu.yaml
STAFF = "staff:2011"


def filed(community: Community, number: str, category: str, *, at: datetime = T0, building: str = "YY5",
          unit: str | None = "2", urgent: bool = False, name: str = NAME, phone: str | None = PHONE,
          words: str = WORDS, anonymous: bool = False) -> Ticket:
    deadline = community.category(category).feedback_deadline  # type: ignore[union-attr]
    return Ticket.file(number=number, community_code=community.code, category_code=category,
                       feedback_deadline=deadline, description=words,
                       location=Location(building, unit, "5楼"),
                       reporter=Reporter(5001, 5001, name, phone, anonymous), at=at, urgent=urgent,
                       grid_code="1")


def mediated(community: Community, number: str = "CH-20261201-0001", category: str = "neighbour",
             solved: Solved = Solved.SOLVED) -> Ticket:
    """Assigned, escalated and reassigned, supervised twice, transferred once, accepted, progress notes,
    resolved (late), rated, closed."""
    t = filed(community, number, category)
    t.apply(Action.ASSIGN, actor="system", at=T0 + timedelta(minutes=1), assignee=OTHER_WORKER)
    t.apply(Action.TRANSFER, actor="staff:2012", at=T0 + timedelta(hours=1), reason="不是我的网格")
    t.apply(Action.ASSIGN, actor="system", at=T0 + timedelta(hours=1, minutes=1), assignee=WORKER)
    t.record("system", T0 + timedelta(hours=3), Action.SUPERVISE, stage="leader")
    t.apply(Action.ESCALATE, actor=STAFF, at=T0 + timedelta(hours=4), reason="需要社区出面")
    t.apply(Action.ASSIGN, actor="staff:2099", at=T0 + timedelta(hours=5), assignee=WORKER)
    t.apply(Action.ACCEPT, actor=STAFF, at=T0 + timedelta(hours=6))
    t.record(STAFF, T0 + timedelta(days=1), Action.PROGRESS, note=f"已上门，{NAME}说楼上不开门，电话{PHONE}")
    t.record(STAFF, T0 + timedelta(days=2, hours=2), Action.PROGRESS, note="约双方周六到调解室")
    t.apply(Action.RESOLVE, actor=STAFF, at=T0 + timedelta(days=4), note="双方签了调解协议，楼上负责维修")
    t.rating = Rating(contacted=True, solved=solved, satisfaction=Satisfaction.BASIC)
    t.record(f"resident:{t.reporter.user_id}", T0 + timedelta(days=4, hours=1), Action.RATE,
             contacted=True, solved=solved.value, satisfaction="basic")
    t.apply(Action.CLOSE, actor="system", at=T0 + timedelta(days=5))
    return t
