"""Triage in the report dialog (issue 20), on SQLite, PostgreSQL and the in-memory unit of work: sure,
one suggestion (是的 / 选其他类别); unsure, the two most likely as buttons and 其他类别; the resident's
pick of the second, and a worker's 改类别, are corrections the community's next suggestion learns from."""

from __future__ import annotations

import pytest
from dialog_support import FakeClock, ResidentChat, World, example_community, load_example
from test_worker_loop import RESIDENT, WORKER_1

from bot.triage_model import load_model
from gridcore.ports import CORRECTED_BY_RESIDENT, CORRECTED_BY_WORKER
from gridcore.triage import suggest
from handlers.app import Conversations
from handlers.texts import Texts
from handlers.triage import Triage

pytestmark = pytest.mark.memory

NEIGHBOUR = 5002
# Messages naming 3号楼2单元 (no place question) that say too little for one sure category.
VAGUE = ("3号楼2单元门口的石墩子", "3号楼2单元门口那个东西", "3号楼2单元楼下那家天天这样",
         "3号楼2单元楼道里那辆破自行车放了两年了")


@pytest.fixture(scope="module")
def triage_model():
    return load_model()


@pytest.fixture
async def chat(uow_factory, triage_model):
    await load_example(uow_factory)
    bot = Conversations(uow_factory, Texts(), clock=FakeClock(), bot_username="gridbot_test_bot",
                        triage=Triage(triage_model))
    world = World()
    return lambda user_id, name: ResidentChat(bot, user_id, name, world=world)


def unsure_message(model) -> tuple[str, list[str]]:
    categories = example_community().categories
    for text in VAGUE:
        found = suggest(text, categories, model)
        if not found.sure and len(found.categories) == 2:
            return text, [c.name for c in found.categories]
    raise AssertionError("none of VAGUE is unsure any more: pick vaguer messages")


async def corrections(uow_factory):
    async with uow_factory() as uow:
        return await uow.corrections.for_community("XK", 50)


async def finish(resident: ResidentChat) -> None:
    await resident.presses("跳过", "没有照片", "匿名反映", "确认提交")


async def test_sure_asks_one_and_unsure_offers_two_then_learns_the_pick(chat, uow_factory, triage_model):
    resident = chat(RESIDENT, "张阿姨")
    await resident.send("3号楼2单元楼道灯坏了一个星期了，晚上黑乎乎的")
    assert "公共设施" in resident.last_text and "对吗" in resident.last_text
    assert [b.text for b in resident.last_message.buttons[0]] == ["是的", "选其他类别"]
    await resident.press("取消")

    text, (first, second) = unsure_message(triage_model)
    await resident.send(text)
    question = resident.last_message
    assert "属于哪一类" in question.text
    assert [[b.text for b in row] for row in question.buttons] == [[first, second], ["其他类别", "取消"]]
    await resident.press(second)
    await finish(resident)
    assert "已提交" in resident.last_texts() or "工单" in resident.last_text
    async with uow_factory() as uow:
        filed = (await uow.tickets.for_resident(RESIDENT))[0]
    chosen = next(c for c in example_community().categories if c.name == second)
    assert filed.category_code == chosen.code
    kept = await corrections(uow_factory)
    assert [(c.text, c.chosen, c.source) for c in kept] == [(text, chosen.code, CORRECTED_BY_RESIDENT)]

    neighbour = chat(NEIGHBOUR, "李大爷")  # the same words in the same community: learnt
    await neighbour.send(text)
    assert f"「<b>{second}</b>」" in neighbour.last_text and "对吗" in neighbour.last_text


async def test_other_categories_shows_the_whole_list(chat, triage_model):
    resident = chat(RESIDENT, "张阿姨")
    text, _ = unsure_message(triage_model)
    await resident.send(text)
    await resident.press("其他类别")
    offered = [b.text for row in resident.last_message.buttons for b in row]
    assert "请选择问题类别" in resident.last_text and {"环境卫生", "治安", "民生求助"} <= set(offered)
    await resident.press("民生求助")
    assert "民生求助" not in resident.last_text or "类别" not in resident.last_text  # on to the next question


async def test_the_first_of_two_is_no_correction(chat, uow_factory, triage_model):
    resident = chat(RESIDENT, "张阿姨")
    text, (first, _second) = unsure_message(triage_model)
    await resident.send(text)
    await resident.press(first)
    await finish(resident)
    assert await corrections(uow_factory) == []


async def test_a_workers_recategorisation_teaches_the_next_suggestion(chat, uow_factory):
    resident, worker = chat(RESIDENT, "张阿姨"), chat(WORKER_1, "王芳")
    text = "3号楼2单元门口快递柜旁边老有人蹲着抽烟，一地烟头"
    await resident.send(text)
    offered = resident.last_message.buttons[0][0].text
    await resident.press(offered)
    await finish(resident)
    target = "治安" if offered != "治安" else "环境卫生"
    await worker.press("改类别")
    await worker.press(target)
    kept = await corrections(uow_factory)
    assert [(c.text, c.source) for c in kept] == [(text, CORRECTED_BY_WORKER)]

    neighbour = chat(NEIGHBOUR, "李大爷")
    await neighbour.send("3号楼2单元门口快递柜旁边老有人蹲着抽烟，地上全是烟头")
    assert f"「<b>{target}</b>」" in neighbour.last_text and "对吗" in neighbour.last_text


async def test_a_stale_second_button_changes_nothing(chat, triage_model):
    resident = chat(RESIDENT, "张阿姨")
    await resident.send("3号楼2单元楼道灯坏了一个星期了，晚上黑乎乎的")  # sure: no second button
    question = resident.last_message
    forged = question.buttons[0][0].data.replace(":yes", ":alt")
    handled = await resident.press_data(forged)
    assert handled.callback_alert and "对吗" in resident.last_text
