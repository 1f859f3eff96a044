"""The conversation fuzzer's inputs: who sends what, step by step, from a random.Random seeded by
Hypothesis (one seed per example: the failing seed is printed and replays the same sequence). Most
presses are buttons the bot really showed (that is what gets tickets filed, accepted, resolved and
rated); the rest is everything a chat can throw at it."""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from typing import Any

from dialog_support import FakeClock, ResidentChat, World, assert_telegram_accepts
from pii_scan import PiiWatch

from gridcore.messages import OutgoingMessage
from handlers import upkeep
from handlers.app import Conversations, Handled
from handlers.inputs import Incoming, InputKind

# Distinctive names (none is in a template, a roster name or another name), some odd.
NAMES = ["欧阳春花", "司马青云", "诸葛小明", "上官婉儿", "Ａｎｎａ Ｌｅｅ", "محمد علي", "Zoë 🙂", "小<b>明",
         "李\u200b四娘", "O'Brien & Co", "慕容复", "東方不敗", "Ωμέγα Λ", "𝔘𝔫𝔦 Name", "公孙策", "独孤求败",
         "令狐冲冲", "端木蓉蓉", "皇甫嵩嵩", "宇文拓拓"]
STAFF_ACTORS = {1011: "王芳", 1012: "刘洋", 1013: "张敏", 1021: "马国庆", 1022: "黄秀英", 1001: "李建国",
                1031: "徐长海", 1041: "钱经理"}
GROUPS = {-1001000000001: (1001, 5001), -1001000000011: (1011, 5002), -1001000000999: (5003, 5004)}
REPORTS = ["3号楼2单元楼道灯坏了一个星期了", "5号楼门禁坏了，外面的人随便进", "广场上垃圾没人清",
           "楼道堆放杂物，消防通道堵了", "8号楼车库漏水", "楼上装修噪音太大，半夜还在砸墙", "楼道里有煤气味",
           "能不能多组织一些活动", "老干部楼电梯坏了", "14号楼门口乱停车", "供销楼下水道堵了"]
ANSWERS = ["是的", "匿名", "实名", "不匿名", "3号楼", "2单元", "干休楼", "302室", "跳过", "确认", "环境卫生",
           "公共设施", "22号车库", "99号楼", "5单元", "取消", "好的", "换好了", "已联系物业"]
WITH_PII = ["我是{name}，电话{phone}，{report}", "{report}，联系{phone}", "{name}家门口{report}，{phone}",
            "302室 {name} {phone}", "{neighbour} {phone}", "{neighbour}", "姓名：{neighbour} 电话：{phone}",
            "{report} {name}"]
ODD = ["", " ", "\u200b\u200b", "\u202eﻣﺮﺣﺒﺎ بالعالم", "\x00\x01\x7f\x1b[31m", "e\u0301" * 50, "👨‍👩‍👧" * 30,
       "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝟙𝟚𝟛", "<b>x</b> & <script>alert(1)</script> &lt;", "\n\n\n", "🙂", "/", "//report",
       "／report", "\ufeffhello there", "a" * 4097, "楼" * 1001]
COMMANDS = ["report", "my", "phone", "cancel", "help", "start", "tasks", "ticket", "grid", "open", "proxy",
            "foo", "START", "start@gridbot_test_bot", "start@other_bot"]
PAYLOADS = ["", "b_3", "b_LG", "b_G8", "b_nope", "b_", "inv_abcdef123", "inv_", "inv_" + "x" * 70,
            "b_3 extra", "XK-20261122-0001", "XK-20261122-0002", "垃圾", "b_\u202e3"]
WHAT = ["sticker", "voice", "video", "video_note", "audio", "document", "animation", "poll", "dice", "other"]
FORWARD = ("w:accept:", "w:progress:", "w:resolve:", "w:assign:", "w:to:")  # along the lifecycle
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
_update_ids = itertools.count(10_000_000)


