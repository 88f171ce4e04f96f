"""PDF documents (count sheets, invoices) with reportlab, in the project's shipped font (Cyrillic included)."""

import io
from decimal import Decimal

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from dms.core.pdf import pdf_fonts


def _fonts() -> tuple[str, str]:
    return pdf_fonts()


def _styles():
    regular, bold = _fonts()
    styles = getSampleStyleSheet()
    for style in styles.byName.values():
        style.fontName = regular
    styles["Title"].fontName = bold
    styles["Heading2"].fontName = bold
    return styles, regular, bold


def _table(data, widths, regular, bold):
    table = Table(data, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), regular, 9),
                ("FONT", (0, 0), (-1, 0), bold, 9),
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#fafafa")]),
            ]
        )
    )
    return table


def _qty(value: Decimal | None) -> str:
    if value is None:
        return ""
    return f"{value.normalize():f}"


def count_sheet_pdf(count) -> bytes:
    """R26: a printable count sheet — the counter writes the quantity found in the empty column."""
    styles, regular, bold = _styles()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=12 * mm, rightMargin=12 * mm, topMargin=12 * mm)
    story = [
        Paragraph(_("Count sheet #%(id)s") % {"id": count.pk}, styles["Title"]),
        Paragraph(
            f"{count.get_kind_display()} · {count.warehouse.name}"
            + (f" · {count.location.code}" if count.location else "")
            + (f" · {_('class')} {count.abc_class}" if count.abc_class else "")
            + f" · {date_format(timezone.localtime(count.started_at), 'd.m.Y')}",
            styles["Normal"],
        ),
        Spacer(1, 6 * mm),
    ]
    data = [["№", _("Bin"), _("Part number"), _("Name"), _("Unit"), _("Counted"), _("Note")]]
    for n, line in enumerate(count.lines.select_related("part", "location"), start=1):
        data.append(
            [
                str(n),
                line.location.code if line.location else "",
                line.part.number,
                Paragraph(line.part.name, styles["Normal"]),
                line.part.get_unit_display(),
                _qty(line.counted_quantity),
                "",
            ]
        )
    story.append(_table(data, [10 * mm, 20 * mm, 32 * mm, 62 * mm, 12 * mm, 20 * mm, 30 * mm], regular, bold))
    story += [
        Spacer(1, 12 * mm),
        Paragraph(_("Counted by: ____________________  Signature: __________"), styles["Normal"]),
    ]
    committee = list(count.committee.all())
    for member in committee:
        story.append(Paragraph(f"{member.get_full_name() or member.username}: __________", styles["Normal"]))
    doc.build(story)
    return buffer.getvalue()


def invoice_pdf(order) -> bytes:
    """R21: the invoice for a sales order."""
    styles, regular, bold = _styles()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm)
    dealership = order.dealership
    invoiced = timezone.localtime(order.invoiced_at or timezone.now())
    story = [
        Paragraph(dealership.name, styles["Heading2"]),
        Paragraph(
            " · ".join(x for x in [dealership.address, str(dealership.phone or ""), dealership.email] if x),
            styles["Normal"],
        ),
        Spacer(1, 6 * mm),
        Paragraph(
            _("Invoice %(number)s of %(date)s")
            % {"number": order.invoice_number, "date": date_format(invoiced, "d.m.Y")},
            styles["Title"],
        ),
        Paragraph(_("Order: %(number)s") % {"number": order.number}, styles["Normal"]),
        Paragraph(_("Customer: %(name)s") % {"name": order.customer.name}, styles["Normal"]),
        Paragraph(_("Payment: %(method)s") % {"method": order.get_payment_method_display()}, styles["Normal"]),
        Spacer(1, 6 * mm),
    ]
    data = [["№", _("Part number"), _("Name"), _("Quantity"), _("Price"), _("Amount")]]
    for n, line in enumerate(order.lines.select_related("part"), start=1):
        data.append(
            [
                str(n),
                line.part.number,
                Paragraph(line.part.name, styles["Normal"]),
                f"{_qty(line.quantity)} {line.part.get_unit_display()}",
                f"{line.unit_price:.2f}",
                f"{line.total:.2f}",
            ]
        )
    data.append(["", "", "", "", _("Total"), f"{order.total:.2f}"])
    table = _table(data, [10 * mm, 32 * mm, 68 * mm, 22 * mm, 24 * mm, 24 * mm], regular, bold)
    table.setStyle(TableStyle([("FONT", (0, -1), (-1, -1), bold, 9), ("ALIGN", (3, 1), (-1, -1), "RIGHT")]))
    story.append(table)
    if order.delivery_days is not None:
        story += [
            Spacer(1, 4 * mm),
            Paragraph(_("Delivery term: %(days)s days") % {"days": order.delivery_days}, styles["Normal"]),
        ]
    doc.build(story)
    return buffer.getvalue()
