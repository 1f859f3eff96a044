"""The resident's report dialog, step by step, on the real storage (SQLite and PostgreSQL) and on the
in-memory unit of work."""

from __future__ import annotations

import pytest
from dialog_support import FakeClock, ResidentChat, World, load_example, make_conversations, tickets_of
from sqlalchemy import event

from gridcore.ticket import Action, TicketStatus, Urgency

pytestmark = pytest.mark.memory

@pytest.fixture
async def bot(uow_factory):
    await load_example(uow_factory)
    return make_conversations(uow_factory, FakeClock())




async def finish_named(chat: ResidentChat) -> None:
    """From the photos question on: no photos, named, confirm."""
    await chat.press("没有照片")
    await chat.press("实名反映")
    assert "请核对" in chat.last_text
    await chat.press("确认提交")


async def test_free_text_with_place_asks_only_what_is_missing(bot, uow_factory):
    chat = ResidentChat(bot)
    await chat.send("3号楼2单元楼道灯坏了一个星期了")
    assert "公共设施" in chat.last_text
    await chat.press("是的")
    assert "几楼" in chat.last_text  # building and unit were taken from the text
    await chat.press("跳过")
    await finish_named(chat)
    assert "XK-20261122-0001" in chat.last_texts()  # (then, after a first report, the home offer)
    # filed Sunday 09:30 Shanghai time, 3 working days: Monday is day 1, due at the end of Wednesday
    assert "11月25日 23:59" in chat.last_texts()
    [ticket] = await tickets_of(uow_factory, 5001)
    assert (ticket.location.building_code, ticket.location.unit) == ("3", "2")
    assert ticket.description == "3号楼2单元楼道灯坏了一个星期了"
    assert ticket.status is TicketStatus.ASSIGNED and ticket.grid_code == "1"  # routed to grid 1's worker
    assert not ticket.reporter.anonymous and ticket.reporter.display_name == "张阿姨"


async def test_full_dialog_with_typed_building_unit_button_and_photos(bot, uow_factory):
    chat = ResidentChat(bot)
    await chat.send("一楼堆放杂物，楼道都堵了")
    assert "环境卫生" in chat.last_text
    await chat.press("是的")
    assert "哪栋楼" in chat.last_text
    await chat.send("三号楼")
    assert "哪个单元" in chat.last_text
    await chat.press("2单元")
    assert "照片" in chat.last_text  # "一楼" in the text answered the floor question already
    await chat.photo("p1")
    await chat.photo("p2")
    assert "第 2 张" in chat.last_text
    await chat.press("照片发完了")
    await chat.press("匿名反映")
    summary = chat.last_text
    assert "2 张" in summary and "匿名" in summary and "3号楼2单元 一楼" in summary
    await chat.press("确认提交")
    [ticket] = await tickets_of(uow_factory, 5001)
    assert ticket.photos == ("p1", "p2") and ticket.reporter.anonymous
    assert ticket.location.detail == "一楼"


async def test_category_by_button_when_nothing_is_recognised(bot, uow_factory):
    chat = ResidentChat(bot)
    await chat.send("/report")
    assert "请选择问题类别" in chat.last_text
    await chat.send("不知道")
    assert "没能识别" in chat.texts[-2]
    await chat.press("意见建议")
    assert "描述" in chat.last_text
    await chat.send("希望多组织老年人活动")
    await chat.press("小区公共区域")
    await chat.send("活动室")
    await finish_named(chat)
    [ticket] = await tickets_of(uow_factory, 5001)
    assert ticket.location.building_code is None and ticket.location.detail == "活动室"
    assert ticket.grid_code is None


