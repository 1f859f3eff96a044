"""The one redactor: finds personal data in a text however it is written, and masks it.

Whatever about a ticket leaves the handling chain (its handler, the grid's leader, community staff) —
group chats, partner copies, what followers see, "cannot deliver" cards, summaries, exports — goes
through `redact`; the test suite's scan of group messages uses `find`, the same detector.

Found:
  mobile numbers     11 digits 1[3-9]…, with +86 / 0086 / 86 in front, any spaces, dashes (every
                     Unicode dash), dots or brackets between the digits, in full-width digits, or in
                     Chinese numerals read digit by digit (一三八…, 幺 = 1, 两 = 2, 〇/零/洞 = 0)
  landlines          with their area code (021-5555 6666, (0755)12345678, +86 21 5555 6666), checked by
                     `phonenumbers`; without it (7–8 digits) only right after a label (电话/座机/打…)
  ID card numbers    15 or 18 digits (the last may be X) with a plausible birth date
  bank card numbers  16–19 digits, in one block or in blocks of four or more
  e-mail addresses, and WeChat / QQ ids after their label (微信号：abc_123, QQ 12345678)
  names              every name the caller knows for the ticket (reporter, /proxy neighbour), also
                     with spaces between the characters, and a name a resident introduces
                     (我是王秀英, 联系人：李强)

Left alone: ticket numbers (XK-20261122-0007), dates, times, building/unit/room numbers, counts,
amounts — none of them is a valid number of the kinds above, and short numbers never are.
Masked output is never found again: redact(redact(t)) == redact(t).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

import phonenumbers


class Kind(StrEnum):
    MOBILE = "mobile"
    LANDLINE = "landline"
    ID_CARD = "id_card"
    BANK_CARD = "bank_card"
    EMAIL = "email"
    WECHAT = "wechat"
    QQ = "qq"
    NAME = "name"


@dataclass(frozen=True)
class Finding:
    kind: Kind
    start: int
    end: int  # text[start:end] is what gets replaced
    value: str  # normalised: bare digits of a number, the id, the address, the name

    @property
    def mask(self) -> str:
        return _MASKS[self.kind](self.value)


# --- characters -----------------------------------------------------------------------------------

# Chinese digits as people read a number out one digit at a time (financial forms included).
CHINESE_DIGITS = {**dict.fromkeys("零〇○洞", "0"), **dict.fromkeys("一幺壹", "1"),
                  **dict.fromkeys("二两贰", "2"), "三": "3", "叁": "3", "四": "4", "肆": "4",
                  "五": "5", "伍": "5", "六": "6", "陆": "6", "七": "7", "柒": "7", "八": "8", "捌": "8",
                  "九": "9", "玖": "9"}
# What people put between the digits of one number: spaces, every dash, dots (middle dots too), brackets.
SEPARATORS = frozenset(" \t\u00a0\u3000-‐‑‒–—―−﹣－.．·・()（）[]【】")
MAX_GAP = 3  # separator characters between two digit groups of one number
OPENERS = frozenset("+＋(（[【")
# Full-width ASCII (！..～) folded to ASCII, one character for one, so positions stay the same.
FOLD = str.maketrans({chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)} | {"\u3000": " "})


def digit_of(char: str) -> str | None:
    """The digit a character stands for: any Unicode decimal digit (full-width too), or a Chinese one."""
    value = unicodedata.decimal(char, None)
    return str(value) if value is not None else CHINESE_DIGITS.get(char)


# --- numbers --------------------------------------------------------------------------------------

# Ticket numbers (gridcore.ticket.format_ticket_number): never taken for a phone or an ID number.
TICKET_NUMBER = re.compile(r"[A-Za-z]{1,10}-\d{8}-\d{4,}")
PHONE_LABEL = re.compile(r"(电话|手机|座机|固话|号码|联系|致电|打|拨|热线|tel|phone|mobile|call)", re.I)
LABEL_WINDOW = 8
MOBILE_RE = re.compile(r"1[3-9]\d{9}")
ID18 = re.compile(r"[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dX]")
ID15 = re.compile(r"[1-9]\d{5}\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}")
LOCAL_RE = re.compile(r"[2-9]\d{6,7}")
MAX_DIGITS = 19  # the longest number found: a bank card (0086 + a landline is 16)
MIN_CHINESE_RUN = 7  # Chinese digits count only in a run this long (一二三 is not a number)


@dataclass(frozen=True)
class _Group:
    digits: str
    start: int
    end: int
    chinese: bool


# A group is one script: 洞138… splits into 洞 | 138…, so a number may start after a Chinese digit.
# (\d is every Unicode decimal digit: full-width ones too.)
DIGIT_GROUP = re.compile(r"\d+|[" + "".join(CHINESE_DIGITS) + "]+")


def _groups(text: str, protected: list[tuple[int, int]]) -> list[list[_Group]]:
    """Runs of digit groups: groups of digits joined by at most MAX_GAP separator characters."""
    for start, end in protected:  # nothing protected is a digit or a separator
        text = text[:start] + "\x00" * (end - start) + text[end:]
    runs: list[list[_Group]] = []
    run: list[_Group] = []
    for match in DIGIT_GROUP.finditer(text):
        chars = match.group()
        chinese = chars[0] in CHINESE_DIGITS
        digits = chars if chars.isascii() else "".join(digit_of(c) or "" for c in chars)
        group = _Group(digits, match.start(), match.end(), chinese)
        gap = text[run[-1].end:group.start] if run else ""
        if run and len(gap) <= MAX_GAP and all(c in SEPARATORS for c in gap):
            run.append(group)
        else:
            if run:
                runs.append(run)
            run = [group]
    if run:
        runs.append(run)
    return runs


def _landline(national: str) -> bool:
    try:
        number = phonenumbers.parse(national, "CN")
    except phonenumbers.NumberParseException:
        return False
    return (phonenumbers.is_valid_number(number)
            and phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.FIXED_LINE)


def _luhn(digits: str) -> bool:
    """The check digit every bank card carries."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def classify(digits: str, *, labelled: bool = False, blocks: tuple[int, ...] = ()) -> tuple[Kind, str] | None:
    """What a run of digits is (with the value to mask), or None. `blocks`: the lengths of the groups it
    was written in (ID and bank card numbers are never spelled out in ones and twos)."""
    for prefix in ("0086", "86", ""):
        if not digits.startswith(prefix):
            continue
        core = digits[len(prefix):]
        if MOBILE_RE.fullmatch(core) or (core[:1] == "0" and MOBILE_RE.fullmatch(core[1:])):
            return Kind.MOBILE, core[-11:]  # 0138… is a mobile number written with the trunk 0
        national = core if core.startswith("0") or not prefix else "0" + core
        if 10 <= len(national) <= 12 and national.startswith("0") and _landline(national):
            return Kind.LANDLINE, national
    if all(size >= 3 for size in blocks):
        if ID18.fullmatch(digits) or ID15.fullmatch(digits):
            return Kind.ID_CARD, digits
        if 16 <= len(digits) <= 19 and (digits[0] in "3456789" or _luhn(digits)):
            return Kind.BANK_CARD, digits  # (not 20261122-20261125, a range of dates)
    if labelled and LOCAL_RE.fullmatch(digits):
        return Kind.LANDLINE, digits
    return None