def phone_text(digits: int, style: int) -> str:
    mobile = f"13{digits % 10}{digits:08d}"[:11]
    return [mobile, f"{mobile[:3]} {mobile[3:7]} {mobile[7:]}", f"{mobile[:3]}-{mobile[3:7]}-{mobile[7:]}",
            f"+86 {mobile}", f"+86{mobile}", mobile.translate(FULL_WIDTH), f"021-{digits % 10**8:08d}",
            f"(86){mobile}"][style]


def asked_now(chat: ResidentChat) -> OutgoingMessage | None:
    """The newest message with text in the chat, if it has buttons (a question, a card)."""
    newest = next((m for m in reversed(chat.received) if m.text), None)  # a card edited in place counts
    return newest if newest is not None and newest.buttons else None


def random_text(rng: random.Random) -> str:
    """Up to 30 characters from anywhere in Unicode but the surrogates (Telegram sends valid UTF-8)."""
    ranges = [(0x20, 0x7E), (0x0, 0x1F), (0x80, 0x2FF), (0x4E00, 0x9FFF), (0x0600, 0x06FF),
              (0x1F300, 0x1FAFF), (0x200B, 0x202E), (0xE000, 0xF8FF), (0x10000, 0x10FFFF)]
    chars = []
    for _ in range(rng.randint(0, 30)):
        low, high = rng.choice(ranges)
        chars.append(chr(rng.randint(low, high)))
    return "".join(chars)


@dataclass
class Person:
    chat: ResidentChat
    resident: bool  # not on the roster's staff


@dataclass
class Step:
    kind: str
    person: Person | None
    action: Any
    sender: int | None
    duplicate: bool = False
    system_messages: list[OutgoingMessage] = field(default_factory=list)
    detail: str = ""

    async def run(self) -> Handled | None:
        return await self.action()

    def __repr__(self) -> str:
        who = f"{self.person.chat.user_id}@{self.person.chat.chat_id}" if self.person else "-"
        return f"Step({self.kind} by {who}: {self.detail[:120]!r})"


