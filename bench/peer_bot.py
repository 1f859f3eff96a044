"""The yardstick for bench.inbound: the resident report dialog written the way aiogram's documentation
teaches, as a developer would build it without gridbot.

One Router; the dialog's steps are `StatesGroup` states and the draft is `FSMContext` data in
`RedisStorage`; the stock `AiohttpSession` and `Dispatcher.start_polling`; the finished report is stored
through one SQLAlchemy `AsyncSession` in the peer's own table (created at start, on the database of the
run: SQLite or PostgreSQL); replies are `message.answer(...)` with inline keyboards built from
`CallbackData`.

It asks what gridbot asks, in the same order and with the same button labels, so bench.inbound drives
both with one script: the category suggested from the roster's keywords (是的 / 选其他类别 / 取消), the
building and the unit unless the text names them, an open ticket of the same kind in that place filed in
the last week by someone else (也是我反映的 / 仍要新建), the spot unless the text names it (跳过), photos
(没有照片，跳过), 实名反映 / 匿名反映 (实名: the phone offered on a reply keyboard before the summary), the
summary (✅ 确认提交 / 修改 / 取消); the filing is sent to the grid's worker. Unlike gridbot it records no
update before handling it (a crash loses or repeats a step) and keeps no reply to send again.

    BOT_TOKEN=... TELEGRAM_API_URL=http://127.0.0.1:PORT DATABASE_URL=sqlite+aiosqlite:///peer.db \\
    ROSTER_FILE=examples/roster.yaml [REDIS_URL=redis://127.0.0.1:6379/0] [FSM_KEY_PREFIX=peer] \\
    python -m bench.peer_bot

Logs READY once it is about to poll (bench.harness.BotProcess(command=..., ready_marker=READY)).
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiogram import Bot, Dispatcher, F, Router, html
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ChatType, ParseMode
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandStart, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.redis import DefaultKeyBuilder, RedisStorage
from aiogram.types import (
    CallbackQuery,
    InaccessibleMessage,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from aiogram.utils.keyboard import InlineKeyboardBuilder
from redis.asyncio import BlockingConnectionPool, Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from bench.peer_data import (
    SPOT,
    Base,
    Community,
    Follower,
    Ticket,
    building_named,
    category_named,
    find_building,
    find_unit,
    load_community,
    open_duplicate,
    suggest_category,
    ticket_number,
)

READY = "peer bot ready"
log = logging.getLogger("bench.peer_bot")
FSM_TTL = timedelta(days=1)  # an abandoned draft expires from Redis
PHONE = re.compile(r"\+?[\d\s-]{7,20}")


class Report(StatesGroup):
    confirm_category = State()
    category = State()
    building = State()
    unit = State()
    duplicate = State()
    spot = State()
    photos = State()
    anonymity = State()
    confirm = State()


class Pick(CallbackData, prefix="r"):
    step: str
    value: str = ""


Chat = Message | InaccessibleMessage  # where a reply goes: the message (or the press's message) answered


def keyboard(buttons: list[tuple[str, Pick]], width: int) -> Any:
    builder = InlineKeyboardBuilder()
    for text, data in buttons:
        builder.button(text=text, callback_data=data)
    builder.adjust(width)
    return builder.as_markup()


PHONE_KEYBOARD = ReplyKeyboardMarkup(
    keyboard=[[KeyboardButton(text="分享我的手机号", request_contact=True)],
              [KeyboardButton(text="不留电话")]],
    resize_keyboard=True, one_time_keyboard=True)
ASK_CATEGORY = "请选择问题类别，或直接输入类别名称："
ASK_BUILDING = "问题在哪栋楼？请点下面的楼号，或直接输入（例如：3号楼、三栋）。"
ASK_UNIT = "在{building}的哪个单元？请点下面的单元，或直接输入（例如：2单元）。"
ASK_SPOT = "具体在几楼或哪一户？（例如：1楼楼道、302室门口）\n\n不清楚可以点「跳过」。"
ASK_ANONYMITY = ("您希望实名还是匿名反映？\n"
                 "实名：网格员可以联系您了解情况。匿名：处理人员看不到您的姓名和电话。")
ASK_PHONE = ("留个电话，方便网格员联系您了解情况吗？\n请点下方「分享我的手机号」，或直接输入号码；"
             "不想留可以点「不留电话」。")


def place_of(draft: dict[str, Any]) -> str:
    unit = f"{draft['unit']}单元" if draft.get("unit") else ""
    return " ".join(part for part in (f"{draft['building']}{unit}", draft.get("spot") or "") if part)


async def ask_next(chat: Chat, state: FSMContext, draft: dict[str, Any], community: Community,
                   sessions: async_sessionmaker[AsyncSession], user_id: int) -> None:
    """Ask the first thing the draft still lacks. The state is stored before the question goes out: the
    resident's answer may arrive before this handler returns."""
    cancel = ("取消", Pick(step="cancel"))
    if draft.get("category") is None:
        if draft.get("suggested"):
            await state.set_state(Report.confirm_category)
            suggested = html.quote(draft["suggested"])
            await chat.answer(f"收到。您反映的问题看起来属于「<b>{suggested}</b>」，对吗？",
                              reply_markup=keyboard([("是的", Pick(step="suggested", value="yes")),
                                                     ("选其他类别", Pick(step="suggested", value="other")),
                                                     cancel], 2))
        else:
            await state.set_state(Report.category)
            await chat.answer(ASK_CATEGORY, reply_markup=keyboard(
                [(c.name, Pick(step="category", value=str(i)))
                 for i, c in enumerate(community.categories)], 3))
        return
    if draft.get("building") is None:
        await state.set_state(Report.building)
        await chat.answer(ASK_BUILDING, reply_markup=keyboard(
            [(b.name, Pick(step="building", value=str(i))) for i, b in enumerate(community.buildings)], 4))
        return
    building = building_named(community, draft["building"])
    if building is not None and building.units and draft.get("unit") is None:
        await state.set_state(Report.unit)
        units = [(f"{u}单元", Pick(step="unit", value=u)) for u in building.units]
        await chat.answer(ASK_UNIT.format(building=html.quote(building.name)),
                          reply_markup=keyboard([*units, ("不在单元内 / 不清楚", Pick(step="unit"))], 3))
        return
    if not draft.get("duplicate_checked"):
        draft = await state.update_data(duplicate_checked=True)
        earlier = await open_duplicate(sessions, draft, user_id)
        if earlier is not None:
            await state.update_data(duplicate_id=earlier.id)
            await state.set_state(Report.duplicate)
            await chat.answer(
                f"这栋楼最近已经有人反映过同类问题：\n<b>{ticket_number(community, earlier)}</b>｜"
                f"{html.quote(earlier.category)}｜{html.quote(earlier.building)}\n"
                "如果是同一件事，点「也是我反映的」，有进展时我们也会通知您。",
                reply_markup=keyboard([("也是我反映的", Pick(step="duplicate", value="join")),
                                       ("仍要新建", Pick(step="duplicate", value="new"))], 1))
            return
    if draft.get("spot") is None:
        await state.set_state(Report.spot)
        await chat.answer(ASK_SPOT, reply_markup=keyboard([("跳过", Pick(step="spot"))], 1))
        return
    if not draft.get("photos_done"):
        await state.set_state(Report.photos)
        count = len(draft.get("photos", []))
        text = (f"已经有 {count} 张照片。还有的话可以继续发，发完点「照片发完了」。" if count
                else "有照片的话请直接发过来（可以发多张）；没有照片请点下面的按钮。")
        await chat.answer(text, reply_markup=keyboard(
            [("照片发完了" if count else "没有照片，跳过", Pick(step="photos"))], 1))
        return
    if draft.get("anonymous") is None:
        await state.set_state(Report.anonymity)
        await chat.answer(ASK_ANONYMITY, reply_markup=keyboard(
            [("实名反映", Pick(step="anonymity", value="named")),
             ("匿名反映", Pick(step="anonymity", value="anon"))], 2))
        return
    await state.set_state(Report.confirm)
    if not draft["anonymous"] and not draft.get("phone") and not draft.get("phone_offered"):
        await state.update_data(phone_offered=True)
        await chat.answer(ASK_PHONE, reply_markup=PHONE_KEYBOARD)
    phone = draft.get("phone")
    way = "匿名" if draft["anonymous"] else f"实名，电话 {phone}" if phone else "实名，未留电话"
    await chat.answer(
        f"请核对您要反映的问题：\n类别：{html.quote(draft['category'])}\n"
        f"描述：{html.quote(draft['description'])}\n位置：{html.quote(place_of(draft))}\n"
        f"照片：{len(draft.get('photos', [])) or '无'}\n方式：{html.quote(way)}\n没问题就点「确认提交」。",
        reply_markup=keyboard([("✅ 确认提交", Pick(step="confirm", value="yes")),
                               ("修改", Pick(step="confirm", value="edit")), cancel], 2))


