"""Roles of the procedures as Django groups.

Each app may ship a ``roles.py`` with ``ROLE_PERMISSIONS = {role: ["app_label.codename", ...]}``; the groups are
created by a migration and their permissions re-synced after every ``migrate`` so that permissions of apps added
later reach the roles without a hand-written data migration per app.
"""

from collections.abc import Iterable

from django.apps import apps as global_apps
from django.utils.translation import gettext_lazy as _

SERVICE_ADVISOR = "service_advisor"
PARTS_MANAGER = "parts_manager"
WARRANTY_ENGINEER = "warranty_engineer"
STOREKEEPER = "storekeeper"
QUALITY_INSPECTOR = "quality_inspector"
TECHNICIAN = "technician"
DIRECTOR = "director"
ADMINISTRATOR = "administrator"

ROLE_LABELS = {
    SERVICE_ADVISOR: _("Service advisor"),
    PARTS_MANAGER: _("Parts manager"),
    WARRANTY_ENGINEER: _("Warranty engineer"),
    STOREKEEPER: _("Storekeeper"),
    QUALITY_INSPECTOR: _("Quality inspector"),
    TECHNICIAN: _("Technician"),
    DIRECTOR: _("Director"),
    ADMINISTRATOR: _("Administrator"),
}
ALL_ROLES = tuple(ROLE_LABELS)

# Issue 14 item 5: where each role's day starts. Apps add theirs in ``<app>/panels.py`` (``ROLE_LANDINGS``); core
# holds the two pages it owns: the home dashboard of app panels (advisor: today's appointments, arrivals, my calls;
# the administrator sees every panel) and the reports page (director).
HOME_DASHBOARD = "home"
CORE_LANDINGS = {
    SERVICE_ADVISOR: HOME_DASHBOARD,
    DIRECTOR: "core:reports",
    ADMINISTRATOR: HOME_DASHBOARD,
}
# A user holding several roles lands on the page of the first of them here: the hands-on desks first (whoever also
# serves customers starts at the reception desk, then the parts counter, the warehouse, the warranty queue, the
# quality check), the overseeing roles last — a director or administrator who also works a desk starts at that desk.
LANDING_PRIORITY = (
    SERVICE_ADVISOR,
    PARTS_MANAGER,
    STOREKEEPER,
    WARRANTY_ENGINEER,
    QUALITY_INSPECTOR,
    TECHNICIAN,
    DIRECTOR,
    ADMINISTRATOR,
)

_VIEW_CUSTOMERS = ["core.view_customer", "core.view_vehicle"]
_EDIT_CUSTOMERS = ["core.add_customer", "core.change_customer", "core.add_vehicle", "core.change_vehicle"]

# Issue 16 item 5: outbound webhooks are the dealership administrator's (who holds every non-platform
# permission anyway; listed here so that the declaration says so).
_WEBHOOKS = [
    "core.view_webhooksubscription",
    "core.add_webhooksubscription",
    "core.change_webhooksubscription",
    "core.delete_webhooksubscription",
    "core.view_webhookdelivery",
    "core.change_webhookdelivery",
]

_LINKS = ["core.view_customerlink", "core.change_customerlink"]

ROLE_PERMISSIONS = {
    # Issue 17: who edits customers may revoke their links (a lost phone, a forwarded message).
    SERVICE_ADVISOR: [*_VIEW_CUSTOMERS, *_EDIT_CUSTOMERS, *_LINKS],
    PARTS_MANAGER: [*_VIEW_CUSTOMERS, *_EDIT_CUSTOMERS, *_LINKS],
    WARRANTY_ENGINEER: [*_VIEW_CUSTOMERS, "core.change_vehicle"],
    STOREKEEPER: [*_VIEW_CUSTOMERS],
    QUALITY_INSPECTOR: [*_VIEW_CUSTOMERS],
    # Issue 18 item 1: the technician reads the cars they repair; their jobs are service's (service/roles.py).
    TECHNICIAN: ["core.view_vehicle"],
    DIRECTOR: [*_VIEW_CUSTOMERS, "core.view_auditentry"],
    ADMINISTRATOR: [*_VIEW_CUSTOMERS, *_EDIT_CUSTOMERS, *_LINKS, "core.view_auditentry", *_WEBHOOKS],
}


def collect_role_permissions(app_configs: Iterable | None = None) -> dict[str, set[str]]:
    from importlib import import_module

    merged: dict[str, set[str]] = {role: set() for role in ALL_ROLES}
    for app_config in app_configs or global_apps.get_app_configs():
        try:
            module = import_module(f"{app_config.name}.roles")
        except ModuleNotFoundError:
            continue
        for role, perms in getattr(module, "ROLE_PERMISSIONS", {}).items():
            merged[role].update(perms)
    return merged


# The dealership administrator manages the dealership's records and staff, not the platform: no permission of these
# apps/models (API tokens would let one impersonate any user; beat schedules and lockout logs span all dealerships).
PLATFORM_PERMISSION_PREFIXES = (
    "authtoken.",
    "axes.",
    "django_celery_beat.",
    "contenttypes.",
    "sessions.",
    "admin.",
    "auth.add_group",
    "auth.change_group",
    "auth.delete_group",
    "auth.view_group",
    "auth.add_permission",
    "auth.change_permission",
    "auth.delete_permission",
    "auth.view_permission",
    "core.add_dealergroup",
    "core.change_dealergroup",
    "core.delete_dealergroup",
    "core.view_dealergroup",
    "core.add_dealership",
    "core.delete_dealership",
)


def sync_roles(group_model, permission_model) -> None:
    """Create the role groups and give each exactly its declared permissions (those that exist yet)."""
    wanted = collect_role_permissions()
    existing = {
        f"{p.content_type.app_label}.{p.codename}": p for p in permission_model.objects.select_related("content_type")
    }
    for role in ALL_ROLES:
        group, _created = group_model.objects.get_or_create(name=role)
        if role == ADMINISTRATOR:
            group.permissions.set(
                p for name, p in existing.items() if not name.startswith(PLATFORM_PERMISSION_PREFIXES)
            )
        else:
            group.permissions.set([existing[name] for name in sorted(wanted[role]) if name in existing])


def sync_roles_after_migrate(sender, **kwargs) -> None:
    from django.contrib.auth.models import Group, Permission

    sync_roles(Group, Permission)