class Fuzzer:
    def __init__(self, seed: int, bot: Conversations, world: World, clock: FakeClock,
                 watch: PiiWatch) -> None:
        self.bot, self.world, self.clock, self.watch = bot, world, clock, watch
        self.rng = random.Random(seed)
        self.names = self.rng.sample(NAMES, len(NAMES))
        self.people: list[Person] = []
        self.history: list[tuple[Person, Incoming]] = []
        for user_id in (5001, 5002, 5003, 5004):
            self.resident(user_id)
        for user_id, name in STAFF_ACTORS.items():
            self.people.append(Person(ResidentChat(bot, user_id, name, world=world), False))
        for chat_id, members in GROUPS.items():
            for user_id in members:
                resident = user_id not in STAFF_ACTORS
                name = self.name_of(user_id) if resident else STAFF_ACTORS[user_id]
                self.people.append(Person(ResidentChat(bot, user_id, name, world=world, chat_id=chat_id),
                                          resident))
        self.fresh = itertools.count(6001)
        self.current: Person | None = None

    def name_of(self, user_id: int) -> str:
        return next(p.chat.sender.display_name for p in self.people if p.chat.user_id == user_id)

    def resident(self, user_id: int) -> Person:
        name = self.names[len([p for p in self.people if p.resident and p.chat.chat_id > 0]) % len(NAMES)]
        self.watch.resident(name)
        person = Person(ResidentChat(self.bot, user_id, name, world=self.world), True)
        self.people.append(person)
        return person

    def next_step(self) -> Step:
        if self.rng.random() < 0.55:
            return self.flow()
        if self.current is not None and self.rng.random() < 0.7:
            person = self.current  # people mostly go on with what they were doing
        else:
            person = self.rng.choice(self.people)
        self.current = person
        kind = self.rng.choice(["button"] * 2 + ["text"] * 6 + ["command"] * 3 + ["forged"] * 3 + [
            "photo", "contact", "location", "unsupported", "edited", "redeliver", "time", "newcomer"])
        if kind == "time":
            return self.time_passes()
        if kind == "newcomer":
            person = self.current = self.resident(next(self.fresh))
            kind = "text"
        chat = person.chat
        if kind == "button":
            data = self.live_button(chat)
            if data is None:
                data = self.forged()
            return self.step("button", person, lambda: chat.press_data(data), data)
        if kind == "forged":
            data = self.forged()
            return self.step("button", person, lambda: chat.press_data(data), data)
        if kind in ("text", "command"):
            text = self.text(person) if kind == "text" else self.command()
            self.watch.typed(text)  # a phone number anyone types is a resident's (or a neighbour's)
            return self.step("text", person, lambda: chat.send(text), text)
        if kind == "photo":
            caption = self.rng.choice(["", *REPORTS, "我是{name} 13912345678"]).format(
                name=chat.sender.display_name)
            self.watch.typed(caption)
            return self.step("photo", person, lambda: chat.photo(f"ph-{next(_update_ids)}", caption), caption)
        if kind == "contact":
            phone = phone_text(self.rng.randint(0, 10**8 - 1), self.rng.randint(0, 7))
            own = (self.rng.random() < 0.5)
            if own and person.resident:
                self.watch.phone(phone)
            return self.step("contact", person, lambda: chat.contact(phone, None if own else 42), phone)
        if kind == "redeliver" and self.history:
            old_person, incoming = self.rng.choice(self.history[-20:])
            return Step("redeliver", old_person, lambda: old_person.chat._handle(incoming),
                        incoming.sender.user_id, duplicate=True, detail=str(incoming)[:100])
        if kind == "location":
            return self.step("location", person, lambda: chat._handle(chat._incoming(
                InputKind.LOCATION, what="location")), "")
        if kind == "unsupported":
            what = self.rng.choice(WHAT)
            return self.step("unsupported", person, lambda: chat.unsupported(what), what)
        return self.step("edited", person, chat.edited, "")

    def flow(self) -> Step:
        """Someone answers what the bot just asked them (a report question, a card, a rating), or a
        resident starts a report: this is what moves tickets along their lifecycle."""
        asked = [p for p in self.people if asked_now(p.chat)]
        if asked and self.rng.random() < 0.85:
            # Staff get to their cards as often as residents answer: tickets get worked on, not only filed.
            staff = [p for p in asked if not p.resident]
            person = self.rng.choice(staff if staff and self.rng.random() < 0.5 else asked)
            question = asked_now(person.chat)
            assert question is not None
            shown = [b.data for row in question.buttons for b in row if b.data]
            forward = [d for d in shown if d.startswith(FORWARD)]
            data = self.rng.choice(
                forward if forward and self.rng.random() < 0.5 else
                [d for d in shown if not d.endswith(":cancel") or self.rng.random() < 0.1] or shown)
            task = question.text.startswith(("请写", "请发", "请说", "请简单")) or "原因" in question.text
            if task and self.rng.random() < 0.6:  # a note, a reason, a result: words, not a button
                text = self.rng.choice([*ANSWERS[-3:], "灯还是不亮", "这栋楼归第二网格"])
                return self.step("text", person, lambda: person.chat.send(text), text)
            if "代邻居反映" in question.text and self.rng.random() < 0.7:
                text = self.with_pii(person)
                self.watch.typed(text)
                return self.step("text", person, lambda: person.chat.send(text), text)
            return self.step("button", person, lambda: person.chat.press_data(data), data)
        person = self.rng.choice([p for p in self.people if p.chat.chat_id > 0 and p.resident])
        text = self.rng.choice(REPORTS)
        if self.rng.random() < 0.1:  # a building leader files for a neighbour (代办)
            person, text = next(p for p in self.people if p.chat.chat_id == 1031), "/proxy"
        return self.step("text", person, lambda: person.chat.send(text), text)

    def step(self, kind: str, person: Person, action, detail: str) -> Step:
        async def run() -> Handled:
            handled = await action()
            if person.chat.last is not None and not handled.duplicate:
                self.history.append((person, self.last_incoming(person)))
            return handled

        return Step(kind, person, run, person.chat.user_id, detail=detail)

    @staticmethod
    def last_incoming(person: Person) -> Incoming:
        assert person.chat.last_incoming is not None
        return person.chat.last_incoming

    def live_button(self, chat: ResidentChat) -> str | None:
        with_buttons = [m for m in chat.received[-8:] if m.buttons]
        if not with_buttons:
            return None
        # Mostly the newest question; sometimes an older message's button (stale by now, or not).
        message = with_buttons[-1] if self.rng.random() < 0.9 else self.rng.choice(with_buttons)
        shown = [b.data for row in message.buttons for b in row if b.data]
        onward = [data for data in shown if not data.endswith(":cancel")]
        # Cancel is on nearly every question; pressed as often as the rest, no report would ever finish.
        return self.rng.choice(onward if onward and self.rng.randint(0, 9) else shown)

    def forged(self) -> str:
        ticket = self.rng.randint(0, 12)
        staff = self.rng.choice([1011, 1012, 1021, 1001, 5001, 99999])
        return self.rng.choice([
            f"w:accept:{ticket}", f"w:resolve:{ticket}", f"w:progress:{ticket}", f"w:reveal:{ticket}",
            f"w:escalate:{ticket}", f"w:transfer:{ticket}", f"w:assign:{ticket}", f"w:to:{ticket}:{staff}",
            f"w:tt:{ticket}:u{staff}", f"w:tt:{ticket}:g2", f"w:tt:{ticket}:gZZ", f"rt:{ticket}:f:satisfied",
            f"rt:{ticket}:f:unsatisfied", f"rt:{ticket}:c:1", f"rt:{ticket}:s:solved", f"rt:{ticket}:x:y",
            f"v:{ticket}", f"t:XK-20261122-{ticket:04d}", f"r:{ticket}:confirm", f"r:{ticket}:cancel",
            f"r:{ticket}:cat:env", f"r:{ticket}:b:3", f"r:{ticket}:done", "w:", "rt:", "r:", "", ":::",
            "w:accept:-1", "w:accept:1e9", "w:accept:９", "r:abc:confirm", "x" * 64, "🙂" * 16,
            f"w:to:{ticket}:", f"w:accept:{ticket}:extra:parts"])

    def text(self, person: Person) -> str:
        idle = asked_now(person.chat) is None
        choice = self.rng.randint(0, 9)
        if (choice <= 2 and (person.resident or choice == 0)) or (idle and person.resident and choice <= 5):
            return self.rng.choice(REPORTS)
        if choice <= 4:
            return self.rng.choice(ANSWERS)
        if choice <= 6:
            return self.with_pii(person)
        if choice == 7:
            return self.rng.choice(ODD)
        if choice == 8:
            return self.rng.choice(["啊", "a", "🙂", "\u200b", "楼"]) * 4096
        return random_text(self.rng)

    def with_pii(self, person: Person) -> str:
        """A text with a name and a phone number in it: the sender's own name (the bot masks the
        reporter's name in what groups see), or, answering the 代办 question, a neighbour's. Another
        resident's name typed into a description is not something the bot can recognise."""
        question = asked_now(person.chat)
        neighbour = person.chat.sender.display_name
        if question is not None and "代邻居反映" in question.text:
            neighbour = self.rng.choice(self.names)
            self.watch.resident(neighbour)  # the neighbour a building leader reports for is a resident
        phone = phone_text(self.rng.randint(0, 10**8 - 1), self.rng.randint(0, 7))
        return self.rng.choice(WITH_PII).format(name=person.chat.sender.display_name, phone=phone,
                                                neighbour=neighbour, report=self.rng.choice(REPORTS))

    def command(self) -> str:
        name = self.rng.choice(COMMANDS)
        payload = self.rng.choice(PAYLOADS)
        return f"/{name} {payload}".rstrip()

    def time_passes(self) -> Step:
        hours = self.rng.choice([1, 3, 5, 25, 24 * 8])
        step = Step("time", None, None, None, detail=f"{hours} h")

        async def run() -> None:
            self.clock.advance(hours=hours)
            for job in (upkeep.close_unrated, upkeep.send_reminders):
                sent = await self.bot.system(job)
                for message in sent:
                    assert_telegram_accepts(message)
                    self.world.inbox[message.chat_id].append(message)
                step.system_messages.extend(sent)

        step.action = run
        return step
