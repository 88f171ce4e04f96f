"""The printable customer order (issue 16, item 4): what the customer ordered, at what price, when it is expected,
on a page with the dealership's requisites — built from dms.core.pdf's blocks like every other document."""

from decimal import Decimal

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer

from dms.core.formatting import format_phone, plain_quantity
from dms.core.pdf import PdfDocument, data_table, money, text, totals_rows, totals_table

from .models import CustomerOrder

WEIGHTS = [8, 30, 70, 18, 26, 28]


def line_amount(line) -> Decimal:
    return (line.quantity * line.unit_price).quantize(Decimal("0.01"))


def customer_order_pdf(order: CustomerOrder) -> bytes:
    dealership = order.dealership
    created = timezone.localtime(order.created_at, dealership.tz)
    title = _("Customer order %(number)s of %(date)s") % {
        "number": order.number,
        "date": date_format(created, "SHORT_DATE_FORMAT"),
    }
    doc = PdfDocument(dealership, title)
    s, width, story = doc.styles, doc.width, doc.story
    facts = [
        [_("Customer"), order.customer.name],
        [_("Phone"), format_phone(order.customer.phone) or "—"],
        [_("Vehicle"), str(order.vehicle) if order.vehicle_id else "—"],
        [_("Status"), order.get_status_display()],
        [_("ETA"), date_format(order.expected_at, "SHORT_DATE_FORMAT") if order.expected_at else _("to be confirmed")],
    ]
    story += [
        data_table(None, facts, weights=[40, 140], width=width),
        Spacer(1, 4 * mm),
    ]
    lines = list(order.lines.all())
    rows = [
        [
            str(n),
            line.part.number,
            line.part.name,
            plain_quantity(line.quantity),
            money(line.unit_price),
            money(line_amount(line)),
        ]
        for n, line in enumerate(lines, start=1)
    ]
    table = data_table(
        ["№", _("Part number"), _("Name"), _("Quantity"), _("Price"), _("Amount")],
        rows,
        weights=WEIGHTS,
        width=width,
        numeric=(0, 3, 4, 5),
    )
    total = sum((line_amount(line) for line in lines), Decimal("0.00"))
    story += [table, totals_table(totals_rows(total, dealership), under=table, amount_column=5)]
    if order.comment:
        story += [Spacer(1, 3 * mm), Paragraph(text(_("Comment: %(text)s") % {"text": order.comment}), s["p"])]
    story += [
        Spacer(1, 10 * mm),
        data_table(
            [_("Order taken by"), _("Customer")],
            [[order.author.get_full_name() or order.author.username, "______________________"]],
            weights=[1, 1],
            width=width,
        ),
    ]
    return doc.render()
