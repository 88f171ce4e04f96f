import pytest
from django.contrib.auth.models import Group

from dms.core import roles

pytestmark = pytest.mark.django_db


def test_every_role_group_exists_after_migrate():
    assert set(Group.objects.values_list("name", flat=True)) >= set(roles.ALL_ROLES)


@pytest.mark.parametrize(
    "role, perm, allowed",
    [
        (roles.SERVICE_ADVISOR, "core.add_customer", True),
        (roles.SERVICE_ADVISOR, "core.view_auditentry", False),
        (roles.STOREKEEPER, "core.add_customer", False),
        (roles.QUALITY_INSPECTOR, "core.change_vehicle", False),
        (roles.WARRANTY_ENGINEER, "core.change_vehicle", True),
        (roles.DIRECTOR, "core.view_customer", True),
        (roles.DIRECTOR, "core.add_customer", False),
        (roles.ADMINISTRATOR, "auth.change_user", True),
        (roles.PARTS_MANAGER, "parts.add_part", True),
        (roles.SERVICE_ADVISOR, "parts.add_part", False),
    ],
)
def test_role_permissions(make_user, role, perm, allowed):
    assert make_user(role).has_perm(perm) is allowed
