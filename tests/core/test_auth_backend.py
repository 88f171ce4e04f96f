"""The session's user, roles and permissions come in one query and mean exactly what ModelBackend says."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from django.utils import translation

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
    fresh = User.objects.get(pk=user.pk)
    assert perms == ModelBackend().get_all_permissions(fresh)
    fields = User._meta.concrete_fields
    assert [getattr(loaded, f.attname) for f in fields] == [getattr(fresh, f.attname) for f in fields]
    assert loaded._state.adding is False and loaded.get_session_auth_hash() == fresh.get_session_auth_hash()
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


def test_dealerships_come_with_the_identity(director, dealership, other_dealership, django_assert_num_queries):
    from dms.core.models import Dealership
    from dms.core.tenancy import default_dealership_id, user_dealerships

    Dealership.objects.filter(pk=dealership.pk).update(phone="+74951234567")
    with django_assert_num_queries(1):
        loaded = IdentityModelBackend().get_user(director.pk)
        mine = user_dealerships(loaded)
        default = default_dealership_id(loaded)
    fresh = user_dealerships(User.objects.get(pk=director.pk))
    assert set(mine) == set(fresh) == {dealership.pk, other_dealership.pk}
    assert default == default_dealership_id(User.objects.get(pk=director.pk))
    for pk, loaded_dealership in mine.items():
        assert [getattr(loaded_dealership, f.attname) for f in Dealership._meta.concrete_fields] == [
            getattr(fresh[pk], f.attname) for f in Dealership._meta.concrete_fields
        ]
    assert str(mine[dealership.pk].phone) == "+74951234567" and mine[dealership.pk].tz.key
    assert mine[dealership.pk]._state.adding is False


def test_superuser_sees_every_dealership_and_staff_without_profile_none(make_user, dealership, other_dealership):
    from dms.core.tenancy import user_dealerships

    admin = make_user(role=None, is_superuser=True)
    assert set(user_dealerships(IdentityModelBackend().get_user(admin.pk))) >= {dealership.pk, other_dealership.pk}
    loner = User.objects.create_user("loner", password="x")
    assert user_dealerships(IdentityModelBackend().get_user(loner.pk)) == {}


def _token_auth(key):
    from rest_framework.test import APIRequestFactory

    from dms.core.authentication import IdentityTokenAuthentication

    request = APIRequestFactory().get("/api/orders/", HTTP_AUTHORIZATION=f"Token {key}")
    return IdentityTokenAuthentication().authenticate(request)


def test_api_token_reads_user_roles_and_permissions_in_one_query(make_user, django_assert_num_queries):
    """Issue 19 item 4: an API request's token, user, permissions and dealerships in one query, meaning what DRF's
    TokenAuthentication and ModelBackend say."""
    from rest_framework.authtoken.models import Token

    from dms.core.tenancy import user_dealerships

    user = make_user(roles.PARTS_MANAGER)
    token = Token.objects.create(user=user)
    with django_assert_num_queries(1):
        loaded, loaded_token = _token_auth(token.key)
        assert loaded.has_perm("orders.place_customerorder") and not loaded.has_perm("claims.pay_warrantyclaim")
        assert role_names(loaded) == [roles.PARTS_MANAGER]
        mine = list(user_dealerships(loaded))
        assert loaded_token.user is loaded
    assert mine == list(user_dealerships(User.objects.get(pk=user.pk))) and mine
    assert (loaded_token.pk, loaded_token.user_id, loaded_token.created) == (token.pk, user.pk, token.created)
    assert loaded.get_all_permissions() == ModelBackend().get_all_permissions(User.objects.get(pk=user.pk))


def test_api_token_refusals_stay_drf_s(make_user):
    from rest_framework.authtoken.models import Token
    from rest_framework.exceptions import AuthenticationFailed

    inactive = make_user(roles.PARTS_MANAGER, is_active=False)
    for key, message in (
        ("0" * 40, "Invalid token."),
        ("nul\x00key", "Invalid token."),
        (Token.objects.create(user=inactive).key, "User inactive or deleted."),
    ):
        with translation.override("en"), pytest.raises(AuthenticationFailed) as refused:
            _token_auth(key)
        with translation.override("en"):
            assert str(refused.value.detail) == message


def test_api_with_a_token_answers_and_a_bad_one_is_401(make_user, client):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=make_user(roles.PARTS_MANAGER))
    assert client.get("/api/orders/", HTTP_AUTHORIZATION=f"Token {token.key}").status_code == 200
    assert client.get("/api/orders/", HTTP_AUTHORIZATION="Token " + "1" * 40).status_code == 401


def _prepared_here() -> set[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements")
        return {name for (name,) in cursor.fetchall()}


def test_identity_is_prepared_once_per_connection_and_survives_rollbacks_and_reconnects(make_user, client):
    """Issue 19 item 4: the identity query is planned once per database connection (dms.core.prepared), not on every
    request; a rolled-back transaction keeps the statement, a new connection prepares it again."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    user = make_user(roles.PARTS_MANAGER)
    backend = IdentityModelBackend()
    with CaptureQueriesContext(connection) as queries:
        assert backend.get_user(user.pk).pk == user.pk
        assert backend.get_user(user.pk).pk == user.pk
    # PREPARE is not a query of the request's; each read is one EXECUTE.
    assert [q["sql"] for q in queries.captured_queries] == [f"EXECUTE dms_identity({user.pk})"] * 2
    assert "dms_identity" in _prepared_here()

    with pytest.raises(RuntimeError), transaction.atomic():
        assert backend.get_user(user.pk).pk == user.pk
        raise RuntimeError("rolled back")
    assert backend.get_user(user.pk).pk == user.pk


@pytest.mark.django_db(transaction=True)
def test_a_new_connection_prepares_the_identity_again(make_user):
    from django.db import connection
    from rest_framework.authtoken.models import Token

    from dms.core.auth_backends import identity_of_token

    user = make_user(roles.PARTS_MANAGER)
    key = Token.objects.create(user=user).key
    backend = IdentityModelBackend()
    assert backend.get_user(user.pk).pk == user.pk and identity_of_token(key)[0].pk == user.pk
    connection.close()  # a new connection has no prepared statements of its own
    assert backend.get_user(user.pk).pk == user.pk
    assert identity_of_token(key)[0].pk == user.pk and identity_of_token("x" * 40) is None
    assert {"dms_identity", "dms_identity_by_token"} <= _prepared_here()


def test_a_session_id_out_of_any_range_is_an_anonymous_visitor(make_user):
    backend = IdentityModelBackend()
    assert backend.get_user(2**63) is None and backend.get_user(-(2**64)) is None
    assert backend.get_user(str(10**30)) is None and backend.get_user(0) is None


def test_prepared_placeholders_are_numbered_and_percent_signs_refused():
    from dms.core.prepared import _placeholders_numbered

    assert _placeholders_numbered("SELECT %s, %s FROM t WHERE a = %s") == "SELECT $1, $2 FROM t WHERE a = $3"
    assert _placeholders_numbered("SELECT 1") == "SELECT 1"
    with pytest.raises(ValueError):
        _placeholders_numbered("SELECT 1 WHERE a LIKE '%%x'")
