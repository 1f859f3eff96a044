"""gridcore.redact: personal data found however it is written, ordinary text left as it is (issue 16).

A table of real-looking examples, then hypothesis writing numbers in the formats people use."""

from __future__ import annotations

from datetime import date

import phonenumbers
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from gridcore.redact import Kind, find, mask_name, mask_phone, redact

FOUND = [
    # mobiles: spaces, every dash, dots, brackets, country prefixes, full-width, Chinese digits
    ("电话13812345678", "电话138****5678"),
    ("电话 +86 139 1234 5678", "电话 139****5678"),
    ("电话+8613912345678", "电话139****5678"),
    ("(+86)139-1234-5678", "139****5678"),
    ("0086 139 1234 5678 找我", "139****5678 找我"),
    ("86-13912345678", "139****5678"),
    ("电话１３９１２３４５６７８", "电话139****5678"),
    ("手机：１３９－１２３４－５６７８", "手机：139****5678"),
    ("打 138—1234—5678 找我", "打 138****5678 找我"),
    ("手机：138 – 1234 – 5678", "手机：138****5678"),
    ("138‐1234‐5678、138−1234−5678", "138****5678、138****5678"),
    ("138.1234.5678", "138****5678"),
    ("1 3 8 1 2 3 4 5 6 7 8", "138****5678"),
    ("电话：一三八一二三四五六七八", "电话：138****5678"),
    ("幺三八 幺二三四 五六七八", "138****5678"),
    ("一三八两二三四五六七八", "138****5678"),
    ("打我手机 一三九 〇〇〇〇 幺幺幺幺", "打我手机 139****1111"),
    ("302室 13812345678", "302室 138****5678"),
    ("302 13812345678", "302 138****5678"),
    # landlines: area codes, brackets, prefixes; a labelled local number
    ("座机 021-55556666", "座机 021-****6666"),
    ("座机0755 1234 5678", "座机0755-****5678"),
    ("(021)55556666", "021-****6666"),
    ("（0755）1234 5678", "0755-****5678"),
    ("+86 21 5555 6666", "021-****6666"),
    ("0086-10-8888-6666", "010-****6666"),
    ("座机 5555 6666", "座机 ****6666"),
    ("电话：8765-4321", "电话：****4321"),
    # ID cards, bank cards
    ("身份证110101199003071234", "身份证110***********1234"),
    ("身份证 11010119900307123x", "身份证 110***********123X"),
    ("身份证 110101 19900307 123X", "身份证 110***********123X"),
    ("身份证号：４４０３０５１９８８１２３１００２Ｘ", "身份证号：440***********002X"),
    ("旧身份证 110101900307123", "旧身份证 110********7123"),
    ("卡号 6222 0212 3456 7890 123", "卡号 ****0123"),
    ("卡号6222021234567890", "卡号****7890"),
    ("信用卡 4392 2500 3141 5926", "信用卡 ****5926"),
    ("工资卡 1234 5678 9012 3452", "工资卡 ****3452"),  # a card number starting with 1: its check digit
    # e-mail, WeChat, QQ
    ("邮箱 zhang.san@example.com", "邮箱 z***@example.com"),
    ("邮箱 13812345678@163.com", "邮箱 1***@163.com"),
    ("微信号：zhangsan_88", "微信号：***"),
    ("加我vx: abc12345", "加我vx: ***"),
    ("微信 13812345678", "微信 ***"),
    ("QQ 12345678", "QQ ***"),
    ("ＱＱ号：87654321", "ＱＱ号：***"),
    ("扣扣号是 87654321", "扣扣号是 ***"),
    # names a resident introduces
    ("我是王秀英，住3号楼", "我是王**，住3号楼"),
    ("联系人：李强 电话呢", "联系人：李** 电话呢"),
    ("本人欧阳娜娜", "本人欧***"),
]

