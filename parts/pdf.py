"""PDF documents (count sheets, invoices) with reportlab, built from dms.core.pdf's blocks (issue 16, item 4):
the dealership's requisites on top, tables whose headers wrap inside their cells, totals with the VAT included."""

from decimal import Decimal

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer

from dms.core.formatting import plain_quantity
from dms.core.pdf import PdfDocument, data_table, money, text, totals_rows, totals_table


def _qty(value: Decimal | None) -> str:
    return "" if value is None else plain_quantity(value)


def count_sheet_pdf(count) -> bytes:
    """R26: a printable count sheet — the counter writes the quantity found in the empty column."""
    doc = PdfDocument(count.dealership, _("Count sheet #%(id)s") % {"id": count.pk})
    s, width, story = doc.styles, doc.width, doc.story
    story += [
        Paragraph(
            text(
                f"{count.get_kind_display()} · {count.warehouse.name}"
                + (f" · {count.location.code}" if count.location else "")
                + (f" · {_('class')} {count.abc_class}" if count.abc_class else "")
                + f" · {date_format(timezone.localtime(count.started_at), 'SHORT_DATE_FORMAT')}"
            ),
            s["p"],
        ),
        Spacer(1, 4 * mm),
    ]
    rows = [
        [
            str(n),
            line.location.code if line.location else "",
            line.part.number,
            line.part.name,
            line.part.get_unit_display(),
            _qty(line.counted_quantity),
            "",
        ]
        for n, line in enumerate(count.lines.select_related("part", "location"), start=1)
    ]
    story.append(
        data_table(
            ["№", _("Bin"), _("Part number"), _("Name"), _("Unit"), _("Counted"), _("Note")],
            rows,
            weights=[8, 18, 28, 60, 14, 18, 30],
            width=width,
            numeric=(0, 5),
        )
    )
    story += [
        Spacer(1, 12 * mm),
        Paragraph(text(_("Counted by: ____________________  Signature: __________")), s["p"]),
    ]
    for member in count.committee.all():
        story.append(Paragraph(text(f"{member.get_full_name() or member.username}: __________"), s["p"]))
    return doc.render()


def invoice_pdf(order) -> bytes:
    """R21: the invoice for a sales order, with the VAT included in its total."""
    dealership = order.dealership
    invoiced = timezone.localtime(order.invoiced_at or timezone.now(), dealership.tz)
    title = _("Invoice %(number)s of %(date)s") % {
        "number": order.invoice_number,
        "date": date_format(invoiced, "SHORT_DATE_FORMAT"),
    }
    doc = PdfDocument(dealership, title)
    s, width, story = doc.styles, doc.width, doc.story
    story += [
        Paragraph(text(_("Order: %(number)s") % {"number": order.number}), s["p"]),
        Paragraph(text(_("Customer: %(name)s") % {"name": order.customer.name}), s["p"]),
        Paragraph(text(_("Payment: %(method)s") % {"method": order.get_payment_method_display()}), s["p"]),
        Spacer(1, 4 * mm),
    ]
    rows = [
        [
            str(n),
            line.part.number,
            line.part.name,
            f"{_qty(line.quantity)} {line.part.get_unit_display()}",
            money(line.unit_price),
            money(line.total),
        ]
        for n, line in enumerate(order.lines.select_related("part"), start=1)
    ]
    table = data_table(
        ["№", _("Part number"), _("Name"), _("Quantity"), _("Price"), _("Amount")],
        rows,
        weights=[8, 30, 70, 20, 26, 26],
        width=width,
        numeric=(0, 3, 4, 5),
    )
    story += [table, totals_table(totals_rows(order.total, dealership), under=table, amount_column=5)]
    if order.delivery_days is not None:
        story += [
            Spacer(1, 4 * mm),
            Paragraph(text(_("Delivery term: %(days)s days") % {"days": order.delivery_days}), s["p"]),
        ]
    return doc.render()
