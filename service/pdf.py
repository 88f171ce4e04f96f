"""Printable documents (reportlab): the work order with its estimate, the bin label (R17), the loan contract (R18)."""

import io

from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, A6, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from dms.core.pdf import pdf_fonts


def _fonts() -> tuple[str, str]:
    return pdf_fonts()


def _styles():
    regular, bold = _fonts()
    return {
        "title": ParagraphStyle("title", fontName=bold, fontSize=14, leading=18, spaceAfter=6),
        "h": ParagraphStyle("h", fontName=bold, fontSize=10, leading=13, spaceBefore=6, spaceAfter=3),
        "p": ParagraphStyle("p", fontName=regular, fontSize=9, leading=12),
        "big": ParagraphStyle("big", fontName=bold, fontSize=20, leading=24),
    }


def _table(rows, widths, header=True):
    regular, bold = _fonts()
    table = Table(rows, colWidths=widths, repeatRows=1 if header else 0)
    style = [
        ("FONTNAME", (0, 0), (-1, -1), regular),
        ("FONTSIZE", (0, 0), (-1, -1), 8.5),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
    if header:
        style += [("FONTNAME", (0, 0), (-1, 0), bold), ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee"))]
    table.setStyle(TableStyle(style))
    return table


def _money(value) -> str:
    return f"{value:,.2f}".replace(",", " ")


def _local(dt, dealership) -> str:
    return timezone.localtime(dt, dealership.tz).strftime("%d.%m.%Y %H:%M") if dt else "—"


def work_order_pdf(wo) -> bytes:
    s = _styles()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm)
    story = [
        Paragraph(_("Work order %(number)s") % {"number": wo.number}, s["title"]),
        Paragraph(f"{wo.dealership.name}. {wo.dealership.address}", s["p"]),
        Spacer(1, 4 * mm),
    ]
    v = wo.vehicle
    facts = [
        [_("Customer"), wo.customer.name, _("Phone"), wo.customer.phone.as_international if wo.customer.phone else ""],
        [_("Vehicle"), f"{v.make} {v.model} {v.year or ''}", _("VIN"), v.vin],
        [_("Plate"), v.plate or "—", _("Mileage, km"), str(wo.mileage_in or v.mileage)],
        [_("Arrived"), _local(wo.arrived_at, wo.dealership), _("Fuel level"), wo.get_fuel_level_display() or "—"],
        [_("Advisor"), wo.advisor.get_full_name() or wo.advisor.username, _("Status"), wo.get_status_display()],
        [_("Revision"), str(wo.revision), _("Printed"), _local(timezone.now(), wo.dealership)],
    ]
    story.append(_table(facts, [28 * mm, 62 * mm, 28 * mm, 62 * mm], header=False))
    story.append(Paragraph(_("Customer's complaint"), s["h"]))
    story.append(Paragraph(wo.customer_words or wo.complaint or "—", s["p"]))
    if wo.damage_notes:
        story.append(Paragraph(_("Visible damage"), s["h"]))
        story.append(Paragraph(wo.damage_notes, s["p"]))
    story.append(Paragraph(_("Estimate"), s["h"]))
    rows = [[_("Job / part"), _("Hours / qty"), _("Rate / price"), _("Amount"), _("Consent")]]
    for job in wo.jobs.prefetch_related("parts__part"):
        rows.append(
            [
                Paragraph(job.description + (" ★" if job.is_important else ""), s["p"]),
                str(job.standard_hours),
                _money(job.rate),
                _money(job.labour_amount),
                job.get_consent_display(),
            ]
        )
        for line in job.parts.all():
            rows.append(
                [Paragraph("  " + str(line.part), s["p"]), str(line.quantity.normalize()), _money(line.price),
                 _money(line.amount), ""]
            )  # fmt: skip
    rows.append(["", "", _("Labour"), _money(wo.labour_total), ""])
    rows.append(["", "", _("Parts"), _money(wo.parts_total), ""])
    rows.append(["", "", _("Total"), _money(wo.total), ""])
    story.append(_table(rows, [80 * mm, 20 * mm, 25 * mm, 25 * mm, 30 * mm]))
    story.append(Paragraph(_("Declined extra work is not included in the total."), s["p"]))
    story.append(Spacer(1, 8 * mm))
    signed = wo.signed_by and _("%(name)s, %(time)s") % {
        "name": wo.signed_by,
        "time": _local(wo.delivered_at, wo.dealership),
    }
    story.append(
        _table(
            [
                [_("Customer agreed at reception"), "______________________"],
                [_("Vehicle received by the customer"), signed or "______________________"],
            ],
            [90 * mm, 90 * mm],
            header=False,
        )
    )
    doc.build(story)
    return buffer.getvalue()


def bin_label_pdf(wo) -> bytes:
    """R17: the bin with the prepared parts carries the customer's name and the work-order number."""
    s = _styles()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=landscape(A6), leftMargin=8 * mm, rightMargin=8 * mm, topMargin=8 * mm)
    arrival = wo.appointment.starts_at if wo.appointment_id else wo.arrived_at
    story = [
        Paragraph(wo.number, s["big"]),
        Paragraph(wo.customer.name, s["title"]),
        Paragraph(f"{wo.vehicle.make} {wo.vehicle.model} · {wo.vehicle.plate or wo.vehicle.vin}", s["p"]),
        Paragraph(_("Arrival: %(time)s") % {"time": _local(arrival, wo.dealership)}, s["p"]),
        Spacer(1, 2 * mm),
    ]
    rows = [[_("Part"), _("Qty"), _("Reserved")]]
    for job in wo.jobs.prefetch_related("parts__part"):
        for line in job.parts.all():
            rows.append([str(line.part)[:45], str(line.quantity.normalize()), str(line.reserved_quantity.normalize())])
    story.append(_table(rows, [90 * mm, 20 * mm, 20 * mm]))
    doc.build(story)
    return buffer.getvalue()


def loaner_contract_pdf(reservation) -> bytes:
    """R18: the loan contract prefilled with the customer's details."""
    s = _styles()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=18 * mm)
    c, loaner, d = reservation.customer, reservation.loaner, reservation.dealership
    story = [
        Paragraph(_("Loan contract for a replacement car No. %(n)s") % {"n": reservation.pk}, s["title"]),
        Paragraph(f"{d.name}. {d.address}", s["p"]),
        Spacer(1, 5 * mm),
        _table(
            [
                [_("Customer"), c.name],
                [_("Phone"), c.phone.as_international if c.phone else ""],
                [_("E-mail"), c.email or "—"],
                [_("Driver's licence"), reservation.driver_licence or "______________________"],
                [_("Customer's vehicle in service"), str(reservation.appointment.vehicle)],
                [
                    _("Loaner car"),
                    f"{loaner.make} {loaner.model}, {loaner.plate}" + (f", VIN {loaner.vin}" if loaner.vin else ""),
                ],
                [_("Period"), f"{reservation.starts_on:%d.%m.%Y} — {reservation.ends_on:%d.%m.%Y}"],
            ],
            [60 * mm, 114 * mm],
            header=False,
        ),
        Spacer(1, 5 * mm),
        Paragraph(
            _(
                "The customer receives the loaner car for the period of the repair, returns it in the same condition "
                "with the same fuel level, and is liable for fines and damage during the loan."
            ),
            s["p"],
        ),
        Spacer(1, 12 * mm),
        _table(
            [[_("For the dealership"), _("Customer")], ["______________________", "______________________"]],
            [87 * mm, 87 * mm],
        ),
    ]
    doc.build(story)
    return buffer.getvalue()