UNTOUCHED = [
    "工单 XK-20261122-0007 已处理",
    "XK-20261122-13812 号",
    "2026-11-22 13:45 3号楼2单元302 共5人 1500元 3.5米",
    "2026年11月22日 上午9:30到11:30停水",
    "2026/11/22、2026.11.22、20261122",
    "停水 20261122-20261125，共 4 天",
    "11-22 09:30，3栋1单元1502室，楼道堆了12个纸箱",
    "维修费 12,000 元，押金 2000.00 元，订单 12345678",
    "400-123-4567 物业热线，报警打110，火警119，急救120",
    "10:30-11:30 停水，编号 20261122",
    "我是业主，我是3号楼的，我叫不出名字",
    "我是高层住户，我是安全员，我是李家的，本人白天上班，我是黄河路那边的，我是孙子",
    "三号楼二单元三〇二，两个人，十二楼，一二三楼都漏水",
    "电梯停了三天，一共 7 户 21 人受影响",
    "138****5678 021-****6666 王** ***",
]


@pytest.mark.parametrize("typed, shown", FOUND)
def test_personal_data_is_masked_however_it_is_written(typed, shown):
    assert redact(typed) == shown
    assert find(shown) == []  # a mask is never found again


@pytest.mark.parametrize("text", UNTOUCHED)
def test_ordinary_text_stays_as_it_is(text):
    assert find(text) == [] and redact(text) == text


def test_every_name_the_system_knows_is_masked_in_any_spacing():
    names = ["张阿姨", "Zhang Xiulan", "欧阳春花"]
    text = "张阿姨说：Zhang Xiulan 和 欧阳 春花 都住302，zhang xiulan 也来了；找张师傅"
    assert redact(text, names) == "张**说：Z********** 和 欧*** 都住302，z********** 也来了；找张师傅"
    assert redact("Xiulan 在家", names) == "X***** 在家"  # a part of a spaced name that tells who it is
    assert redact("张 三", ["张"]) == "张 三"  # a surname alone is everywhere


def test_masks_of_a_number_on_file():
    assert mask_phone("+86 138 1234 5678") == "138****5678"
    assert mask_phone("021-55556666") == "021-****6666"
    assert mask_phone("") == "" and mask_phone(None) == ""
    assert mask_phone("5556666") == "****"
    assert mask_name("欧阳春花") == "欧***" and mask_name("王芳") == "王**" and mask_name("") == "**"


def test_each_kind_is_told():
    kinds = [f.kind for f in find("13812345678 021-55556666 110101199003071234 6222021234567890 "
                                  "a@b.cn 微信 abc_12345 QQ 12345 我是张伟", ["李四"])]
    assert kinds == [Kind.MOBILE, Kind.LANDLINE, Kind.ID_CARD, Kind.BANK_CARD, Kind.EMAIL, Kind.WECHAT,
                     Kind.QQ, Kind.NAME]


# --- hypothesis: the formats, generated -----------------------------------------------------------

SEPARATORS = st.sampled_from([" ", "-", "－", "—", "–", "‐", "‑", "−", "﹣", ".", " - ", "\u3000", "\u00a0"])
CONTEXTS = st.sampled_from(["{}", "电话{}", "有事打{}找我", "联系方式：{}，谢谢", "我家 {} 随时打",
                            "tel:{}", "手机号码是{}。"])
CHINESE = {"0": "零〇洞", "1": "一幺", "2": "二两", "3": "三", "4": "四", "5": "五", "6": "六", "7": "七",
           "8": "八", "9": "九"}


@st.composite
def written(draw, digits: str, splits: list[int]) -> str:
    """`digits` as a person might type them: in ASCII, full-width or Chinese digits, in groups."""
    script = draw(st.sampled_from(["ascii", "full", "chinese", "mixed"]))

    def char(d: str) -> str:
        kind = script if script != "mixed" else draw(st.sampled_from(["ascii", "full", "chinese"]))
        if kind == "full":
            return chr(ord("０") + int(d))
        if kind == "chinese":
            return draw(st.sampled_from(CHINESE[d]))
        return d

    groups, at = [], 0
    for size in splits:
        groups.append("".join(char(d) for d in digits[at:at + size]))
        at += size
    out = groups[0]
    for group in groups[1:]:
        out += draw(SEPARATORS) + group
    return out


MOBILE_SPLITS = [[11], [3, 4, 4], [3, 8], [4, 4, 3], [3, 3, 5], [1] * 11]


