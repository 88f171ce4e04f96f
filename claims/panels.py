"""What the claims app adds to core pages (issue 14 item 5): the warranty engineer's day starts at the claims queue;
the claims KPIs are among the director's reports."""

from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from dms.core import roles
from dms.core.history import HistoryItem, HistorySection, QuickAction

from . import workorders
from .selectors import complaint_history, goodwill_history, warranty_history

ROLE_LANDINGS = {roles.WARRANTY_ENGINEER: "claims:claim_list"}

REPORTS = [
    ("claims:kpi", _("Claims and complaints KPIs"), "claims.view_claims_kpi"),
    # Issue 18 items 5, 6 (seed 004): the directors' staff KPIs and appraisals, and the technicians' efficiency.
    ("claims:staff_kpis", _("Staff KPIs"), "claims.appraise_staff"),
    ("claims:technician_efficiency", _("Technician efficiency"), "claims.appraise_staff"),
]


# Issue 14 item 3: complaints, goodwill and warranty claims on the customer's and the vehicle's cards; a complaint
# can be registered from the card, prefilled.
def _item(kind: str):
    def to_item(record) -> HistoryItem:
        return HistoryItem.of(
            record,
            kind,
            title=record.number,
            date=getattr(record, "received_at", None) or record.created_at,
            detail=getattr(record, "job_description", "") or record.description,
        )

    return to_item


def _sections(user, **subject) -> list[HistorySection]:
    sections = []
    if user.has_perm("claims.view_complaint"):
        sections.append(HistorySection("complaint", _("Complaints"), complaint_history(**subject), _item("complaint")))
    if user.has_perm("claims.view_warrantyclaim"):
        claims = warranty_history(**subject)
        sections.append(HistorySection("warranty_claim", _("Warranty claims"), claims, _item("warranty_claim")))
    if user.has_perm("claims.view_goodwillclaim"):
        claims = goodwill_history(**subject)
        sections.append(HistorySection("goodwill_claim", _("Goodwill claims"), claims, _item("goodwill_claim")))
    return sections


def customer_history(user, customer) -> list[HistorySection]:
    return _sections(user, customer=customer)


def vehicle_history(user, vehicle) -> list[HistorySection]:
    return _sections(user, vehicle=vehicle)


def _complaint_action(user, **params) -> list[QuickAction]:
    if not user.has_perm("claims.add_complaint"):
        return []
    url = f"{reverse('claims:complaint_create')}?{urlencode(params)}"
    return [QuickAction(_("Register a complaint"), url, "complaint")]


def customer_actions(user, customer) -> list[QuickAction]:
    return _complaint_action(user, customer=customer.pk)


def vehicle_actions(user, vehicle) -> list[QuickAction]:
    return [
        *_complaint_action(user, customer=vehicle.customer_id, vehicle=vehicle.pk),
        *_warranty_action(user, vehicle),
    ]


def _warranty_action(user, vehicle) -> list[QuickAction]:
    """Issue 14: the warranty engineer starts a claim from the vehicle's card, on its last delivered work order."""
    if not user.has_perm("claims.add_warrantyclaim"):
        return []
    work_order_id = workorders.last_delivered_id(vehicle=vehicle)
    if work_order_id is None:
        return []
    url = f"{reverse('claims:claim_create')}?{urlencode({'work_order': work_order_id})}"
    return [QuickAction(_("Warranty claim"), url, "warranty_claim")]
