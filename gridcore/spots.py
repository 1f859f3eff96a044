"""Where inside a place: the floor, room or spot a resident already named, and the public areas.

Pure functions of text:
- spot_in(): "一楼", "3楼", "5层", "负一层", "302室", "楼道里", "地下室", "楼顶", "电梯里" — what the
  report's detail question ("几楼/哪个位置？") would ask, as typed; None when the text names none;
- public_area_in(): "小区门口", "大门", "广场", "停车场", ... — a place in the estate but in no building.
A building's own name ("3号楼", "三栋楼", "老干部楼") is never a floor.
"""

from __future__ import annotations

import re
import unicodedata

from gridcore.numerals import CHINESE_NUMERAL_CHARS

_CN = CHINESE_NUMERAL_CHARS
# A floor: 3楼 / 十二楼 / 5层 / 负一层 / 地下二层 / B1. Not 3号楼, 3#楼, 三栋楼, 13幢楼, 两楼 ("two
# buildings"), 302楼, and not 楼 followed by 房 / 栋 (楼房, 楼栋).
_FLOOR = re.compile(
    rf"(?<![\d{_CN}号#栋幢座第])(?:负|地下)?(?:\d{{1,2}}|[{_CN}]{{1,3}})(?:楼|层)(?![房栋号宇盘])"
    r"|(?<![A-Za-z])[Bb]\d(?:层)?(?![\dA-Za-z])")
# A room: 302室 / 1502房 / 302号房 / 302户 / 302家 (3 or 4 digits), also right after a unit or a floor
# (2单元302, 3楼302).
_ROOM = re.compile(r"(?<!\d)\d{3,4}(?:号房|室|房|户)|(?:(?<=单元)|(?<=[楼层]))\d{3,4}(?!\d)"
                   r"|(?<![\d-])\d{3,4}(?=家|号家)")
# A spot inside or on a building.
_SPOT = re.compile(
    "楼道里|楼道内|楼道口|楼道上|楼梯间|楼梯口|楼梯上|地下室|地下车库|楼顶|顶楼|天台|屋顶|楼顶上|"
    "电梯里|电梯内|电梯间|电梯口|电梯厅|电梯轿厢|单元门口|单元门|门厅|走廊|过道|架空层|设备间|"
    "储藏室|自行车棚|车棚|管道井|水表间|电表箱")
# Places of the estate outside every building.
# 花园 alone is no public area: estates are named so (雅悦花园), and "雅悦花园的电梯" is in a building.
_PUBLIC = re.compile(
    "小区门口|小区大门|小区入口|小区出入口|大门口|大门|东门|西门|南门|北门|正门|侧门|广场|停车场|"
    "地面停车位|小区花园|中心花园|楼下花园|楼前花园|后花园|绿化带|草坪|草地|游乐场|儿童乐园|健身区|健身广场|篮球场|运动场|垃圾站|垃圾房|"
    "垃圾中转站|小区道路|小区主干道|主干道|门卫室|门岗|岗亭|凉亭|水池|人工湖|围墙")


def _normal(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def spot_in(text: str) -> str | None:
    """The floor, room and spot the text names, as typed, in the text's order ("3楼302室", "一楼 楼道里");
    None when it names none. Touching parts are kept together, others joined by a space."""
    normal = _normal(text)
    spans = sorted({m.span() for pattern in (_FLOOR, _ROOM, _SPOT) for m in pattern.finditer(normal)})
    kept: list[tuple[int, int]] = []
    for start, end in spans:
        if kept and start < kept[-1][1]:  # overlapping: the longer one stays
            if end - start > kept[-1][1] - kept[-1][0]:
                kept[-1] = (start, end)
            continue
        kept.append((start, end))
    if not kept:
        return None
    parts: list[str] = []
    last_end = -1
    for start, end in kept:
        piece = normal[start:end]
        if parts and start == last_end:
            parts[-1] += piece
        else:
            parts.append(piece)
        last_end = end
    return " ".join(parts)


def public_area_in(text: str) -> str | None:
    """The first public area of the estate the text names ("小区门口", "停车场"), or None."""
    match = _PUBLIC.search(_normal(text))
    return match.group(0) if match else None