async def test_bad_input_at_every_step_is_re_asked_and_changes_nothing(bot, uow_factory):
    chat = ResidentChat(bot)
    await chat.send("/report")
    await chat.unsupported("sticker")
    assert "表情贴纸" in chat.texts[-2] and "请选择问题类别" in chat.last_text
    await chat.press("环境卫生")
    await chat.unsupported("video")
    assert "视频" in chat.texts[-2]
    await chat.send("楼" * 5000)
    assert "5000" in chat.last_text
    await chat.send("a")
    assert "太短" in chat.last_text
    await chat.send("很多垃圾没人清理")
    await chat.send("99号楼")
    assert "没有找到「99号楼」" in chat.texts[-2] and "哪栋楼" in chat.last_text
    await chat.send("5栋")
    await chat.send("9单元")
    assert "没有「9单元」" in chat.texts[-2] and "哪个单元" in chat.last_text
    await chat.send("3单元")
    await chat.send("楼" * 101)
    assert "100 字以内" in chat.last_text
    await chat.edited()
    assert "修改后的消息不会被采用" in chat.texts[-2] and "几楼" in chat.last_text
    await chat.send("门口")
    await chat.send("这是照片吗")
    assert "请发送照片" in chat.texts[-2]
    await finish_named(chat)
    [ticket] = await tickets_of(uow_factory, 5001)
    assert (ticket.location.building_code, ticket.location.unit, ticket.location.detail) == ("5", "3", "门口")


async def test_stale_and_forged_buttons_are_refused_and_change_nothing(bot, uow_factory):
    chat = ResidentChat(bot)
    await chat.send("一楼堆放杂物，楼道都堵了")
    stale = chat.button("选其他类别")
    await chat.press("是的")
    before = len(chat.received)
    for data in (stale, "r:999:yes", "garbage", "r:", "t:", "r:2:cat:nope"):
        handled = await chat.press_data(data)
        assert handled.callback_alert or "没有找到工单" in chat.last_text
    await chat.send("3号楼")
    assert "哪个单元" in chat.last_text  # still at the building step when the stale ones came
    assert len([m for m in chat.received[before:] if "按钮" in m.text]) == 0


async def test_cancel_mid_dialog_files_nothing(bot, uow_factory):
    chat = ResidentChat(bot)
    await chat.send("楼道灯坏了")
    await chat.send("/cancel")
    assert "已取消" in chat.last_text
    await chat.send("/cancel")
    assert "没有正在填写" in chat.last_text
    assert await tickets_of(uow_factory, 5001) == []
    await chat.send("/my")
    assert "还没有反映过" in chat.last_text


async def test_deep_link_remembers_building_for_the_next_report(bot, uow_factory):
    chat = ResidentChat(bot)
    await chat.send("/start b_7")
    assert "7号楼" in chat.last_text
    assert "3 个工作日内反馈结果" in chat.last_text  # the example's categories count working days
    await chat.send("楼道里堆满了纸箱子")
    await chat.press("是的")
    assert "哪个单元" in chat.last_text and "7号楼" in chat.last_text
    await chat.send("/start b_nope")
    assert "没有找到" in chat.texts[-3] and "哪个单元" in chat.last_text  # the dialog goes on


async def test_duplicate_offer_join_and_new_anyway(bot, uow_factory):
    first = ResidentChat(bot, 5001, "张阿姨")
    await first.send("5栋门口垃圾桶满了没人清")
    await first.presses("是的", "1单元", "跳过")
    await finish_named(first)
    number = (await tickets_of(uow_factory, 5001))[0].number

    second = ResidentChat(bot, 5002, "李叔")
    await second.send("5号楼垃圾没人清理，臭死了")
    await second.presses("是的", "1单元")  # asked as soon as category and place are known
    assert number in second.last_text and "也是我反映的" in str(second.last_message.buttons)
    await second.press("也是我反映的")
    assert "已把您加入" in second.last_text
    [followed] = await tickets_of(uow_factory, 5002)
    assert followed.number == number and followed.followers == (5002,)
    async with uow_factory() as uow:
        ledger = await uow.tickets.ledger(number)
    assert [e.action for e in ledger] == [Action.SUBMIT, Action.ASSIGN, Action.FOLLOW]

    third = ResidentChat(bot, 5003, "王姐")
    await third.send("5号楼门口垃圾没人清理")
    await third.presses("是的", "1单元", "仍要新建", "跳过", "没有照片", "实名反映")
    assert "请核对" in third.last_text
    await third.press("确认提交")
    assert "XK-20261122-0002" in third.last_texts()