router = Router(name="report")
router.message.filter(F.chat.type == ChatType.PRIVATE)


async def tidy(callback: CallbackQuery) -> None:
    """The press is answered and its question loses its buttons (after the reply went out)."""
    await callback.answer()
    if isinstance(callback.message, Message):
        await callback.message.edit_reply_markup(reply_markup=None)


@router.message(CommandStart())
async def start(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer("您好！这里是社区网格的居民反映渠道。请直接用一两句话说说遇到的问题。")


@router.message(Command("cancel"))
async def cancel_command(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer("已取消。", reply_markup=ReplyKeyboardRemove())


@router.callback_query(Pick.filter(F.step == "cancel"), F.message.as_("chat"))
async def cancel_button(callback: CallbackQuery, state: FSMContext, chat: Chat) -> None:
    await state.clear()
    await chat.answer("已取消。", reply_markup=ReplyKeyboardRemove())
    await tidy(callback)


@router.message(StateFilter(None), F.text)
async def new_report(message: Message, state: FSMContext, community: Community,
                     sessions: async_sessionmaker[AsyncSession]) -> None:
    assert message.text is not None and message.from_user is not None
    text = message.text.strip()
    building = find_building(community, text)
    suggested = suggest_category(community, text)
    spot = SPOT.search(text)
    draft: dict[str, Any] = {
        "description": text, "suggested": suggested.name if suggested else None, "category": None,
        "building": building.name if building else None, "unit": find_unit(building, text),
        "spot": spot.group(0) if spot else None, "photos": []}
    await state.set_data(draft)
    await ask_next(message, state, draft, community, sessions, message.from_user.id)


@router.callback_query(Report.confirm_category, Pick.filter(F.step == "suggested"), F.message.as_("chat"))
async def take_suggested(callback: CallbackQuery, callback_data: Pick, state: FSMContext, chat: Chat,
                         community: Community, sessions: async_sessionmaker[AsyncSession]) -> None:
    data = await state.get_data()
    if callback_data.value == "yes":
        draft = await state.update_data(category=data["suggested"])
    else:
        draft = await state.update_data(suggested=None)
    await ask_next(chat, state, draft, community, sessions, callback.from_user.id)
    await tidy(callback)


@router.callback_query(Report.category, Pick.filter(F.step == "category"), F.message.as_("chat"))
async def take_category_button(callback: CallbackQuery, callback_data: Pick, state: FSMContext, chat: Chat,
                               community: Community, sessions: async_sessionmaker[AsyncSession]) -> None:
    draft = await state.update_data(category=community.categories[int(callback_data.value)].name)
    await ask_next(chat, state, draft, community, sessions, callback.from_user.id)
    await tidy(callback)


@router.message(Report.category, F.text)
async def take_category_text(message: Message, state: FSMContext, community: Community,
                             sessions: async_sessionmaker[AsyncSession]) -> None:
    assert message.from_user is not None
    category = category_named(community, (message.text or "").strip())
    draft = await state.update_data(category=category.name) if category else await state.get_data()
    if category is None:
        await message.answer("没有这个类别。")
    await ask_next(message, state, draft, community, sessions, message.from_user.id)


@router.callback_query(Report.building, Pick.filter(F.step == "building"), F.message.as_("chat"))
async def take_building_button(callback: CallbackQuery, callback_data: Pick, state: FSMContext, chat: Chat,
                               community: Community, sessions: async_sessionmaker[AsyncSession]) -> None:
    draft = await state.update_data(building=community.buildings[int(callback_data.value)].name, unit=None)
    await ask_next(chat, state, draft, community, sessions, callback.from_user.id)
    await tidy(callback)


@router.message(Report.building, F.text)
async def take_building_text(message: Message, state: FSMContext, community: Community,
                             sessions: async_sessionmaker[AsyncSession]) -> None:
    assert message.from_user is not None
    building = find_building(community, message.text or "")
    if building is None:
        await message.answer("没有找到这栋楼。")
        draft = await state.get_data()
    else:
        draft = await state.update_data(building=building.name, unit=find_unit(building, message.text or ""))
    await ask_next(message, state, draft, community, sessions, message.from_user.id)


@router.callback_query(Report.unit, Pick.filter(F.step == "unit"), F.message.as_("chat"))
async def take_unit_button(callback: CallbackQuery, callback_data: Pick, state: FSMContext, chat: Chat,
                           community: Community, sessions: async_sessionmaker[AsyncSession]) -> None:
    draft = await state.update_data(unit=callback_data.value)  # "": not in a unit
    await ask_next(chat, state, draft, community, sessions, callback.from_user.id)
    await tidy(callback)


@router.message(Report.unit, F.text)
async def take_unit_text(message: Message, state: FSMContext, community: Community,
                         sessions: async_sessionmaker[AsyncSession]) -> None:
    assert message.from_user is not None
    data = await state.get_data()
    unit = find_unit(building_named(community, data["building"]), message.text or "")
    if unit is None:
        await message.answer("这栋楼没有这个单元。")
        draft = data
    else:
        draft = await state.update_data(unit=unit)
    await ask_next(message, state, draft, community, sessions, message.from_user.id)


@router.callback_query(Report.duplicate, Pick.filter(F.step == "duplicate"), F.message.as_("chat"))
async def take_duplicate(callback: CallbackQuery, callback_data: Pick, state: FSMContext, chat: Chat,
                         community: Community, sessions: async_sessionmaker[AsyncSession]) -> None:
    if callback_data.value == "join":
        data = await state.get_data()
        async with sessions.begin() as session:
            session.add(Follower(ticket_id=data["duplicate_id"], user_id=callback.from_user.id))
        await state.clear()
        await chat.answer("已记下，这件事有进展时我们也会通知您。")
    else:
        await ask_next(chat, state, await state.get_data(), community, sessions, callback.from_user.id)
    await tidy(callback)


@router.message(Report.spot, F.text)
async def take_spot_text(message: Message, state: FSMContext, community: Community,
                         sessions: async_sessionmaker[AsyncSession]) -> None:
    assert message.from_user is not None
    draft = await state.update_data(spot=(message.text or "").strip()[:200])
    await ask_next(message, state, draft, community, sessions, message.from_user.id)


@router.callback_query(Report.spot, Pick.filter(F.step == "spot"), F.message.as_("chat"))
async def skip_spot(callback: CallbackQuery, state: FSMContext, chat: Chat, community: Community,
                    sessions: async_sessionmaker[AsyncSession]) -> None:
    draft = await state.update_data(spot="")
    await ask_next(chat, state, draft, community, sessions, callback.from_user.id)
    await tidy(callback)


@router.message(Report.photos, F.photo)
async def take_photo(message: Message, state: FSMContext, community: Community,
                     sessions: async_sessionmaker[AsyncSession]) -> None:
    assert message.photo is not None and message.from_user is not None
    data = await state.get_data()
    draft = await state.update_data(photos=[*data.get("photos", []), message.photo[-1].file_id])
    await ask_next(message, state, draft, community, sessions, message.from_user.id)


@router.callback_query(Report.photos, Pick.filter(F.step == "photos"), F.message.as_("chat"))
async def photos_done(callback: CallbackQuery, state: FSMContext, chat: Chat, community: Community,
                      sessions: async_sessionmaker[AsyncSession]) -> None:
    draft = await state.update_data(photos_done=True)
    await ask_next(chat, state, draft, community, sessions, callback.from_user.id)
    await tidy(callback)


@router.callback_query(Report.anonymity, Pick.filter(F.step == "anonymity"), F.message.as_("chat"))
async def take_anonymity(callback: CallbackQuery, callback_data: Pick, state: FSMContext, chat: Chat,
                         community: Community, sessions: async_sessionmaker[AsyncSession]) -> None:
    draft = await state.update_data(anonymous=callback_data.value == "anon")
    await ask_next(chat, state, draft, community, sessions, callback.from_user.id)
    await tidy(callback)


@router.message(Report.confirm, F.contact | F.text)
async def take_phone(message: Message, state: FSMContext) -> None:
    """The answer to the phone offer: a shared contact, a typed number, or 不留电话."""
    typed = (message.text or "").strip()
    phone = message.contact.phone_number if message.contact else typed if PHONE.fullmatch(typed) else None
    if phone is None:
        await message.answer("好的，不留电话。请点上面的「确认提交」。", reply_markup=ReplyKeyboardRemove())
        return
    await state.update_data(phone=phone)
    await message.answer("已记下您的电话。请点上面的「确认提交」。", reply_markup=ReplyKeyboardRemove())


@router.callback_query(Report.confirm, Pick.filter(F.step == "confirm"), F.message.as_("chat"))
async def take_confirm(callback: CallbackQuery, callback_data: Pick, state: FSMContext, chat: Chat,
                       bot: Bot, community: Community, sessions: async_sessionmaker[AsyncSession]) -> None:
    draft = await state.get_data()
    if callback_data.value == "edit":  # start again from the category, keeping the description
        draft = {"description": draft["description"], "suggested": None, "category": None,
                 "building": None, "unit": None, "spot": None, "photos": []}
        await state.set_data(draft)
        await ask_next(chat, state, draft, community, sessions, callback.from_user.id)
        await tidy(callback)
        return
    category = category_named(community, draft["category"])
    building = building_named(community, draft["building"])
    assert category is not None and building is not None
    ticket = Ticket(reporter_id=callback.from_user.id, category=category.name, building=building.name,
                    unit=draft.get("unit") or None, spot=draft.get("spot") or "",
                    description=draft["description"],
                    photos="\n".join(draft.get("photos", [])), anonymous=draft["anonymous"],
                    phone=draft.get("phone"), created_at=datetime.now(UTC))
    async with sessions.begin() as session:
        session.add(ticket)
    await state.clear()
    number = ticket_number(community, ticket)
    due = (ticket.created_at + category.due_in).astimezone(community.zone)
    await chat.answer(f"✅ 已提交！工单号：<b>{number}</b>\n类别：{html.quote(category.name)}\n\n"
                      f"我们会在 <b>{due:%m月%d日 %H:%M}</b> 前给您反馈处理结果。",
                      reply_markup=ReplyKeyboardRemove())
    await tidy(callback)
    worker = community.workers.get(building.grid)
    if worker is not None:
        try:
            await bot.send_message(worker, f"新工单 <b>{number}</b>\n类别：{html.quote(category.name)}\n"
                                           f"位置：{html.quote(place_of(draft))}\n"
                                           f"描述：{html.quote(draft['description'])}")
        except TelegramAPIError:
            log.warning("ticket %s: the grid worker could not be told", number)


@router.callback_query()
async def stale_button(callback: CallbackQuery) -> None:
    await callback.answer("这个按钮已经失效了。")


@router.message()
async def not_now(message: Message) -> None:
    await message.answer("请点上面消息里的按钮继续，或发送 /cancel 取消。")


async def main() -> None:
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # aiogram logs every update at INFO; gridbot logs none there, and neither bot pays for a line per update
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)
    community = load_community(Path(os.environ["ROSTER_FILE"]))
    engine = create_async_engine(os.environ["DATABASE_URL"])
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    # redis-py's default pool raises "Too many connections" past 100 at once, and aiogram's polling runs
    # every update of a batch as its own task: a blocking pool makes a burst wait for a connection instead.
    pool = BlockingConnectionPool.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
                                           max_connections=100, timeout=None)
    redis = Redis(connection_pool=pool)
    await redis.ping()
    prefix = os.environ.get("FSM_KEY_PREFIX", "fsm")
    storage = RedisStorage(redis, key_builder=DefaultKeyBuilder(prefix=prefix), state_ttl=FSM_TTL,
                           data_ttl=FSM_TTL)
    session = AiohttpSession(api=TelegramAPIServer.from_base(os.environ["TELEGRAM_API_URL"].rstrip("/")))
    bot = Bot(os.environ["BOT_TOKEN"], session=session,
              default=DefaultBotProperties(parse_mode=ParseMode.HTML))
    dispatcher = Dispatcher(storage=storage, community=community,
                            sessions=async_sessionmaker(engine, expire_on_commit=False))
    dispatcher.include_router(router)

    @dispatcher.startup()
    async def ready() -> None:
        log.info(READY)

    try:
        await dispatcher.start_polling(bot, handle_signals=True, close_bot_session=True)
    finally:
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
