"""The CJK font the summary's charts are drawn with, found the documented ways.

1. fontconfig: `fc-list :lang=zh-cn` lists the installed fonts that cover Simplified Chinese (the
   project installs fonts-wqy-microhei where there is none: `make install`, .ci/run);
2. else the files Debian's CJK font packages install (fontconfig itself may be missing).
Each candidate must draw 网 as a real glyph, not as its .notdef box. None found: a warning is logged
(once per process) and the charts are still drawn, their Chinese as boxes.
"""

from __future__ import annotations

import functools
import logging
import shutil
import subprocess
from collections.abc import Iterable
from typing import Any, NamedTuple

log = logging.getLogger(__name__)

# Preferred, in order, among what fontconfig lists (sans-serif Simplified Chinese faces first).
FAMILIES = ("Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei",
            "Noto Sans SC", "Droid Sans Fallback")
# What fonts-noto-cjk, fonts-wqy-microhei and fonts-wqy-zenhei install on Debian and Ubuntu.
KNOWN_FILES = ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
               "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
               "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
PROBE = "网"  # Simplified only: a Latin or Japanese-only font lacks it
NOT_A_CHARACTER = "\U0010fffe"  # a noncharacter no font maps: drawn as the font's .notdef glyph
INSTALL_HINT = "install fonts-wqy-microhei or fonts-noto-cjk (`make install` does)"


class FontFile(NamedTuple):
    path: str
    index: int  # the face within a .ttc collection
    family: str


def glyph_image(font: Any, character: str) -> Any:
    """`character` drawn alone in `font` (a Pillow font), white on black, on a fixed-size canvas."""
    from PIL import Image, ImageDraw

    size = int(getattr(font, "size", 24))
    image = Image.new("L", (size * 3, size * 3))
    ImageDraw.Draw(image).text((size, size), character, font=font, fill=255)
    return image


def has_glyph(font: Any, text: str) -> bool:
    """Every character of `text` draws as ink that is not the font's .notdef box (tofu)."""
    notdef = glyph_image(font, NOT_A_CHARACTER).tobytes()
    for character in text:
        drawn = glyph_image(font, character)
        if drawn.getbbox() is None or drawn.tobytes() == notdef:
            return False
    return True


def _fontconfig_candidates() -> list[FontFile]:
    """fontconfig's fonts that cover zh-cn, the preferred families first."""
    if shutil.which("fc-list") is None:
        return []
    try:
        listed = subprocess.run(["fc-list", ":lang=zh-cn", "--format", "%{file}|%{index}|%{family}\\n"],
                                capture_output=True, text=True, timeout=20, check=True).stdout
    except (OSError, subprocess.SubprocessError) as error:
        log.warning("fc-list failed (%s); looking for a CJK font in the usual places", error)
        return []
    found = []
    for line in listed.splitlines():
        path, _, rest = line.partition("|")
        index, _, families = rest.partition("|")
        if path.lower().endswith((".ttf", ".ttc", ".otf", ".otc")) and index.isdigit():
            found.append(FontFile(path, int(index), families))

    def rank(font: FontFile) -> int:
        names = font.family.split(",")
        return min((FAMILIES.index(n) for n in names if n in FAMILIES), default=len(FAMILIES))

    return sorted(found, key=rank)


def _known_candidates() -> list[FontFile]:
    return [FontFile(path, index, "") for path in KNOWN_FILES for index in range(4)]


def _loads(candidate: FontFile) -> bool:
    from PIL import ImageFont

    try:
        font = ImageFont.truetype(candidate.path, 24, index=candidate.index)
    except OSError:  # no such file or face
        return False
    family = font.getname()[0] or ""
    return "Mono" not in family and has_glyph(font, PROBE)


@functools.cache
def find_cjk_font() -> FontFile | None:
    """The font file (and face) to draw Chinese with; None, with a warning logged, when there is none."""
    return pick_font([*_fontconfig_candidates(), *_known_candidates()])


def pick_font(candidates: Iterable[FontFile]) -> FontFile | None:
    """The first candidate that loads and draws Chinese; None, with a warning logged, when none does."""
    for candidate in candidates:
        if _loads(candidate):
            log.debug("chart font: %s (face %d)", candidate.path, candidate.index)
            return candidate
    log.warning("no CJK font found (fc-list :lang=zh-cn lists none that draws 网): the weekly charts' "
                "Chinese labels will show as boxes; %s", INSTALL_HINT)
    return None


def load_font(size: int, font_file: FontFile | None = None) -> Any:
    """A Pillow font of `size` px: the given or the found CJK font, else Pillow's own (Latin only)."""
    from PIL import ImageFont

    font_file = font_file or find_cjk_font()
    if font_file is not None:
        try:
            return ImageFont.truetype(font_file.path, size, index=font_file.index)
        except OSError as error:
            log.warning("cannot load the chart font %s (%s): Chinese labels will show as boxes; %s",
                        font_file.path, error, INSTALL_HINT)
    return ImageFont.load_default(size)
