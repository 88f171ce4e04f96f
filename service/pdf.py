"""Printable documents (reportlab): the work order with its estimate, the bin label (R17), the loan contract (R18).

Built from dms.core.pdf's blocks (issue 16, item 4): the dealership's requisites on top, tables whose cells wrap,
the estimate's totals with the VAT included in the prices."""

from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A6, landscape
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer

from dms.core.formatting import format_hours, format_phone, plain_quantity, short_date, short_datetime
from dms.core.pdf import PdfDocument, data_table, money, text, totals_rows, totals_table


def _local(dt, dealership) -> str:
    # issue 14 item 8: the reader's date format, in the dealership's time zone
    return short_datetime(timezone.localtime(dt, dealership.tz)) if dt else "—"


def work_order_pdf(wo) -> bytes:
    doc = PdfDocument(wo.dealership, _("Work order %(number)s") % {"number": wo.number})
    s, width, story = doc.styles, doc.width, doc.story
    v = wo.vehicle
    facts = [
        [_("Customer"), wo.customer.name, _("Phone"), format_phone(wo.customer.phone)],
        [_("Vehicle"), f"{v.make} {v.model} {v.year or ''}", _("VIN"), v.vin],
        [_("Plate"), v.plate or "—", _("Mileage, km"), str(wo.mileage_in or v.mileage)],
        [_("Arrived"), _local(wo.arrived_at, wo.dealership), _("Fuel level"), wo.get_fuel_level_display() or "—"],
        [_("Advisor"), wo.advisor.get_full_name() or wo.advisor.username, _("Status"), wo.get_status_display()],
        [_("Revision"), str(wo.revision), _("Printed"), _local(timezone.now(), wo.dealership)],
    ]
    story.append(data_table(None, facts, weights=[28, 62, 28, 62], width=width))
    story.append(Paragraph(text(_("Customer's complaint")), s["h"]))
    story.append(Paragraph(text(wo.customer_words or wo.complaint or "—"), s["p"]))
    if wo.damage_notes:
        story.append(Paragraph(text(_("Visible damage")), s["h"]))
        story.append(Paragraph(text(wo.damage_notes), s["p"]))
    story.append(Paragraph(text(_("Estimate")), s["h"]))
    rows = []
    for job in wo.jobs.prefetch_related("parts__part"):
        rows.append(
            [
                job.description + (" ★" if job.is_important else ""),
                format_hours(job.standard_hours),  # the language's decimal mark, as on the pages
                money(job.rate),
                money(job.labour_amount),
                job.get_consent_display(),
            ]
        )
        for line in job.parts.all():
            rows.append(
                [
                    Paragraph(text(str(line.part)), s["td_sub"]),  # a part under its job, indented
                    plain_quantity(line.quantity),
                    money(line.price),
                    money(line.amount),
                    "",
                ]
            )
    table = data_table(
        [_("Job / part"), _("Hours / qty"), _("Rate / price"), _("Amount"), _("Consent")],
        rows,
        weights=[78, 18, 26, 26, 32],
        width=width,
        numeric=(1, 2, 3),
    )
    totals = [(_("Labour"), money(wo.labour_total)), (_("Parts"), money(wo.parts_total))]
    totals += totals_rows(wo.total, wo.dealership)
    story += [table, totals_table(totals, under=table, amount_column=3)]
    story.append(Paragraph(text(_("Declined extra work is not included in the total.")), s["p"]))
    story.append(Spacer(1, 8 * mm))
    signed = wo.signed_by and _("%(name)s, %(time)s") % {
        "name": wo.signed_by,
        "time": _local(wo.delivered_at, wo.dealership),
    }
    story.append(
        data_table(
            None,
            [
                [_("Customer agreed at reception"), "______________________"],
                [_("Vehicle received by the customer"), signed or "______________________"],
            ],
            weights=[1, 1],
            width=width,
        )
    )
    return doc.render()


def bin_label_pdf(wo) -> bytes:
    """R17: the bin with the prepared parts carries the customer's name and the work-order number."""
    doc = PdfDocument(wo.dealership, wo.number, pagesize=landscape(A6), margin=8 * mm, compact=True, heading=False)
    s, width, story = doc.styles, doc.width, doc.story
    arrival = wo.appointment.starts_at if wo.appointment_id else wo.arrived_at
    story += [
        Paragraph(text(wo.number), s["big"]),
        Paragraph(text(wo.customer.name), s["title"]),
        Paragraph(text(f"{wo.vehicle.make} {wo.vehicle.model} · {wo.vehicle.plate or wo.vehicle.vin}"), s["p"]),
        Paragraph(text(_("Arrival: %(time)s") % {"time": _local(arrival, wo.dealership)}), s["p"]),
        Spacer(1, 2 * mm),
    ]
    rows = [
        [str(line.part), plain_quantity(line.quantity), plain_quantity(line.reserved_quantity)]
        for job in wo.jobs.prefetch_related("parts__part")
        for line in job.parts.all()
    ]
    story.append(
        data_table([_("Part"), _("Qty"), _("Reserved")], rows, weights=[90, 20, 22], width=width, numeric=(1, 2))
    )
    return doc.render()


def loaner_contract_pdf(reservation) -> bytes:
    """R18: the loan contract prefilled with the customer's details."""
    c, loaner, d = reservation.customer, reservation.loaner, reservation.dealership
    doc = PdfDocument(d, _("Loan contract for a replacement car No. %(n)s") % {"n": reservation.pk}, margin=18 * mm)
    s, width, story = doc.styles, doc.width, doc.story
    story += [
        Spacer(1, 3 * mm),
        data_table(
            None,
            [
                [_("Customer"), c.name],
                [_("Phone"), format_phone(c.phone)],
                [_("E-mail"), c.email or "—"],
                [_("Driver's licence"), reservation.driver_licence or "______________________"],
                [_("Customer's vehicle in service"), str(reservation.appointment.vehicle)],
                [
                    _("Loaner car"),
                    f"{loaner.make} {loaner.model}, {loaner.plate}" + (f", VIN {loaner.vin}" if loaner.vin else ""),
                ],
                [_("Period"), f"{short_date(reservation.starts_on)} — {short_date(reservation.ends_on)}"],
            ],
            weights=[60, 114],
            width=width,
        ),
        Spacer(1, 5 * mm),
        Paragraph(
            text(
                _(
                    "The customer receives the loaner car for the period of the repair, returns it in the same "
                    "condition with the same fuel level, and is liable for fines and damage during the loan."
                )
            ),
            s["p"],
        ),
        Spacer(1, 12 * mm),
        data_table(
            [_("For the dealership"), _("Customer")],
            [["______________________", "______________________"]],
            weights=[1, 1],
            width=width,
        ),
    ]
    return doc.render()
