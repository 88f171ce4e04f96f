"""Preparation of an arrival (R17): reserve what is in stock, order what is missing, warn advisor and customer."""

import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from dms.core import events
from dms.core.exceptions import ConflictError
from dms.core.formatting import plain_quantity
from dms.core.models import AuditAction
from notifications import services as notification_services
from orders import services as order_services
from orders.models import OrderPurpose
from parts import selectors as parts_selectors
from parts import services as parts_services

from .. import scheduling
from ..models import (
    Appointment,
    AppointmentStatus,
    WorkOrder,
    WorkOrderJob,
    WorkOrderPart,
    WorkOrderStatus,
)
from .common import _lock_work_order, _now

User = get_user_model()


def _parts_eta(lines: list[WorkOrderPart], today: datetime.date) -> datetime.date:
    days = max((line.part.default_supplier.delivery_days if line.part.default_supplier else 7) for line in lines)
    return today + datetime.timedelta(days=days)


def _warn_missing_parts(appointment_id: int, eta: datetime.date, actor_id: int | None) -> None:
    appointment = Appointment.objects.select_related("customer", "dealership").get(pk=appointment_id)
    actor = User.objects.filter(pk=actor_id).first()
    tz = appointment.dealership.tz
    with translation.override(appointment.customer.message_language()):  # the customer's language (issue 17)
        subject = _("Your service appointment: parts are on order")
        body = _(
            "%(dealership)s: some parts for your visit on %(date)s are not in stock yet; "
            "we expect them by %(eta)s. We will call you to agree a new time if needed."
        ) % {
            "dealership": appointment.dealership.name,
            "date": scheduling.local(appointment.starts_at, tz).strftime("%d.%m.%Y %H:%M"),
            "eta": eta.strftime("%d.%m.%Y"),
        }
    delivery = notification_services.customer_notify(
        actor=actor,
        customer=appointment.customer,
        subject=subject,
        body=body,
        reference=f"appointment:{appointment.pk}:parts",
    )
    if delivery is not None:  # None: the customer is phoned instead
        Appointment.objects.filter(pk=appointment_id).update(parts_warning_sent_at=timezone.now())


@transaction.atomic
def workorder_prepare_parts(
    *, actor, work_order: WorkOrder, order_kind: str = "commercial", now: datetime.datetime | None = None
) -> dict[str, Any]:
    """R17: check each needed part, reserve what is in stock, order what is missing, warn the customer if late."""
    now = _now(now)
    work_order = _lock_work_order(work_order)
    if order_kind not in ("commercial", "warranty"):
        raise ValidationError({"order_kind": _("Choose warranty or commercial.")})
    if work_order.status in (WorkOrderStatus.READY, WorkOrderStatus.DELIVERED):
        raise ConflictError(_("The work order is already finished."))
    lines = list(
        WorkOrderPart.objects.select_for_update(of=("self",))
        .filter(job__work_order=work_order, job__consent__in=WorkOrderJob.DOABLE)
        .select_related("part__default_supplier")
    )
    if not lines:
        raise ValidationError({"parts": _("Add the parts the job needs first.")})
    reserved, missing = _reserve_from_stock(actor=actor, work_order=work_order, lines=lines)
    order = _order_missing(actor=actor, work_order=work_order, missing=missing, order_kind=order_kind)
    for line in {id(line): line for line, _q in reserved + missing}.values():
        line.save(update_fields=["reserved_quantity", "ordered_quantity", "reservation_ref"])
    work_order.save()
    if work_order.appointment is not None:
        _mark_appointment_prepared(actor=actor, work_order=work_order, order=order, missing=missing, now=now)
    events.record(
        actor=actor,
        instance=work_order,
        action=AuditAction.ACTION,
        changes={
            "reserved": ", ".join(f"{line.part.number} × {plain_quantity(qty)}" for line, qty in reserved),
            "ordered": ", ".join(f"{line.part.number} × {plain_quantity(qty)}" for line, qty in missing),
            "customer_order": str(order) if order else "",
        },
        message=events.text(gettext_noop("parts prepared")),
    )
    return {"reserved": reserved, "missing": missing, "order": order}


PartShortfall = list[tuple[WorkOrderPart, Decimal]]