def _numbers(text: str, folded: str, protected: list[tuple[int, int]]) -> list[Finding]:
    found: list[Finding] = []
    for run in _groups(text, protected):
        i = 0
        while i < len(run):
            labelled = bool(PHONE_LABEL.search(folded[max(0, run[i].start - LABEL_WINDOW):run[i].start]))
            best: tuple[int, Kind, str, int] | None = None
            digits = ""
            for j in range(i, len(run)):
                digits += run[j].digits
                if len(digits) > MAX_DIGITS:
                    break
                chinese = sum(len(g.digits) for g in run[i:j + 1] if g.chinese)
                if chinese and len(digits) < MIN_CHINESE_RUN:
                    continue
                end = run[j].end
                candidate = digits
                if len(digits) == 17 and end < len(text) and folded[end] in "Xx":
                    candidate, end = digits + "X", end + 1
                blocks = tuple(len(g.digits) for g in run[i:j + 1])
                kind = classify(candidate, labelled=labelled and len(blocks) <= 3, blocks=blocks)
                if kind is not None:
                    best = (j, kind[0], kind[1], end)
            if best is None:
                i += 1
                continue
            j, kind, value, end = best
            start = run[i].start
            while start > 0 and text[start - 1] in OPENERS and run[i].start - start < 2:
                start -= 1
            found.append(Finding(kind, start, end, value))
            i = j + 1
    return found


# --- e-mail, WeChat, QQ, names ---------------------------------------------------------------------

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_SAYS = r"\s*(?:号码|号|id|ID)?\s*(?:是|为|:|=)?\s*"
WECHAT = re.compile(r"(?:微信|威信|薇信|[Vv]信|(?<![A-Za-z])(?:vx|wx|weixin|wechat)(?![A-Za-z]))" + _SAYS
                    + r"([A-Za-z][-_A-Za-z0-9]{5,19}|\d{5,20})(?![-_A-Za-z0-9])", re.I)
QQ = re.compile(r"(?:(?<![A-Za-z])qq|扣扣)" + _SAYS + r"([1-9]\d{4,11})(?!\d)", re.I)
SURNAMES = ("欧阳|司马|上官|诸葛|东方|皇甫|尉迟|公孙|慕容|长孙|宇文|司徒|夏侯|令狐|"
            "[王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
            "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
            "龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左"
            "柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶"
            "解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬"
            "边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝]")
