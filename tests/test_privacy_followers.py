"""Issue 16: what residents see of a ticket that is not theirs, and of their own ticket's ledger; what
partners and groups see of what a resident wrote. Through the dialog, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from dialog_support import example_world
from pii_scan import scan_database

from gridcore.ticket import Action

pytestmark = pytest.mark.memory

REPORTER, FOLLOWER, WORKER_1, WORKER_2, PARTNER = 5001, 5002, 1011, 1012, 1041
STAFF, STAFF_GROUP = 1001, -1001000000001
# What the first resident wrote: every piece of it is theirs, and none may reach another resident.
DESCRIPTION = "5栋门口垃圾桶满了没人清，我是张秀兰，有事打 139-0000-1111"
DETAIL = "302室 张秀兰家门口"
PROGRESS_NOTE = "已联系物业王师傅明早清运，他电话13700002222"
RESULT_NOTE = "垃圾已清运完毕，桶已消毒"


@pytest.fixture
async def world(uow_factory):
    return await example_world(uow_factory)


async def only_ticket(uow_factory, user_id=REPORTER):
    async with uow_factory() as uow:
        return (await uow.tickets.for_resident(user_id))[0]


async def ledger(uow_factory, number):
    async with uow_factory() as uow:
        return list(await uow.tickets.ledger(number))


def assert_nothing_of_the_reporter(text: str) -> None:
    for private in ("垃圾桶满了", "张秀兰", "张阿姨", "302", "1111", "139", "王师傅", "13700002222", "137",
                    "已清运完毕", "刘洋", "刘**", "匿名"):
        assert private not in text, (private, text)


async def test_a_follower_and_the_duplicate_offer_see_only_the_public_view(world, uow_factory, engine):
    world, chat = world
    reporter, follower, worker = chat(REPORTER, "张阿姨"), chat(FOLLOWER, "李叔"), chat(WORKER_2, "刘洋")
    await reporter.contact("13812345678")
    await reporter.send(DESCRIPTION)
    await reporter.presses("是的", "1单元")
    await reporter.send(DETAIL)
    await reporter.presses("没有照片", "匿名反映", "确认提交")  # anonymous: still nobody else's to read
    number = (await only_ticket(uow_factory)).number

    await follower.send("5号楼垃圾没人清理，臭死了")
    await follower.presses("是的", "1单元")  # the duplicate question comes once category and place are known
    offer = follower.last_text
    assert "已经有人反映过" in offer and number in offer
    assert "环境卫生" in offer and "5号楼1单元" in offer and "已受理" in offer and "11月22日" in offer
    assert_nothing_of_the_reporter(offer)
    await follower.press("也是我反映的")
    assert "已把您加入" in follower.last_text and number in follower.last_text
    seen = len(follower.received)

    await worker.press("签收")
    await worker.press("进展")
    await worker.send(PROGRESS_NOTE)
    await worker.press("办结")
    await worker.send(RESULT_NOTE)
    await worker.photo("result-photo")
    await worker.press("照片发完了")
    assert any(PROGRESS_NOTE in t for t in reporter.texts)  # the reporter hears it all
    assert any(RESULT_NOTE in t for t in reporter.texts)
    notices = follower.received[seen:]
    assert [("处理中" in m.text, "有新进展" in m.text, "已办结" in m.text) for m in notices] == [
        (True, False, False), (True, True, False), (False, False, True)]
    for message in notices:
        assert number in message.text and not message.photos and not message.buttons
        assert_nothing_of_the_reporter(message.text)

    await follower.send("/my")
    listing = follower.last_text
    assert number in listing and "已办结" in listing
    assert_nothing_of_the_reporter(listing)
    await follower.press_data(f"t:{number}")
    story = follower.last_text
    assert [word in story for word in ("已受理", "处理中", "已办结")] == [True, True, True]
    assert_nothing_of_the_reporter(story)
    await follower.send(f"/ticket {number}")
    assert follower.last_text == story  # /ticket shows a follower the same public view

    await reporter.send("/my")
    assert "垃圾桶满了" in reporter.last_text  # their own words, to themselves
    await scan_database(engine)


async def test_the_reporters_own_timeline_leaves_out_what_is_internal(world, uow_factory):
    world, chat = world
    reporter, worker = chat(REPORTER, "张阿姨"), chat(WORKER_1, "王芳")
    await reporter.contact("13812345678")
    await reporter.send("3号楼2单元楼道灯坏了一个星期了")
    await reporter.presses("是的", "跳过", "没有照片", "实名反映", "确认提交")
    await worker.press("联系居民")
    await worker.press("转派")
    await worker.press("第二网格")
    await worker.send("该楼栋归第二网格，避嫌转出")
    number = (await only_ticket(uow_factory)).number
    actions = [e.action for e in await ledger(uow_factory, number)]
    assert Action.REVEAL_CONTACT in actions and Action.TRANSFER in actions  # the chain's ledger has them
    await reporter.press_data(f"t:{number}")
    story = reporter.last_text
    assert "提交反映" in story and "派单" in story and "楼道灯坏了" in story
    for internal in ("查看了联系电话", "转派", "避嫌", "王芳", "刘洋", "备注", "提醒"):
        assert internal not in story, internal
    await reporter.send(f"/ticket {number}")
    assert reporter.last_text == story


@pytest.mark.parametrize("anonymous", [False, True])
async def test_reveal_with_no_phone_on_file_records_nothing(world, uow_factory, anonymous):
    world, chat = world
    reporter, worker = chat(REPORTER, "张阿姨"), chat(WORKER_1, "王芳")
    if anonymous:  # a phone on file, withheld: nothing is shown either
        await reporter.contact("13812345678")
    await reporter.send("3号楼2单元楼道灯坏了一个星期了")
    await reporter.presses("是的", "跳过", "没有照片", "匿名反映" if anonymous else "实名反映", "确认提交")
    await worker.press("联系居民")
    assert worker.last.callback_alert and "1381234" not in (worker.last.callback_answer or "")
    number = (await only_ticket(uow_factory)).number
    assert Action.REVEAL_CONTACT not in [e.action for e in await ledger(uow_factory, number)]


async def test_partner_copies_and_group_cards_carry_no_personal_data(world, uow_factory, engine):
    world, chat = world
    reporter, worker = chat(REPORTER, "Zhang Xiulan"), chat(WORKER_1, "王芳")
    partner = chat(PARTNER, "钱经理")
    await reporter.send("3号楼2单元楼道灯坏了，我是王秀英，手机 +86 138 1234 5678，微信号 wxy_1988")
    await reporter.presses("是的")
    await reporter.send("3楼 Zhang Xiulan 家，座机(021)5555-6666")
    await reporter.presses("没有照片", "实名反映", "确认提交")
    copy = partner.last_text
    assert "工单抄送" in copy and "楼道灯坏了" in copy and "138****5678" in copy and "021-****6666" in copy
    for private in ("王秀英", "1234 5678", "wxy_1988", "Zhang", "Xiulan", "5555-6666"):
        assert private not in copy, private
    assert "王秀英" in worker.last_text and "wxy_1988" in worker.last_text  # the handler sees it all

    group = chat(STAFF, "李建国", chat_id=STAFF_GROUP)
    await worker.press("上报社区")
    await worker.send("需要社区协调")
    card = group.last_text
    assert "待指派" in card and "楼道灯坏了" in card
    for private in ("王秀英", "1234 5678", "wxy_1988", "Zhang", "Xiulan", "5555"):
        assert private not in card, private
    await scan_database(engine)


async def test_a_name_the_reporter_goes_by_now_is_masked_when_a_card_is_refreshed(world, uow_factory, engine):
    """The partner's copy is edited as the ticket moves on; by then the reporter's Telegram name may have
    changed to the one they signed their report with."""
    world, chat = world
    reporter, worker, partner = chat(REPORTER, "张阿姨"), chat(WORKER_1, "王芳"), chat(PARTNER, "钱经理")
    await reporter.send("3号楼2单元楼道灯坏了，有事找 Lily Chen")
    await reporter.presses("是的", "跳过", "没有照片", "实名反映", "确认提交")
    renamed = chat(REPORTER, "Lily Chen")
    await renamed.send("/my")  # the profile now has the new name
    await worker.press("签收")
    [edited] = [m for m in partner.received if m.edit_outbox_id][-1:]
    assert "处理中" in edited.text and "楼道灯坏了" in edited.text and "Lily Chen" not in edited.text
    await scan_database(engine)


async def test_every_group_message_about_a_ticket_passes_the_redactor_once_more(uow_factory):
    """A last guard in Context: a group message about a ticket is redacted as a whole (whatever its
    template shows); staff's own posts to a group (no ticket: an announcement with the office's
    number) are left as written."""
    from datetime import UTC, datetime

    from dialog_support import example_community

    from gridcore.conversation import Conversation
    from handlers.context import Context
    from handlers.inputs import Incoming, InputKind, Sender
    from handlers.texts import Texts

    async with uow_factory() as uow:
        incoming = Incoming(1, STAFF, Sender(STAFF, "李建国"), InputKind.TEXT, text="x")
        ctx = Context(uow, incoming, example_community(), Conversation(STAFF, STAFF), Texts(),
                      datetime(2026, 11, 22, 1, 30, tzinfo=UTC))
        leaked = "居民 张秀兰 身份证 110101199003071234，手机 138 1234 5678"
        await ctx.tell(STAFF_GROUP, "summary_text", text=leaked, ticket_number="XK-20261122-0001")
        await ctx.tell(REPORTER, "summary_text", text=leaked, ticket_number="XK-20261122-0001")
        await ctx.tell(STAFF_GROUP, "summary_text", text="社区办公室电话 0571-8888 6666")
        group, private, announcement = (m.text for m in ctx.sent)
        assert "110***********1234" in group and "138****5678" in group and "1234 5678" not in group
        assert private == leaked  # a private chat gets what its template shows
        assert announcement == "社区办公室电话 0571-8888 6666"


async def test_a_follower_hears_that_a_resolved_ticket_was_reopened(world, uow_factory):
    """Told 已办结, a follower is told too when the reporter's 不满意 reopens the ticket."""
    world, chat = world
    reporter, follower, worker = chat(REPORTER, "张阿姨"), chat(FOLLOWER, "李叔"), chat(WORKER_2, "刘洋")
    await reporter.send(DESCRIPTION)
    await reporter.presses("是的", "1单元", "跳过", "没有照片", "匿名反映", "确认提交")
    number = (await only_ticket(uow_factory)).number
    await follower.send("5号楼1单元垃圾没人清理")
    await follower.presses("是的", "也是我反映的")
    await worker.presses("签收", "办结")
    await worker.send(RESULT_NOTE)
    await worker.press("没有照片")
    assert "已办结" in follower.last_text
    seen = len(follower.received)
    await reporter.presses("没人联系", "未解决", "不满意")
    await reporter.send("还是满的，302 张秀兰家门口")
    assert "重新交给" in reporter.last_text
    [notice] = follower.received[seen:]
    assert number in notice.text and "处理中" in notice.text and not notice.buttons
    assert_nothing_of_the_reporter(notice.text)
