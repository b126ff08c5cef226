"""Typesetting primitives of the PDF report (ReportLab): fonts, styles, tables, page numbers.

DejaVu Sans comes from matplotlib's bundled fonts: a TrueType font with every Turkish letter
(İ ı ş ğ), embedded in the PDF. Table cells are Paragraphs in columns never narrower than their
longest word, so text wraps between words only.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import matplotlib
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas
from reportlab.platypus import Paragraph, Table, TableStyle

FONT, BOLD = "DejaVuSans", "DejaVuSans-Bold"
PAGE_W, PAGE_H = A4
MARGIN = 18 * mm
WIDTH = PAGE_W - 2 * MARGIN
HEAD_BG = colors.HexColor("#1f3a5f")
STRIPE = colors.HexColor("#f0f3f7")
GRID = colors.HexColor("#b8c2cc")
_PAD = 4  # left and right padding of a table cell, points
NBSP = "\u00a0"  # keeps a date and its time on one line
_BREAKS = re.compile(r"[ \t\r\n]+")


@functools.cache
def register_fonts() -> None:
    """DejaVu Sans from matplotlib's data: a TrueType font with every Turkish letter."""
    from reportlab.lib.fonts import addMapping

    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    pdfmetrics.registerFont(TTFont(FONT, str(folder / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(BOLD, str(folder / "DejaVuSans-Bold.ttf")))
    for bold, italic, name in ((0, 0, FONT), (1, 0, BOLD), (0, 1, FONT), (1, 1, BOLD)):
        addMapping(FONT, bold, italic, name)


@functools.cache
def styles() -> dict[str, ParagraphStyle]:
    register_fonts()
    base = ParagraphStyle("base", fontName=FONT, fontSize=9.5, leading=13)
    return {
        "body": base,
        "small": ParagraphStyle("small", parent=base, fontSize=8, leading=10.5,
                                textColor=colors.HexColor("#444444")),
        "title": ParagraphStyle("title", parent=base, fontName=BOLD, fontSize=24, leading=30,
                                spaceAfter=6 * mm, textColor=HEAD_BG),
        "subtitle": ParagraphStyle("subtitle", parent=base, fontSize=15, leading=20,
                                   spaceAfter=10 * mm),
        "h2": ParagraphStyle("h2", parent=base, fontName=BOLD, fontSize=13, leading=17,
                             spaceBefore=7 * mm, spaceAfter=3 * mm, textColor=HEAD_BG,
                             keepWithNext=1),
        "cell": ParagraphStyle("cell", parent=base, fontSize=8, leading=10),
        "num": ParagraphStyle("num", parent=base, fontSize=8, leading=10, alignment=TA_RIGHT),
        "head": ParagraphStyle("head", parent=base, fontName=BOLD, fontSize=8, leading=10,
                               textColor=colors.white),
    }


def para(text: object, style: str = "cell") -> Paragraph:
    """A paragraph of plain text: escaped, so a ticket's words are never read as markup."""
    return Paragraph(escape(str(text)), styles()[style])


def _min_width(text: str, font: str, size: float) -> float:
    """The width of the longest unbreakable run of ``text`` plus the cell's padding."""
    words = _BREAKS.split(text)  # not str.split(): a no-break space joins its words
    return max(pdfmetrics.stringWidth(w, font, size) for w in words) + 2 * _PAD + 1


def _widths(weights: Sequence[float], minimum: Sequence[float]) -> list[float]:
    """Column widths in proportion to ``weights`` filling the text width, each at least its
    longest word (so no word is split); the room is taken from the columns that have some."""
    widths = [w * WIDTH / sum(weights) for w in weights]
    for _ in range(len(widths)):
        short = [i for i, w in enumerate(widths) if w < minimum[i] - 0.01]
        if not short:
            break
        need = sum(minimum[i] - widths[i] for i in short)
        for i in short:
            widths[i] = minimum[i]
        spare = {i: widths[i] - minimum[i] for i in range(len(widths)) if i not in short
                 and widths[i] > minimum[i]}
        room = sum(spare.values())
        if room <= 0:
            break
        for i, extra in spare.items():
            widths[i] -= need * extra / room if need < room else extra
    return widths


def table(headers: Sequence[str], rows: Iterable[Sequence[object]], widths: Sequence[float],
           numeric: Iterable[int] = (), rule_before: int | None = None) -> Table:
    """A table whose cells wrap between words only (Paragraphs in column widths from the
    ``widths`` weights, none narrower than its longest word), with the header row repeated
    on every page it spans. ``rule_before``: a body row index to draw a rule above (totals)."""
    nums = set(numeric)
    body = [[str(v) for v in r] for r in rows]
    # A word wider than 40 % of the page (a pasted URL, a log line) is the one thing split:
    # the table must still fit the page.
    minimum = [min(0.4 * WIDTH,
                   max([_min_width(h, BOLD, 8)] + [_min_width(r[i], FONT, 8) for r in body]))
               for i, h in enumerate(headers)]
    data: list[list[Any]] = [[para(h, "head") for h in headers]]
    data += [[para(v, "num" if i in nums else "cell") for i, v in enumerate(r)] for r in body]
    table = Table(data, colWidths=_widths(widths, minimum), repeatRows=1)
    style: list[tuple[Any, ...]] = [
        ("BACKGROUND", (0, 0), (-1, 0), HEAD_BG),
        ("GRID", (0, 0), (-1, -1), 0.4, GRID),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), _PAD), ("RIGHTPADDING", (0, 0), (-1, -1), _PAD),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
    ]
    style += [("BACKGROUND", (0, i), (-1, i), STRIPE) for i in range(2, len(data), 2)]
    if rule_before is not None and rule_before < len(body):
        style.append(("LINEABOVE", (0, rule_before + 1), (-1, rule_before + 1), 1.2, HEAD_BG))
    table.setStyle(TableStyle(style))
    return table


def canvas_class(footer: Callable[[int, int], str], header: str) -> type[canvas.Canvas]:
    """A canvas that holds its pages until the end, so each can say "Page N of M"."""

    class NumberedCanvas(canvas.Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802 (ReportLab's name)
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self._decorate(total)
                super().showPage()
            super().save()

        def _decorate(self, total: int) -> None:
            n = self.getPageNumber()
            self.setFont(FONT, 8)
            self.setFillColor(colors.HexColor("#555555"))
            if n > 1:
                self.drawString(MARGIN, PAGE_H - 11 * mm, header)
                self.setStrokeColor(GRID)
                self.line(MARGIN, PAGE_H - 12.5 * mm, PAGE_W - MARGIN, PAGE_H - 12.5 * mm)
            self.drawRightString(PAGE_W - MARGIN, 10 * mm, footer(n, total))

    return NumberedCanvas
