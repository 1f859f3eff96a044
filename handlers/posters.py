"""The QR poster of one building, drawn for print: A4 at 300 dpi (2480 × 3508 px), as PNG or PDF.

Top to bottom: a red band with the community and the title; the place as the bot names it
("雅悦花园5栋"); the QR code of the building's deep link, the link under it as text; the three steps
(扫码 → 说问题 → 等反馈); the feedback promise in a red frame; the emergency numbers. Texts come from
templates/zh/labels.html (poster_*), the Chinese in the CJK font handlers/chart_font.py finds. The
smallest text is 64 px (5.4 mm): legible from a metre and more.

Drawn with Pillow and saved as PDF by Pillow too (one raster page per building, the same pixels as the
PNG): no second layout engine to keep in step, and 300 dpi prints as sharp as a lobby notice needs.
A PDF of many buildings is written page by page (Pillow's documented `append`), so a community of
hundreds of buildings never holds more than one page in memory.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any

import segno
from PIL import Image, ImageDraw

from gridcore.community import Building, Community
from gridcore.posters import Poster, poster
from handlers.chart_font import FontFile, load_font

DPI = 300
WIDTH, HEIGHT = 2480, 3508  # A4 at DPI
MARGIN = 170
RED, INK, MUTED, WHITE = "#c41e1e", "#1a1a1a", "#444444", "#ffffff"
# Font sizes in px (at 300 dpi, 12 px = 1 mm).
COMMUNITY, TITLE, PLACE, LINK, STEP, PROMISE, EMERGENCY = 110, 170, 230, 64, 92, 150, 76
LINK_LINE = 80  # px between the two lines of a link too long for one
QR_SIDE = 1500  # px of the code with its quiet zone (4 modules each side, as the standard asks)
BAND = 520  # the red band's height

Label = Callable[..., str]


class PosterPainter:
    """Draws posters one after another; fonts are loaded once and reused."""

    def __init__(self, label: Label | None = None, font_file: FontFile | None = None) -> None:
        if label is None:
            from handlers.texts import Texts

            label = Texts().label
        self.label = label
        self._fonts: dict[int, Any] = {}
        self._font_file = font_file

    def font(self, size: int) -> Any:
        if size not in self._fonts:
            self._fonts[size] = load_font(size, self._font_file)
        return self._fonts[size]

    def _fitting_font(self, draw: ImageDraw.ImageDraw, text: str, size: int, width: int) -> Any:
        """The font of `size` px, smaller if `text` would not fit in `width` (never under LINK)."""
        while size > LINK and draw.textlength(text, font=self.font(size)) > width:
            size -= 6
        return self.font(size)

    def _centred(self, draw: ImageDraw.ImageDraw, y: int, text: str, size: int, fill: str,
                 bold: int = 0) -> None:
        """`text` centred on the page at height y, at `size` px or smaller to fit between the margins;
        bold: the stroke width that thickens it (the CJK font has no bold face)."""
        font = self._fitting_font(draw, text, size, WIDTH - 2 * MARGIN)
        draw.text((WIDTH // 2, y), text, font=font, fill=fill, anchor="mm", stroke_width=bold,
                  stroke_fill=fill)

    def draw(self, facts: Poster) -> Image.Image:
        page = Image.new("RGB", (WIDTH, HEIGHT), WHITE)
        draw = ImageDraw.Draw(page)
        draw.rectangle((0, 0, WIDTH, BAND), fill=RED)
        self._centred(draw, 150, facts.community_name, COMMUNITY, WHITE)
        self._centred(draw, 360, self.label("poster_title"), TITLE, WHITE, bold=3)
        self._centred(draw, BAND + 190, facts.place, PLACE, INK, bold=4)
        link_lines = self._link_lines(draw, facts.link)
        qr_side = QR_SIDE - (len(link_lines) - 1) * LINK_LINE  # a long link's second line costs QR space
        qr_top = BAND + 340
        page.paste(qr_image(facts.link, qr_side), ((WIDTH - qr_side) // 2, qr_top))
        link_y = qr_top + qr_side + 40
        for row, line in enumerate(link_lines):
            self._centred(draw, link_y + row * LINK_LINE, line, LINK, MUTED)
        steps_y = link_y + (len(link_lines) - 1) * LINK_LINE + 150
        self._draw_steps(draw, steps_y)
        promise_y = steps_y + 3 * 140 + 130
        promise = self.label("poster_promise", days=facts.feedback_days)
        half = int(draw.textlength(promise, font=self.font(PROMISE))) // 2 + 70
        draw.rounded_rectangle((WIDTH // 2 - half, promise_y - 120, WIDTH // 2 + half, promise_y + 120),
                               radius=36, outline=RED, width=12)
        self._centred(draw, promise_y, promise, PROMISE, RED, bold=3)
        if facts.emergency_numbers:
            self._centred(draw, HEIGHT - 150, self.label("poster_emergency", numbers=facts.emergency_numbers),
                          EMERGENCY, INK)
        return page

    def _link_lines(self, draw: ImageDraw.ImageDraw, link: str) -> list[str]:
        """The link as one line, or broken before "?start=" when one line at LINK px would not fit (a
        long bot username and building code)."""
        if draw.textlength(link, font=self.font(LINK)) <= WIDTH - 2 * MARGIN:
            return [link]
        address, _, payload = link.partition("?")
        return [address, "?" + payload]

    def _draw_steps(self, draw: ImageDraw.ImageDraw, top: int) -> None:
        """The three steps, one a line: the numbered step in red, its hint after it; the block centred."""
        steps = [(self.label(f"poster_step_{name}"), self.label(f"poster_step_{name}_hint"))
                 for name in ("scan", "tell", "wait")]
        font = self.font(STEP)
        head_width = max(draw.textlength(head, font=font) for head, _ in steps) + STEP
        widest = max(head_width + draw.textlength(hint, font=font) for _, hint in steps)
        left = (WIDTH - widest) // 2
        for row, (head, hint) in enumerate(steps):
            y = top + row * 140
            draw.text((left, y), head, font=font, fill=RED, anchor="lm", stroke_width=2, stroke_fill=RED)
            draw.text((left + head_width, y), hint, font=font, fill=INK, anchor="lm")


def qr_image(link: str, side: int) -> Image.Image:
    """The QR code of `link` with its 4-module quiet zone, scaled by whole modules to at most `side` px
    and centred on a white square of `side` px. Error correction M or better (segno raises it when the
    code's version allows): a smudged or scuffed poster still scans."""
    code = segno.make_qr(link, error="m", boost_error=True)
    modules = code.symbol_size(scale=1, border=4)[0]
    scale = side // modules
    buffer = io.BytesIO()
    code.save(buffer, kind="png", scale=scale, border=4)
    buffer.seek(0)
    drawn = Image.open(buffer).convert("RGB")
    square = Image.new("RGB", (side, side), WHITE)
    offset = (side - drawn.width) // 2
    square.paste(drawn, (offset, offset))
    return square


def _png(page: Image.Image) -> bytes:
    out = io.BytesIO()
    page.save(out, "PNG", dpi=(DPI, DPI), optimize=False)
    return out.getvalue()


def _write_pdf(pages: Iterable[Image.Image], out: IO[bytes]) -> int:
    """Pages into a PDF of A4 pages (resolution=DPI), one page at a time; the number of pages."""
    count = 0
    for page in pages:
        page.save(out, "PDF", resolution=DPI, append=count > 0)
        count += 1
    if count == 0:
        raise ValueError("a PDF needs at least one poster")
    return count


def poster_png(community: Community, building: Building, bot_username: str, *,
               painter: PosterPainter | None = None) -> bytes:
    """One building's poster as a 300 dpi A4 PNG."""
    return _png((painter or PosterPainter()).draw(poster(community, building, bot_username)))


def poster_pdf(community: Community, building: Building, bot_username: str, *,
               painter: PosterPainter | None = None) -> bytes:
    """One building's poster as a one-page A4 PDF."""
    return posters_pdf(community, (building,), bot_username, painter=painter)


def posters_pdf(community: Community, buildings: Iterable[Building], bot_username: str, *,
                painter: PosterPainter | None = None) -> bytes:
    """One A4 page per building, in the order given (an estate's, or a whole community's)."""
    out = io.BytesIO()
    draw = (painter or PosterPainter()).draw
    _write_pdf((draw(poster(community, b, bot_username)) for b in buildings), out)
    return out.getvalue()


def write_posters(facts: list[Poster], directory: Path, formats: tuple[str, ...], all_in_one: str | None,
                  painter: PosterPainter | None = None) -> list[Path]:
    """Each poster as <community>-<building>.png/.pdf in `directory` (formats: "png", "pdf"), and, when
    `all_in_one` names a file, every poster in one PDF there; the paths written, in order."""
    painter = painter or PosterPainter()
    written: list[Path] = []
    combined = (directory / all_in_one).open("w+b") if all_in_one else None
    try:
        for number, one in enumerate(facts):
            page = painter.draw(one)
            if "png" in formats:
                written.append(directory / f"{one.file_stem}.png")
                written[-1].write_bytes(_png(page))
            if "pdf" in formats:
                written.append(directory / f"{one.file_stem}.pdf")
                with written[-1].open("wb") as single:
                    _write_pdf([page], single)
            if combined is not None:
                page.save(combined, "PDF", resolution=DPI, append=number > 0)
    finally:
        if combined is not None:
            combined.close()
    if all_in_one:
        written.append(directory / all_in_one)
    return written
