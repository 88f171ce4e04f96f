"""The session's user, roles and permissions come in one query and mean exactly what ModelBackend says."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from dms.core import roles
from dms.core.auth_backends import IdentityModelBackend, role_names

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]
User = get_user_model()


def test_user_roles_and_permissions_in_one_query(make_user, django_assert_num_queries):
    user = make_user(roles.PARTS_MANAGER)
    user.user_permissions.add(Permission.objects.get(codename="view_callevent"))
    with django_assert_num_queries(1):
        loaded = IdentityModelBackend().get_user(user.pk)
        perms = loaded.get_all_permissions()
        assert loaded.has_perm("orders.place_customerorder") and not loaded.has_perm("claims.pay_warrantyclaim")
        assert role_names(loaded) == [roles.PARTS_MANAGER]
    assert perms == ModelBackend().get_all_permissions(User.objects.get(pk=user.pk))
    assert "notifications.view_callevent" in perms


def test_a_removed_role_is_gone_at_the_next_request(make_user, client):
    user = make_user(roles.PARTS_MANAGER)
    client.force_login(user, backend="dms.core.auth_backends.IdentityModelBackend")
    assert client.get(reverse("orders:dashboard")).status_code == 200
    user.groups.remove(Group.objects.get(name=roles.PARTS_MANAGER))
    assert client.get(reverse("orders:dashboard")).status_code == 403


def test_inactive_unknown_and_superusers(make_user):
    backend = IdentityModelBackend()
    assert backend.get_user(make_user(is_active=False).pk) is None
    assert backend.get_user(10**9) is None and backend.get_user("not-a-number") is None
    admin = make_user(role=None, is_superuser=True)
    loaded = backend.get_user(admin.pk)
    assert loaded.has_perm("claims.pay_warrantyclaim") and role_names(loaded) == []
    assert loaded.get_all_permissions() == set(
        f"{p.content_type.app_label}.{p.codename}" for p in Permission.objects.select_related("content_type")
    )
