"""The building blocks of every PDF the apps print (issue 16, item 4), in one place:

- one font, DejaVu Sans, shipped with the project (Cyrillic included);
- one set of paragraph styles;
- the dealership's requisites block (logo, legal name, address, INN/KPP, OGRN, bank details, phone) at the top of
  every document, built from the Dealership record where they are entered once;
- tables whose header and body cells are Paragraphs that wrap inside their cells, with column widths scaled to sum
  to the frame width, so no text overflows a cell or the page;
- the totals with the VAT included in the prices («в т.ч. НДС 20%»), at the dealership's rate.
"""

import io
import logging
import re
from collections.abc import Sequence
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Flowable, Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import HRFlowable

from dms.core.formatting import format_money, format_phone

from .requisites import vat_included

logger = logging.getLogger(__name__)

FONT_DIR = Path(__file__).resolve().parent / "fonts"
REGULAR, BOLD = "DMSSans", "DMSSans-Bold"
GRID_COLOUR = colors.grey
HEADER_BACKGROUND = colors.HexColor("#eeeeee")
CELL_PADDING = 3 + 3 + 1  # points: a cell's left and right padding, and one to spare


@cache
def pdf_fonts() -> tuple[str, str]:
    """Register the shipped fonts once and return (regular, bold) font names for reportlab."""
    pdfmetrics.registerFont(TTFont(REGULAR, str(FONT_DIR / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(BOLD, str(FONT_DIR / "DejaVuSans-Bold.ttf")))
    pdfmetrics.registerFontFamily(REGULAR, normal=REGULAR, bold=BOLD, italic=REGULAR, boldItalic=BOLD)
    return REGULAR, BOLD


def pdf_styles() -> dict[str, ParagraphStyle]:
    """The paragraph styles of every document: text, headings, table cells (header, text, numbers)."""
    regular, bold = pdf_fonts()
    return {
        "title": ParagraphStyle("title", fontName=bold, fontSize=14, leading=18, spaceBefore=4, spaceAfter=6),
        "h": ParagraphStyle("h", fontName=bold, fontSize=10, leading=13, spaceBefore=6, spaceAfter=3),
        "p": ParagraphStyle("p", fontName=regular, fontSize=9, leading=12),
        "small": ParagraphStyle("small", fontName=regular, fontSize=7.5, leading=9.5),
        "org": ParagraphStyle("org", fontName=bold, fontSize=10, leading=12.5),
        "big": ParagraphStyle("big", fontName=bold, fontSize=20, leading=24),
        "th": ParagraphStyle("th", fontName=bold, fontSize=8, leading=10, alignment=TA_CENTER),
        "td": ParagraphStyle("td", fontName=regular, fontSize=8.5, leading=10.5),
        "td_sub": ParagraphStyle("td_sub", fontName=regular, fontSize=8.5, leading=10.5, leftIndent=10),
        "td_right": ParagraphStyle("td_right", fontName=regular, fontSize=8.5, leading=10.5, alignment=TA_RIGHT),
        "td_bold_right": ParagraphStyle("td_bold_right", fontName=bold, fontSize=8.5, leading=10.5, alignment=TA_RIGHT),
    }


def text(value: Any) -> str:
    """Plain text made safe for a reportlab Paragraph (which reads a little XML): &, < and > escaped."""
    return escape("" if value is None else str(value))


def money(value: Decimal | int | float | None) -> str:
    """«12 345,67 ₽»: the one money format of pages, exports and documents (issue 14 item 8)."""
    return format_money(value)


def percent(rate: Decimal) -> str:
    return f"{Decimal(rate).normalize():f}"


def document(buffer: io.BytesIO, *, pagesize=A4, margin: float = 15 * mm, title: str = "") -> SimpleDocTemplate:
    return SimpleDocTemplate(
        buffer,
        pagesize=pagesize,
        leftMargin=margin,
        rightMargin=margin,
        topMargin=margin,
        bottomMargin=margin,
        title=title,
    )


def render(story: list[Flowable], *, pagesize=A4, margin: float = 15 * mm, title: str = "") -> bytes:
    buffer = io.BytesIO()
    document(buffer, pagesize=pagesize, margin=margin, title=title).build(story)
    return buffer.getvalue()


FRAME_PADDING = 6  # points: SimpleDocTemplate's frame pads its content on each side


def frame_width(*, pagesize=A4, margin: float = 15 * mm) -> float:
    """The width a table may take: the page less the margins and the frame's padding (a wider table is centred and
    sticks out of the text column on both sides)."""
    return pagesize[0] - 2 * margin - 2 * FRAME_PADDING


class PdfDocument:
    """One printed document of a dealership, opened the way every document opens: the styles, the frame's width and
    a story that starts with the requisites block and the title (``heading=False`` for a document whose first lines
    are its own, like the bin label). The app appends its content to ``story`` and returns ``render()``."""

    def __init__(
        self, dealership, title: str, *, pagesize=A4, margin: float = 15 * mm, compact: bool = False, heading=True
    ):
        self.title, self.pagesize, self.margin = title, pagesize, margin
        self.styles = pdf_styles()
        self.width = frame_width(pagesize=pagesize, margin=margin)
        self.story: list[Flowable] = [*requisites_block(dealership, width=self.width, compact=compact)]
        if heading:
            self.story.append(Paragraph(text(title), self.styles["title"]))

    def render(self) -> bytes:
        return render(self.story, pagesize=self.pagesize, margin=self.margin, title=self.title)


def _logo(dealership, *, max_width: float, max_height: float) -> Image | None:
    """The dealership's logo scaled into the box; a missing or unreadable file prints no logo (never a 500)."""
    if not dealership.logo:
        return None
    try:
        with dealership.logo.open("rb") as handle:
            data = io.BytesIO(handle.read())
        width, height = ImageReader(data).getSize()
        scale = min(max_width / width, max_height / height)
        data.seek(0)
        return Image(data, width=width * scale, height=height * scale)
    except Exception:  # a broken upload must not stop the document: log it and print without the logo
        logger.warning("Dealership %s: the logo cannot be read, printing without it", dealership.pk, exc_info=True)
        return None


def _joined(*parts: str) -> list[str]:
    """One line of the given parts (empty ones left out), or no line when all are empty."""
    given = [part for part in parts if part]
    return [", ".join(given)] if given else []


def _labelled(template: str, key: str, value) -> str:
    return template % {key: value} if value else ""


def requisites_lines(dealership) -> list[str]:
    """The requisites as lines of text, in the order Russian documents print them; empty fields are left out."""
    address = dealership.legal_address or dealership.address
    phone = format_phone(dealership.phone)
    return [
        *_joined(_labelled(_("Address: %(address)s"), "address", address)),
        *_joined(
            _labelled(_("INN %(inn)s"), "inn", dealership.inn),
            _labelled(_("KPP %(kpp)s"), "kpp", dealership.kpp),
            _labelled(_("OGRN %(ogrn)s"), "ogrn", dealership.ogrn),
        ),
        *_joined(
            _labelled(_("account %(account)s"), "account", dealership.settlement_account),
            dealership.bank_name,
            _labelled(_("BIK %(bik)s"), "bik", dealership.bik),
            _labelled(_("corr. account %(account)s"), "account", dealership.correspondent_account),
        ),
        *_joined(
            _labelled(_("Phone: %(phone)s"), "phone", phone),
            _labelled(_("E-mail: %(email)s"), "email", dealership.email),
        ),
    ]


def requisites_block(dealership, *, width: float, compact: bool = False) -> list[Flowable]:
    """The header of every document: the logo beside the legal name and requisites, a rule below.

    compact: a small label (the bin label) prints the name and phone only."""
    s = pdf_styles()
    name = dealership.legal_name or dealership.name
    if compact:
        phone = format_phone(dealership.phone)
        return [Paragraph(text(" · ".join(x for x in (name, phone) if x)), s["small"])]
    paragraphs: list[Flowable] = [Paragraph(text(name), s["org"])]
    paragraphs += [Paragraph(text(line), s["small"]) for line in requisites_lines(dealership)]
    logo_width = 28 * mm
    logo = _logo(dealership, max_width=logo_width, max_height=16 * mm)
    if logo is None:
        block = Table([[paragraphs]], colWidths=[width])
    else:
        block = Table([[logo, paragraphs]], colWidths=[logo_width + 4 * mm, width - logo_width - 4 * mm])
    block.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return [block, Spacer(1, 2 * mm), HRFlowable(width="100%", thickness=0.6, color=GRID_COLOUR), Spacer(1, 3 * mm)]


def _cell(value: Any, style: ParagraphStyle) -> Flowable:
    if isinstance(value, Flowable):
        return value
    return Paragraph(text(value), style)


_BREAKS = re.compile(r"[ \t\r\n]+")  # where reportlab breaks a line; a non-breaking space does not count


def _longest_word(value: Any, style: ParagraphStyle) -> float:
    if not isinstance(value, str):
        return 0.0
    return max((stringWidth(word, style.fontName, style.fontSize) for word in _BREAKS.split(value)), default=0.0)


def _widen(widths: list[float], minimum: list[float]) -> None:
    """Raise the columns narrower than their minimum, taking the width from the columns above theirs in proportion
    to their room (never below their own minimum); as far as the room allows."""
    short = [i for i, w in enumerate(widths) if w < minimum[i] - 0.01]
    roomy = [i for i, w in enumerate(widths) if w > minimum[i]]
    needed = sum(minimum[i] - widths[i] for i in short)
    room = sum(widths[i] - minimum[i] for i in roomy)
    if not short or room <= 0:
        return
    taken = min(needed, room)
    gains = {i: (minimum[i] - widths[i]) * taken / needed for i in short}
    losses = {i: taken * (widths[i] - minimum[i]) / room for i in roomy}
    for i, gain in gains.items():
        widths[i] += gain
    for i, loss in losses.items():
        widths[i] -= loss


def column_widths(
    weights: Sequence[float],
    width: float,
    *,
    header: Sequence[Any] | None,
    rows: Sequence[Sequence[Any]] = (),
    styles: dict[str, ParagraphStyle],
    widest_share: float = 0.35,
) -> list[float]:
    """Column widths in proportion to weights, summing to width, and wide enough for the longest word in each
    column: first every header title's longest word (a title wraps between words, never inside one:
    «Количеств|о»), then, as far as the room allows, the body's (an amount or a part number stays whole). A body
    word wider than widest_share of the table is left to reportlab to split."""
    total_weight = sum(weights)
    widths = [width * w / total_weight for w in weights]
    padding = CELL_PADDING
    titles = [
        _longest_word(header[column], styles["th"]) + padding if header is not None else 0.0
        for column in range(len(widths))
    ]
    _widen(widths, titles)
    bodies = [
        max(
            titles[column],
            min(
                max((_longest_word(row[column], styles["td"]) for row in rows), default=0.0) + padding,
                width * widest_share,
            ),
        )
        for column in range(len(widths))
    ]
    _widen(widths, bodies)
    return widths


def data_table(
    header: Sequence[str] | None,
    rows: Sequence[Sequence[Any]],
    *,
    weights: Sequence[float],
    width: float,
    numeric: Sequence[int] = (),
) -> Table:
    """A grid table whose every cell wraps: header titles and texts become Paragraphs, numbers align right.

    weights: relative column widths, scaled so the columns fill exactly the given (frame) width, then widened where
    a word would not fit (column_widths). numeric: the columns aligned right."""
    s = pdf_styles()
    widths = column_widths(weights, width, header=header, rows=rows, styles=s)
    data: list[list[Flowable]] = []
    if header is not None:
        data.append([_cell(title, s["th"]) for title in header])
    for row in rows:
        data.append([_cell(value, s["td_right"] if column in numeric else s["td"]) for column, value in enumerate(row)])
    table = Table(data, colWidths=widths, repeatRows=1 if header is not None else 0)
    style: list[tuple] = [
        ("GRID", (0, 0), (-1, -1), 0.4, GRID_COLOUR),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    if header is not None:
        style += [("BACKGROUND", (0, 0), (-1, 0), HEADER_BACKGROUND), ("VALIGN", (0, 0), (-1, 0), "MIDDLE")]
    table.setStyle(TableStyle(style))
    return table


def totals_rows(total: Decimal, dealership, *, label: str | None = None) -> list[tuple[str, str]]:
    """(caption, amount) lines under a priced table: the total and the VAT included in it at the dealership's rate
    (Russian prices include VAT: «Итого» then «в т.ч. НДС 20%»), or «Без НДС» for a dealership that pays none."""
    rate = dealership.vat_rate
    rows = [(label or _("Total"), money(total))]
    if rate:
        rows.append((_("incl. VAT %(rate)s%%") % {"rate": percent(rate)}, money(vat_included(total, rate))))
    else:
        rows.append((_("VAT not charged"), "—"))
    return rows


def totals_table(rows: Sequence[tuple[str, str]], *, under: Table, amount_column: int) -> Table:
    """The totals under a priced table: captions right-aligned up to the amount column, the amounts in it."""
    s = pdf_styles()
    widths = list(under._colWidths)
    # A bold total may be wider than the column's widest amount: it then takes the room it needs from the captions.
    needed = max(_longest_word(amount, s["td_bold_right"]) for _caption, amount in rows) + CELL_PADDING
    amount_width = max(widths[amount_column], needed)
    caption_width = sum(widths[:amount_column]) - (amount_width - widths[amount_column])
    rest = sum(widths[amount_column + 1 :])
    data = [
        [Paragraph(text(caption), s["td_bold_right"]), Paragraph(text(amount), s["td_bold_right"]), ""]
        for caption, amount in rows
    ]
    table = Table(data, colWidths=[caption_width, amount_width, rest])
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 3),
                ("RIGHTPADDING", (0, 0), (-1, -1), 3),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
            ]
        )
    )
    return table