async def test_emergency_says_whom_to_call_first_and_files_urgent(bot, uow_factory):
    chat = ResidentChat(bot)
    await chat.send("楼道里有一股煤气味，好像是302家里")
    assert "立即拨打 119" in chat.texts[0]  # before any question
    assert "哪栋楼" in chat.last_text  # the one question: where
    await chat.send("8号楼")
    assert "已提交" in chat.texts[-2]  # at once: no unit, floor, photo, anonymity or summary question
    [ticket] = await tickets_of(uow_factory, 5001)
    assert ticket.urgency is Urgency.URGENT and ticket.location.building_code == "8"
    assert ticket.location.detail == "楼道里 302"  # what the text said of where


async def test_my_lists_newest_first_and_shows_timeline(bot, uow_factory):
    chat = ResidentChat(bot)
    for text in ("3号楼2单元楼道灯坏了一个星期了", "7号楼楼顶有人私自加盖了一层"):
        await chat.send(text)
        await chat.press("是的")
        if "哪个单元" in chat.last_text:
            await chat.press("1单元")
        await chat.press("跳过")
        await finish_named(chat)
    await chat.send("/my")
    my = chat.last_text
    assert my.index("0002") < my.index("0001") and "已提交" in my
    await chat.press("XK-20261122-0001")
    assert "提交反映" in chat.last_text and "楼道灯" in chat.last_text
    other = ResidentChat(bot, 5099, "路人")
    await other.press_data("t:XK-20261122-0001")
    assert "没有找到工单" in other.last_text


async def test_edit_from_the_summary_card(bot, uow_factory):
    chat = ResidentChat(bot)
    await chat.send("3号楼2单元楼道灯坏了一个星期了")
    await chat.presses("是的", "跳过", "没有照片", "实名反映", "修改", "位置")
    await chat.send("10号楼")
    await chat.press("1单元")
    await chat.send("5楼")
    assert "请核对" in chat.last_text and "10号楼1单元 5楼" in chat.last_text
    await chat.press("确认提交")
    [ticket] = await tickets_of(uow_factory, 5001)
    assert ticket.location.building_code == "10" and ticket.grid_code == "3"


async def test_restart_mid_dialog_resumes_at_the_same_step(uow_factory):
    await load_example(uow_factory)
    chat = ResidentChat(make_conversations(uow_factory))
    await chat.send("一楼堆放杂物，楼道都堵了")
    await chat.press("是的")
    await chat.send("三号楼")
    restarted = ResidentChat(make_conversations(uow_factory))  # a new process: nothing in memory
    restarted.received = chat.received
    await restarted.press("2单元")
    assert "照片" in restarted.last_text  # "一楼" was in the first message: no floor question


async def test_the_same_update_twice_files_one_ticket(bot, uow_factory):
    chat = ResidentChat(bot)
    await chat.send("3号楼2单元楼道灯坏了一个星期了")
    await chat.presses("是的", "跳过", "没有照片", "实名反映")
    data = chat.button("确认提交")
    from handlers.inputs import Incoming, InputKind
    confirm = Incoming(10_000_001, 5001, chat.sender, InputKind.BUTTON, button_data=data, message_id=99)
    assert not (await bot.handle(confirm)).duplicate
    assert (await bot.handle(confirm)).duplicate
    assert len(await tickets_of(uow_factory, 5001)) == 1


async def test_idle_inputs_get_a_polite_hint(bot):
    chat = ResidentChat(bot)
    await chat.send("你好")
    assert "描述您遇到的问题" in chat.last_text
    await chat.unsupported("sticker")
    assert "表情贴纸" in chat.last_text
    await chat.send("/frobnicate")
    assert "不认识命令" in chat.last_text
    await chat.send("/help")
    assert "/my" in chat.last_text


async def test_a_photo_starts_a_report(bot, uow_factory):
    chat = ResidentChat(bot)
    await chat.photo("p9", caption="楼道堆放杂物")
    await chat.press("是的")
    await chat.send("2号楼")
    await chat.presses("1单元", "跳过", "照片发完了", "实名反映", "确认提交")
    [ticket] = await tickets_of(uow_factory, 5001)
    assert ticket.photos == ("p9",)


