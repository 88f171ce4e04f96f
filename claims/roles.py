"""Who does what with complaints and claims.

Staff roles are merged into the core groups (``ROLE_PERMISSIONS``). The manufacturer's people who confirm claims
are external users with roles of their own (``EXTERNAL_ROLE_PERMISSIONS``): the regional field manager (FMC), the
claims department and customer assistance (CAC). Their accounts get the dealerships they cover in their staff
profile, so they see claims of those dealerships only, and no complaints or other records.
"""

from dms.core import roles

FIELD_MANAGER = "field_manager"
CLAIMS_DEPARTMENT = "claims_department"
CUSTOMER_ASSISTANCE = "customer_assistance"
EXTERNAL_ROLES = (FIELD_MANAGER, CLAIMS_DEPARTMENT, CUSTOMER_ASSISTANCE)

_VIEW_COMPLAINTS = ["claims.view_complaint", "claims.view_attachment"]
_REGISTER_COMPLAINTS = [*_VIEW_COMPLAINTS, "claims.add_complaint", "claims.change_complaint"]
_WORK_COMPLAINTS = [*_REGISTER_COMPLAINTS, "claims.investigate_complaint"]
# Issue 18 item 6 (seed 004): every employee reads his own KPIs and appraisals and scores colleagues; directors
# (supervisors) read everyone's and appraise.
_STAFF_KPI = ["claims.view_staff_kpi"]
_VIEW_CLAIMS = ["claims.view_warrantyclaim", "claims.view_goodwillclaim", "claims.view_quarantinedpart"]

ROLE_PERMISSIONS = {
    # Advisors register complaints and work those of their department (R33).
    roles.SERVICE_ADVISOR: [*_WORK_COMPLAINTS, *_STAFF_KPI],
    roles.PARTS_MANAGER: [*_WORK_COMPLAINTS, *_STAFF_KPI],
    roles.QUALITY_INSPECTOR: [*_WORK_COMPLAINTS, *_STAFF_KPI],
    # Issue 18 items 5, 6: a technician reads his own KPIs and efficiency and scores colleagues.
    roles.TECHNICIAN: [*_STAFF_KPI],
    # The warranty engineer owns claims (R22, R23) and runs the complaint procedure (assign, close).
    roles.WARRANTY_ENGINEER: [
        *_WORK_COMPLAINTS,
        "claims.assign_complaint",
        "claims.close_complaint",
        "claims.view_claims_kpi",
        *_VIEW_CLAIMS,
        "claims.add_warrantyclaim",
        "claims.change_warrantyclaim",
        "claims.submit_warrantyclaim",
        "claims.record_payment_warrantyclaim",
        "claims.dispose_quarantinedpart",
        "claims.add_goodwillclaim",
        "claims.change_goodwillclaim",
        "claims.submit_goodwillclaim",
        "claims.record_payment_goodwillclaim",
        "claims.view_claimssettings",
        "claims.change_claimssettings",
        *_STAFF_KPI,
    ],
    roles.STOREKEEPER: [
        "claims.view_warrantyclaim",
        "claims.view_quarantinedpart",
        "claims.dispose_quarantinedpart",
        *_STAFF_KPI,
    ],
    # Directors read everything and the KPIs; escalations of overdue complaints go to them.
    roles.DIRECTOR: [
        *_VIEW_COMPLAINTS,
        *_VIEW_CLAIMS,
        "claims.view_claims_kpi",
        "claims.view_claimssettings",
        *_STAFF_KPI,
        "claims.appraise_staff",
    ],
}

EXTERNAL_ROLE_PERMISSIONS = {
    FIELD_MANAGER: [
        "claims.view_warrantyclaim",
        "claims.fmc_confirm_warrantyclaim",
        "claims.view_goodwillclaim",
        "claims.fmc_confirm_goodwillclaim",
        "claims.view_attachment",
    ],
    CLAIMS_DEPARTMENT: [
        "claims.view_warrantyclaim",
        "claims.claims_confirm_warrantyclaim",
        "claims.record_payment_warrantyclaim",
        "claims.view_attachment",
    ],
    CUSTOMER_ASSISTANCE: [
        "claims.view_goodwillclaim",
        "claims.cac_confirm_goodwillclaim",
        "claims.record_payment_goodwillclaim",
        "claims.view_attachment",
    ],
}


def sync_external_roles(sender=None, **kwargs) -> None:
    """Create the external roles' groups and give them exactly their permissions (after every migrate)."""
    from django.contrib.auth.models import Group, Permission

    existing = {
        f"{p.content_type.app_label}.{p.codename}": p
        for p in Permission.objects.filter(content_type__app_label="claims").select_related("content_type")
    }
    for role, perms in EXTERNAL_ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=role)
        group.permissions.set([existing[name] for name in perms if name in existing])
