"""Security (issue 5, item 5), besides the fuzzer's checks (tests/test_fuzz_conversation.py):

* no group message shows a resident's name or phone — tests/pii_scan.py scans every group message each
  test's database queued (tests/conftest.py); here: that the scan really finds a leak, and the leaks the
  fuzzing found (the location detail on group cards; +86, full-width and landline numbers);
* webhook mode refuses a request without the right secret token: tests/test_e2e_webhook.py
  (test_requests_without_the_right_secret_are_refused_and_change_nothing) sends none, an empty, a wrong
  and a longer secret to the real listener and sees 401, no update recorded, no message queued.
"""

from __future__ import annotations

import pytest
from dialog_support import FakeClock, ResidentChat, World, load_example, make_conversations
from pii_scan import PiiWatch, phones_in, scan_database

from handlers.cards import for_group
from storage.models import OutboxRow

pytestmark = pytest.mark.reliability
STAFF_GROUP = -1001000000001


async def test_the_scan_finds_a_residents_name_or_phone_in_a_group_message(engine, uow_factory):
    await load_example(uow_factory)
    resident = ResidentChat(make_conversations(uow_factory, FakeClock()), 5001, "欧阳春花")
    await resident.contact("+86 139-1234-5678")
    await resident.send("/help")
    await scan_database(engine)  # nothing in any group yet
    for leak in ("欧阳春花 说", "电话 139 1234 5678", "８６１３９１２３４５６７８"):
        async with engine.begin() as connection:
            await connection.execute(OutboxRow.__table__.delete())
            await connection.execute(OutboxRow.__table__.insert().values(
                chat_id=STAFF_GROUP, payload={"v": 1, "chat_id": STAFF_GROUP, "text": leak},
                created_at=FakeClock().now, status="pending", attempts=0))
        with pytest.raises(AssertionError, match="resident names/phones in group messages"):
            await scan_database(engine)
    async with engine.begin() as connection:
        await connection.execute(OutboxRow.__table__.delete())


def test_the_watch_ignores_staff_names_and_masked_numbers():
    watch = PiiWatch(frozenset({"王芳"}))
    watch.resident("王芳")  # a resident who happens to share a staff member's name: not flagged
    watch.resident("欧阳春花", "13912345678")
    watch.typed("我家座机 021-55556666")
    assert watch.leaks("状态：处理中（王芳） 139****5678 021-****6666 欧阳**") == []
    assert watch.leaks("<b>欧阳春花</b>") == ["欧阳春花"]
    assert watch.leaks("+86 139.1234.5678") == ["13912345678"]
    assert watch.leaks("打 02155556666") == ["02155556666"]
    assert phones_in("(86)13912345678 与 ０２１－５５５５６６６６") == {"13912345678", "02155556666"}


@pytest.mark.parametrize("typed, shown", [
    ("电话+8613912345678", "电话139****5678"),
    ("电话 +86 139 1234 5678", "电话 139****5678"),
    ("电话１３９１２３４５６７８", "电话139****5678"),
    ("座机 021-55556666", "座机 021-****6666"),
    ("座机0755 1234 5678", "座机0755-****5678"),
])
def test_group_cards_mask_every_way_of_writing_a_phone_number(typed, shown):
    assert for_group(typed, "欧阳春花") == shown


async def test_the_location_detail_on_a_group_card_hides_the_residents_name_and_phone(engine, uow_factory):
    """Found by the fuzzer: the floor/room line ("302室 欧阳春花 139…") went to the staff group as typed."""
    await load_example(uow_factory)
    world = World()
    bot = make_conversations(uow_factory, FakeClock())
    resident = ResidentChat(bot, 5002, "欧阳春花", world=world)
    await resident.send("5号楼门禁坏了，外面的人随便进")  # 治安 (联办): the card goes to the staff group
    await resident.presses("是的", "1单元")
    await resident.send("302室 欧阳春花 13912345678")
    await resident.presses("没有照片", "实名反映", "确认提交")
    [card] = [m.text for m in world.inbox[STAFF_GROUP] if "待指派" in m.text]
    assert "302室 欧*** 139****5678" in card
    assert "已提交\n" in card  # nobody handles it yet (it showed 郭秀云, the roster's entry without an id)
    await scan_database(engine)


async def test_the_sandbox_watch_finds_what_reached_a_group():
    from types import SimpleNamespace

    from dialog_support import example_community
    from pii_scan import watch_sandbox

    user = SimpleNamespace(id=5001, first_name="欧阳", last_name="春花")
    staff_user = SimpleNamespace(id=1011, first_name="王芳", last_name=None)
    sandbox = SimpleNamespace(api_hooks=[], users={5001: user, 1011: staff_user}, update_log=[
        {"message": {"from": {"id": 5001}, "contact": {"phone_number": "+8613912345678"}}}])
    check = watch_sandbox(sandbox, example_community().staff)
    [hook] = sandbox.api_hooks
    await hook("sendmessage", {"chat_id": STAFF_GROUP, "text": "处理中（王芳） 139****5678"})
    await hook("sendmessage", {"chat_id": 5001, "text": "欧阳 春花 13912345678"})  # a private chat
    check()
    await hook("editmessagetext", {"chat_id": str(STAFF_GROUP), "text": "欧阳 春花"})
    with pytest.raises(AssertionError, match="欧阳 春花"):
        check()
    sandbox.api_hooks.clear()
    check = watch_sandbox(sandbox, example_community().staff)
    await sandbox.api_hooks[0]("sendphoto", {"chat_id": STAFF_GROUP, "caption": "电话 139 1234 5678"})
    with pytest.raises(AssertionError, match="13912345678"):
        check()