async def test_what_residents_type_is_escaped_in_every_reply(bot, uow_factory):
    chat = ResidentChat(bot, 5001, "<b>Tom & 'Jerry'</b>")
    await chat.send('有人在墙上写了 <script>alert("x")</script> & <b>不明</b> 标语')
    await chat.press("意见建议")
    await chat.send("3号楼")
    await chat.press("1单元")
    await chat.send("<i>1楼</i> & 2楼")
    await chat.press("没有照片")
    await chat.press("实名反映")
    summary = chat.last_text
    assert "&lt;script&gt;" in summary and "<script>" not in summary
    assert "&lt;i&gt;1楼&lt;/i&gt; &amp; 2楼" in summary
    await chat.press("确认提交")
    [ticket] = await tickets_of(uow_factory, 5001)
    assert ticket.description.startswith("有人在墙上写了 <script>")  # stored as typed


async def test_a_shared_own_contact_is_kept_and_the_dialog_goes_on(bot, uow_factory):
    chat = ResidentChat(bot)
    await chat.send("3号楼2单元楼道灯坏了一个星期了")
    await chat.contact("13812345678")
    assert "已记下您的电话" in chat.texts[-2] and "公共设施" in chat.last_text
    await chat.contact("13900000000", owner=777)
    assert "本人" in chat.texts[-2]
    await chat.presses("是的", "跳过", "没有照片", "实名反映", "确认提交")
    [ticket] = await tickets_of(uow_factory, 5001)
    assert ticket.reporter.phone == "13812345678"


async def test_a_filing_takes_its_number_first(bot, uow_factory, engine):
    """The day's number is taken before the ticket and its messages are written, so they carry it from
    the start: nothing is renumbered afterwards."""
    statements: list[str] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def record(conn, cursor, statement, *args) -> None:
        statements.append(" ".join(statement.split()).upper())

    chat = ResidentChat(bot)
    await chat.send("3号楼2单元楼道灯坏了一个星期了")
    await chat.press("是的")
    await chat.press("跳过")
    await chat.press("没有照片")
    await chat.press("实名反映")
    statements.clear()
    await chat.press("确认提交")
    assert "XK-20261122-0001" in chat.last_texts()
    taken = next(i for i, s in enumerate(statements) if "INTO TICKET_SEQUENCES" in s)
    after = statements[taken + 1:]
    assert not any(s.startswith(("INSERT INTO TICKETS ", "INSERT INTO OUTBOX ")) for s in statements[:taken])
    assert sum(s.startswith("INSERT INTO TICKETS ") for s in after) == 1
    assert any(s.startswith("INSERT INTO OUTBOX ") for s in after)
    assert not any(s.startswith(("UPDATE TICKETS ", "UPDATE OUTBOX ")) for s in after), after
    [ticket] = await tickets_of(uow_factory, 5001)
    assert ticket.status is TicketStatus.ASSIGNED and ticket.number == "XK-20261122-0001"
    async with uow_factory() as uow:
        ledger = await uow.tickets.ledger(ticket.number)
    assert [e.action for e in ledger] == [Action.SUBMIT, Action.ASSIGN]


async def test_each_step_retires_the_last_question_in_its_own_reply(bot, uow_factory):
    """A step's reply is one message: the next question (or the end) carries the last question's buttons
    away with it, instead of a second outbox row just for that."""
    chat = ResidentChat(bot)
    await chat.send("3号楼2单元楼道灯坏了一个星期了")
    [first] = chat.last.messages
    assert first.buttons and first.clear_keyboard_of_outbox is None  # nothing to retire yet
    for label in ("是的", "跳过", "没有照片", "实名反映", "确认提交"):
        await chat.press(label)
        # (实名 without a phone on file: the phone offer, under the input field, comes first.)
        # (Filed: the message takes the phone question's reply keyboard away, so the home offer, with
        # buttons, follows on its own.)
        mine = [m for m in chat.last.messages if m.chat_id == chat.chat_id and not m.reply_keyboard]
        offer = [m for m in mine[1:] if "是您家吗" in m.text] if label == "确认提交" else []
        assert len(mine) == 1 + len(offer) and mine[0].clear_keyboard_of_outbox is not None, (label, mine)
    assert "XK-20261122-0001" in chat.last_texts()
    async with uow_factory() as uow:  # the one live question: the home offer
        assert len((await uow.conversations.get(chat.chat_id)).prompts) == 1 and chat.last_message.buttons
    await chat.send("楼道灯坏了")
    await chat.send("/cancel")  # the end of a dialog without a question after it
    [cancelled] = chat.last.messages
    assert "已取消" in cancelled.text and cancelled.clear_keyboard_of_outbox is not None