def _reserve_from_stock(
    *, actor, work_order: WorkOrder, lines: list[WorkOrderPart]
) -> tuple[PartShortfall, PartShortfall]:
    """Reserve what the warehouse has of each line's outstanding quantity; return (reserved, still missing)."""
    reference = f"{work_order.number}"
    reserved, missing = [], []
    for line in lines:
        need = line.quantity - line.reserved_quantity - line.ordered_quantity
        if need <= 0:
            continue
        on_hand = parts_selectors.stock_available(dealership=work_order.dealership, part=line.part)
        take = min(need, on_hand) if on_hand > 0 else Decimal("0")
        if take > 0:
            reservation = parts_services.stock_reserve(
                actor=actor, dealership=work_order.dealership, part=line.part, quantity=take, reference=reference
            )
            line.reserved_quantity += take
            if reservation is not None:
                line.reservation_ref = str(reservation.pk)
            reserved.append((line, take))
        if need - take > 0:
            missing.append((line, need - take))
    return reserved, missing


def _order_missing(*, actor, work_order: WorkOrder, missing: PartShortfall, order_kind: str):
    """R17: the missing parts are ordered through one customer order, linked to the work order."""
    if not missing:
        return None
    order = order_services.customer_order_create(
        actor=actor,
        dealership=work_order.dealership,
        customer=work_order.customer,
        vehicle=work_order.vehicle,
        kind=order_kind,
        purpose=OrderPurpose.REPAIR,
        lines=[{"part": line.part, "quantity": qty} for line, qty in missing],
        comment=_("Preparation of work order %(number)s") % {"number": work_order.number},
    )
    for line, qty in missing:
        line.ordered_quantity += qty
    work_order.customer_order = order
    return order


def _mark_appointment_prepared(
    *, actor, work_order: WorkOrder, order, missing: PartShortfall, now: datetime.datetime
) -> None:
    """The appointment is prepared; the customer hears after commit when the parts arrive after the visit."""
    appointment = Appointment.objects.select_for_update().get(pk=work_order.appointment.pk)
    appointment.prepared_at = now
    update = ["prepared_at", "updated_at"]
    if order is not None:
        appointment.customer_order = order
        update.append("customer_order")
    appointment.save(update_fields=update)
    if missing:
        eta = _parts_eta([line for line, _q in missing], timezone.localtime(now, work_order.dealership.tz).date())
        arrival = scheduling.local(appointment.starts_at, work_order.dealership.tz).date()
        if eta > arrival:
            actor_id = getattr(actor, "pk", None)
            transaction.on_commit(lambda: _warn_missing_parts(appointment.pk, eta, actor_id))


def _email_preparation_list(advisor_id: int, lines: list[str]) -> None:
    advisor = User.objects.filter(pk=advisor_id).first()
    if advisor is None or not advisor.email:
        return
    send_mail(
        _("Appointments to prepare"),
        _("Prepare these arrivals: open the work order, check and reserve parts, order what is missing.")  # R17
        + "\n\n"
        + "\n".join(lines),
        settings.DEFAULT_FROM_EMAIL,
        [advisor.email],
    )


def _job_technicians_text(appointment: Appointment) -> str:
    """The list's line names who takes which job of a work order opened early (issue 18 item 3, R17)."""
    jobs = WorkOrderJob.objects.filter(
        work_order__appointment=appointment, consent__in=WorkOrderJob.DOABLE
    ).select_related("technician")
    parts = [
        f"{job.description} — {job.technician.get_full_name() or job.technician.username}"
        if job.technician
        else f"{job.description} — {_('not assigned')}"
        for job in jobs
    ]
    return ("\n    " + "\n    ".join(parts)) if parts else ""


@transaction.atomic
def preparation_mark_due(*, now: datetime.datetime | None = None) -> int:
    """R17 beat job: arrivals 48 h and 24 h ahead that are not prepared are listed for their advisors."""
    now = _now(now)
    due = (
        Appointment.objects.select_for_update(of=("self",))
        .filter(
            status__in=[AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED, AppointmentStatus.RESCHEDULE],
            starts_at__gt=now,
            starts_at__lte=now + datetime.timedelta(hours=48),
            prepared_at__isnull=True,
        )
        .select_related("customer", "vehicle", "dealership")
    )
    by_advisor: dict[int, list[str]] = {}
    for appointment in due:
        stage = "24h" if appointment.starts_at - now <= datetime.timedelta(hours=24) else "48h"
        if appointment.preparation_stage == stage:
            continue
        appointment.preparation_stage = stage
        appointment.save(update_fields=["preparation_stage", "updated_at"])
        local = scheduling.local(appointment.starts_at, appointment.dealership.tz)
        by_advisor.setdefault(appointment.advisor_id, []).append(
            f"{local:%d.%m %H:%M} [{stage}] {appointment.customer.name}, {appointment.vehicle}: {appointment.reason}"
            + _job_technicians_text(appointment)
        )
    for advisor_id, lines in by_advisor.items():
        transaction.on_commit(lambda a=advisor_id, ls=lines: _email_preparation_list(a, ls))
    return sum(len(v) for v in by_advisor.values())