@given(st.data(), st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_mobile_numbers_in_every_format_are_masked(data, mobile):
    number = data.draw(written(mobile, data.draw(st.sampled_from(MOBILE_SPLITS))))
    prefixes = ["", "+86", "+86 ", "＋86-", "0086", "0086 ", "86-", "(+86)", "（+86）"]
    prefix = data.draw(st.sampled_from(prefixes))
    context = data.draw(CONTEXTS)
    text = context.format(prefix + number)
    shown = redact(text)
    assert shown == context.format(f"{mobile[:3]}****{mobile[-4:]}"), text
    assert redact(shown) == shown


AREA_CODES = ["010", "020", "021", "022", "023", "024", "025", "027", "028", "029", "0755", "0571", "0512",
              "0531", "0731", "0871", "0431", "0991"]


@given(st.data(), st.sampled_from(AREA_CODES), st.from_regex(r"[2-8][0-9]{7}", fullmatch=True))
def test_landlines_in_every_format_are_masked(data, area, subscriber):
    national = area + subscriber[:8 if len(area) == 3 else data.draw(st.sampled_from([7, 8]))]
    number = phonenumbers.parse(national, "CN")
    assume(phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.FIXED_LINE
           and phonenumbers.is_valid_number(number))
    local = national[len(area):]
    sep = data.draw(SEPARATORS)
    style = data.draw(st.sampled_from(["{a}{s}{l}", "({a}){l}", "（{a}）{l}", "+86 {b} {l}",
                                       "0086{s}{b}{s}{l}", "{a}{s}{l1}{s}{l2}"]))
    half = len(local) // 2
    typed = style.format(a=area, b=area[1:], s=sep, l=local, l1=local[:half], l2=local[half:])
    context = data.draw(CONTEXTS)
    shown = redact(context.format(typed))
    assert shown == context.format(f"{area}-****{national[-4:]}"), typed


@given(st.data(), st.from_regex(r"[1-6][0-9]{5}", fullmatch=True),
       st.dates(min_value=date(1920, 1, 1), max_value=date(2025, 12, 31)),
       st.from_regex(r"[0-9]{3}", fullmatch=True), st.sampled_from(list("0123456789Xx")))
def test_id_card_numbers_are_masked(data, region, born, serial, check):
    digits = f"{region}{born:%Y%m%d}{serial}"
    typed = data.draw(st.sampled_from([
        digits + check, f"{region} {born:%Y%m%d} {serial}{check}", f"{region}-{born:%Y%m%d}-{serial}{check}",
        "".join(chr(ord("０") + int(c)) for c in digits) + check]))
    shown = redact(f"身份证号 {typed}，请核实")
    assert shown == f"身份证号 {digits[:3]}{'*' * 11}{serial}{check.upper()}，请核实"


ORDINARY = st.one_of(
    st.builds(lambda c, d, n: f"{c}-{d:%Y%m%d}-{n:04d}", st.from_regex(r"[A-Z]{2,4}", fullmatch=True),
              st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)),
              st.integers(1, 99999)),
    st.builds(lambda d: f"{d:%Y-%m-%d}", st.dates(min_value=date(2000, 1, 1), max_value=date(2030, 12, 31))),
    st.builds(lambda d: f"{d.year}年{d.month}月{d.day}日", st.dates()),
    st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.integers(0, 59)),
    st.builds(lambda b, u, r: f"{b}号楼{u}单元{r}", st.integers(1, 40), st.integers(1, 6),
              st.integers(101, 3204)),
    st.builds(lambda b, u: f"{b}栋{u}单元", st.integers(1, 40), st.integers(1, 6)),
    st.builds(lambda n: f"共{n}人", st.integers(0, 10_000)),
    st.builds(lambda n: f"{n:,}元", st.integers(0, 10_000_000)),
    st.builds(lambda n, f: f"{n}.{f:02d}元", st.integers(0, 1_000_000), st.integers(0, 99)),
    st.builds(lambda n: f"{n}楼", st.integers(1, 33)),
)


@given(st.lists(ORDINARY, min_size=1, max_size=6), st.sampled_from(["，", "；", "。", "、"]))
def test_ticket_numbers_dates_times_places_counts_and_amounts_stay(pieces, joiner):
    text = joiner.join(pieces)
    assert redact(text) == text