async def test_a_floor_or_room_in_the_text_answers_the_detail_question(bot, uow_factory):
    chat = ResidentChat(bot)
    await chat.send("5号楼3单元302室门口堆了很多纸箱")
    await chat.press("是的")
    assert "照片" in chat.last_text and not any("几楼" in t for t in chat.texts)
    await finish_named(chat)
    [ticket] = await tickets_of(uow_factory, 5001)
    location = ticket.location
    assert (location.building_code, location.unit, location.detail) == ("5", "3", "302室")


async def test_a_public_place_in_the_text_is_the_public_area(bot, uow_factory):
    chat = ResidentChat(bot)
    await chat.send("小区东门的垃圾好几天没人清了")
    await chat.press("是的")
    assert "照片" in chat.last_text and not any("哪栋楼" in t for t in chat.texts)
    await finish_named(chat)
    [ticket] = await tickets_of(uow_factory, 5001)
    assert ticket.location.building_code is None and ticket.location.detail == "东门"


async def test_joining_is_offered_only_in_the_same_unit_and_the_handler_hears_of_each_one(uow_factory):
    await load_example(uow_factory)
    bot = make_conversations(uow_factory, FakeClock())
    world = World()
    first = ResidentChat(bot, 5001, "张阿姨", world=world)
    await first.send("5号楼1单元门口垃圾桶满了没人清")
    await first.presses("是的", "跳过")
    await finish_named(first)
    [ticket] = await tickets_of(uow_factory, 5001)
    worker = ticket.assignee
    other_unit = ResidentChat(bot, 5002, "李叔", world=world)
    await other_unit.send("5号楼2单元垃圾没人清理")
    await other_unit.press("是的")
    assert "几楼" in other_unit.last_text  # no offer: another unit
    await other_unit.send("/cancel")
    before = len(world.inbox[worker])
    same_unit = ResidentChat(bot, 5003, "王建国", world=world)
    await same_unit.send("5号楼1单元楼下垃圾臭死了 13912345678")
    await same_unit.press("是的")
    assert "也是我反映的" in str(same_unit.last_message.buttons)  # before the floor and photos
    await same_unit.press("也是我反映的")
    [notice] = world.inbox[worker][before:]
    assert "又有一位居民反映了同一问题" in notice.text and ticket.number in notice.text
    assert not any(private in notice.text for private in ("王建国", "13912345678", "臭死了"))


@pytest.mark.parametrize("blank", ["👍👍👍👍", "\u200b\u200b\u200b\u200b\u200b", "？？？！！！",
                                   "🙏🏻 🙏🏻 🙏🏻"])
async def test_a_message_that_shows_no_words_is_no_description(bot, uow_factory, blank):
    chat = ResidentChat(bot)
    await chat.send(blank)
    assert "没有看得到的文字" in chat.last_text
    async with uow_factory() as uow:
        conversation = await uow.conversations.get(chat.chat_id)
    assert conversation is None or conversation.dialog is None  # no report started
    await chat.send("/report")
    await chat.press("环境卫生")
    await chat.send(blank)
    assert "没有看得到的文字" in chat.last_text
    await chat.send("\u200b灯\u200b")  # one visible character: too short
    assert "太短" in chat.last_text
    await chat.send("楼道里堆满了纸箱")
    assert "哪栋楼" in chat.last_text


@pytest.mark.parametrize("blank", ["\u200b\u200c\u200d", "😀😀", "？！…", "\u2060\ufeff"])
async def test_a_detail_that_shows_nothing_is_asked_again(bot, uow_factory, blank):
    chat = ResidentChat(bot)
    await chat.send("5号楼3单元有人乱堆杂物")
    await chat.press("是的")
    assert "几楼" in chat.last_text
    await chat.send(blank)
    assert "没有看得到的文字" in chat.texts[-2] and "几楼" in chat.last_text  # asked again
    await chat.send("二楼楼道")
    await finish_named(chat)
    [ticket] = await tickets_of(uow_factory, 5001)
    assert ticket.location.detail == "二楼楼道"
