from dms.core import roles

_VIEW = ["parts.view_part", "parts.view_supplier"]
_EDIT = ["parts.add_part", "parts.change_part", "parts.add_supplier", "parts.change_supplier"]

ROLE_PERMISSIONS = {
    roles.SERVICE_ADVISOR: _VIEW,
    roles.PARTS_MANAGER: [*_VIEW, *_EDIT],
    roles.WARRANTY_ENGINEER: _VIEW,
    roles.STOREKEEPER: _VIEW,
    roles.QUALITY_INSPECTOR: _VIEW,
    roles.DIRECTOR: _VIEW,
}