# Characters that end or follow a name rather than belong to it (我是王秀英住…, 我是安全员, 我是孙子).
_NOT_GIVEN = "的住在是家要想和跟说了呢啊吧楼号室单元电话手机先生女士阿姨大爷师傅老员长们户主工子人里边面上下"
_GIVEN = r"(?:(?![" + _NOT_GIVEN + r"])[\u4e00-\u9fff]){1,2}"
# A name stands alone: the introduction ends after it (我是高层住户 introduces nobody).
_NAME_ENDS = r"(?=[\s,.!?;:)\]」』，。、！？；：）】]|$|电话|手机|联系|座机|微信)"
INTRODUCED = re.compile(r"(?:我是|我叫|本人|联系人|姓名|名字|称呼)\s*(?:是|为|:)?\s*"
                        r"((?:" + SURNAMES + r")" + _GIVEN + r")" + _NAME_ENDS)


def _known_name(name: str) -> re.Pattern[str] | None:
    name = unicodedata.normalize("NFKC", name).strip()
    if len(name) < 2:  # a surname alone is everywhere
        return None
    return re.compile(r"\s*".join(re.escape(char) for char in name if not char.isspace()), re.I)


def _names(folded: str, names: Iterable[str]) -> list[Finding]:
    found: list[Finding] = []
    patterns = {p.pattern: p for name in names
                for part in (name, *_parts(name)) if (p := _known_name(part)) is not None}
    for pattern in patterns.values():
        found += [Finding(Kind.NAME, m.start(), m.end(), m.group()) for m in pattern.finditer(folded)]
    found += [Finding(Kind.NAME, m.start(1), m.end(1), m.group(1)) for m in INTRODUCED.finditer(folded)]
    return found


def _parts(name: str) -> list[str]:
    """The parts of a name written with spaces ("Wang Fang"), each long enough to be telling."""
    parts = unicodedata.normalize("NFKC", name).split()
    return [p for p in parts if len(parts) > 1 and (len(p) >= 4 or (len(p) >= 2 and not p.isascii()))]


# --- the redactor ---------------------------------------------------------------------------------


def find(text: str, names: Iterable[str] = ()) -> list[Finding]:
    """Every piece of personal data in `text`, in order, none overlapping (the longest wins)."""
    if not text:
        return []
    folded = text.translate(FOLD)
    protected = [m.span() for m in TICKET_NUMBER.finditer(folded)]
    candidates = _names(folded, names)
    candidates += [Finding(Kind.EMAIL, m.start(), m.end(), m.group()) for m in EMAIL.finditer(folded)]
    candidates += [Finding(Kind.WECHAT, m.start(1), m.end(1), m.group(1)) for m in WECHAT.finditer(folded)]
    candidates += [Finding(Kind.QQ, m.start(1), m.end(1), m.group(1)) for m in QQ.finditer(folded)]
    taken = [(c.start, c.end) for c in candidates] + protected
    candidates += _numbers(text, folded, taken)
    chosen: list[Finding] = []
    for finding in sorted(candidates, key=lambda f: (f.start, -(f.end - f.start))):
        if not chosen or finding.start >= chosen[-1].end:
            chosen.append(finding)
    return chosen


def redact(text: str, names: Iterable[str] = ()) -> str:
    """`text` with every finding replaced by its mask (138****5678, 021-****6666, 王**, 微信：***)."""
    pieces, last = [], 0
    for finding in find(text, names):
        pieces += [text[last:finding.start], finding.mask]
        last = finding.end
    return "".join([*pieces, text[last:]])


def mask_name(name: str) -> str:
    """张** — what a resident sees of a worker, and anyone outside the chain of a resident."""
    name = name.strip()
    return f"{name[:1]}{'*' * max(2, len(name) - 1)}" if name else "**"


def mask_phone(phone: str | None) -> str:
    """A phone number on file as the handling chain sees it: 138****5678; '' when there is none."""
    if not phone or not phone.strip():
        return ""
    numbers = [f for f in find(phone) if f.kind in (Kind.MOBILE, Kind.LANDLINE)]
    if numbers:
        return numbers[0].mask
    digits = "".join(d for char in phone if (d := digit_of(char)) is not None)
    return f"{digits[:3]}****{digits[-4:]}" if len(digits) >= 8 else "****"


def split_landline(national: str) -> tuple[str, str]:
    """A landline with its trunk 0 as (area code, local number): 010 and 02x have three digits, every
    other area code four. A number without its area code is ("", number)."""
    if not national.startswith("0"):
        return "", national
    area = 3 if national[1:2] in ("1", "2") else 4
    return national[:area], national[area:]


def _mask_landline(national: str) -> str:
    area, number = split_landline(national)
    return f"{area}-****{number[-4:]}" if area else f"****{number[-4:]}"


def _mask_email(address: str) -> str:
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


_MASKS = {
    Kind.MOBILE: lambda v: f"{v[:3]}****{v[-4:]}",
    Kind.LANDLINE: _mask_landline,
    Kind.ID_CARD: lambda v: f"{v[:3]}{'*' * (len(v) - 7)}{v[-4:]}",
    Kind.BANK_CARD: lambda v: f"****{v[-4:]}",
    Kind.EMAIL: _mask_email,
    Kind.WECHAT: lambda v: "***",
    Kind.QQ: lambda v: "***",
    Kind.NAME: lambda v: mask_name("".join(v.split())),  # 欧阳 春花 is 欧*** too
}
