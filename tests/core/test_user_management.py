"""Issue 12, item 1: privilege escalation through user management.

A dealership administrator who is not a superuser manages only users all of whose dealerships are theirs (never a
superuser, never someone holding more than they could grant), and grants no role, permission, flag or dealership
they do not hold. The rule lives in ``dms.core.user_policy``; these tests drive it through the admin.
"""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.urls import reverse

from dms.core import roles, user_policy
from dms.core.models import StaffProfile

User = get_user_model()
NEW_PASSWORD = "Takeover-2026-xyz"


@pytest.fixture
def staff_admin(make_user):
    return make_user(roles.ADMINISTRATOR, is_staff=True, username="dealer_admin")


@pytest.fixture
def admin_client(staff_admin):
    client = Client()
    client.force_login(staff_admin)
    return client


@pytest.fixture
def superuser(make_user):
    # Like the demo's "admin": a superuser who also has a staff profile in the dealership.
    return make_user(None, is_staff=True, is_superuser=True, username="root")


@pytest.fixture
def platform_group(db):
    group = Group.objects.create(name="token_keepers")
    group.permissions.add(Permission.objects.get(codename="add_token", content_type__app_label="authtoken"))
    return group


def can_log_in(username: str, password: str) -> bool:
    response = Client().post(reverse("login"), {"username": username, "password": password})
    return response.status_code == 302


def password_form(password: str = NEW_PASSWORD) -> dict:
    return {"password1": password, "password2": password, "usable_password": "true", "set_usable_password": "true"}


def user_form(user, **overrides) -> dict:
    """The user admin's change form as a browser posts it (with the staff profile inline)."""
    profile = user.staff_profile
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": "on",
        "groups": [g.pk for g in user.groups.all()],
        "user_permissions": [p.pk for p in user.user_permissions.all()],
        "staff_profile-TOTAL_FORMS": "1",
        "staff_profile-INITIAL_FORMS": "1",
        "staff_profile-MIN_NUM_FORMS": "1",
        "staff_profile-MAX_NUM_FORMS": "1",
        "staff_profile-0-id": profile.pk,
        "staff_profile-0-user": user.pk,
        "staff_profile-0-dealerships": [d.pk for d in profile.dealerships.all()],
        "staff_profile-0-default_dealership": profile.default_dealership_id,
        "staff_profile-0-phone": "",
    }
    if user.is_staff:
        data["is_staff"] = "on"
    data.update(overrides)
    return data


# ------------------------------------------------------------------------------------------------------------------
# The exploit of the issue: the superuser and the director of two dealerships are out of reach.
# ------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("target_name", ["superuser", "director"])
def test_staff_admin_cannot_set_the_password_of_a_superuser_or_a_director_of_two_dealerships(
    request, admin_client, target_name
):
    target = request.getfixturevalue(target_name)
    url = reverse("admin:auth_user_password_change", args=[target.pk])
    assert admin_client.get(url).status_code == 404
    assert admin_client.post(url, password_form()).status_code == 404
    target.refresh_from_db()
    assert target.check_password("pass12345")
    assert not target.check_password(NEW_PASSWORD)
    assert not can_log_in(target.username, NEW_PASSWORD)
    assert can_log_in(target.username, "pass12345")


@pytest.mark.parametrize("target_name", ["superuser", "director"])
def test_staff_admin_neither_sees_nor_changes_nor_deletes_them(request, admin_client, target_name, dealership):
    target = request.getfixturevalue(target_name)
    listing = admin_client.get(reverse("admin:auth_user_changelist"), {"q": target.username})
    assert listing.status_code == 200
    assert reverse("admin:auth_user_change", args=[target.pk]) not in listing.content.decode()
    change = reverse("admin:auth_user_change", args=[target.pk])
    assert admin_client.get(change).status_code == 302  # the admin's "does not exist" redirect
    admin_client.post(change, {"username": "hijacked", "is_active": ""})
    admin_client.post(reverse("admin:auth_user_delete", args=[target.pk]), {"post": "yes"})
    assert admin_client.get(reverse("admin:auth_user_history", args=[target.pk])).status_code == 302
    target.refresh_from_db()
    assert target.username != "hijacked" and target.is_active
    # The staff profile (dealership membership) is out of reach as well.
    profile = StaffProfile.objects.get(user=target)
    assert admin_client.get(reverse("admin:core_staffprofile_change", args=[profile.pk])).status_code == 302
    admin_client.post(
        reverse("admin:core_staffprofile_change", args=[profile.pk]),
        {"dealerships": [dealership.pk], "default_dealership": dealership.pk},
    )
    admin_client.post(reverse("admin:core_staffprofile_delete", args=[profile.pk]), {"post": "yes"})
    assert StaffProfile.objects.get(pk=profile.pk).dealerships.count() == profile.dealerships.count()


def test_bulk_delete_skips_users_out_of_reach(admin_client, superuser, director, advisor):
    admin_client.post(
        reverse("admin:auth_user_changelist"),
        {"action": "delete_selected", "_selected_action": [superuser.pk, director.pk], "post": "yes"},
    )
    assert User.objects.filter(pk__in=[superuser.pk, director.pk]).count() == 2


def test_a_user_holding_more_than_the_admin_is_out_of_reach(admin_client, advisor, platform_group):
    advisor.groups.add(platform_group)
    url = reverse("admin:auth_user_password_change", args=[advisor.pk])
    assert admin_client.post(url, password_form()).status_code == 404
    advisor.refresh_from_db()
    assert not advisor.check_password(NEW_PASSWORD)


def test_a_user_without_a_dealership_is_out_of_reach(admin_client, make_user):
    orphan = User.objects.create_user("orphan", password="pass12345")  # e.g. made by createsuperuser's peers
    assert admin_client.get(reverse("admin:auth_user_password_change", args=[orphan.pk])).status_code == 404
    # ... and cannot be pulled into the dealership by giving it a staff profile.
    assert admin_client.get(reverse("admin:core_staffprofile_add")).status_code == 403


# ------------------------------------------------------------------------------------------------------------------
# Grants: what the admin does not hold is refused with a form error, nothing changes.
# ------------------------------------------------------------------------------------------------------------------


def test_granting_a_role_the_admin_does_not_hold_is_refused(admin_client, advisor, platform_group):
    url = reverse("admin:auth_user_change", args=[advisor.pk])
    response = admin_client.post(url, user_form(advisor, groups=[platform_group.pk]))
    assert response.status_code == 200
    assert "groups" in response.context["adminform"].form.errors
    assert not advisor.groups.filter(pk=platform_group.pk).exists()


def test_granting_a_permission_the_admin_does_not_hold_is_refused(admin_client, advisor):
    token_perm = Permission.objects.get(codename="add_token", content_type__app_label="authtoken")
    url = reverse("admin:auth_user_change", args=[advisor.pk])
    response = admin_client.post(url, user_form(advisor, user_permissions=[token_perm.pk]))
    assert response.status_code == 200
    assert "user_permissions" in response.context["adminform"].form.errors
    assert not advisor.user_permissions.exists()


def test_granting_superuser_status_is_refused(admin_client, advisor):
    url = reverse("admin:auth_user_change", args=[advisor.pk])
    response = admin_client.post(url, user_form(advisor, is_superuser="on", is_staff="on", first_name="Changed"))
    assert response.status_code == 200  # refused with an error, not saved without the flag
    assert response.context["adminform"].form.non_field_errors()
    advisor.refresh_from_db()
    assert not advisor.is_superuser and not advisor.is_staff and advisor.first_name != "Changed"


def test_granting_a_foreign_dealership_is_refused(admin_client, advisor, dealership, other_dealership):
    url = reverse("admin:auth_user_change", args=[advisor.pk])
    data = user_form(advisor, **{"staff_profile-0-dealerships": [dealership.pk, other_dealership.pk]})
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert response.context["inline_admin_formsets"][0].formset.errors[0]
    assert list(advisor.staff_profile.dealerships.all()) == [dealership]
    data = user_form(advisor, **{"staff_profile-0-default_dealership": other_dealership.pk})
    assert admin_client.post(url, data).status_code == 200
    advisor.staff_profile.refresh_from_db()
    assert advisor.staff_profile.default_dealership == dealership


def test_creating_a_user_needs_a_dealership_of_the_admins(admin_client, dealership, other_dealership):
    base = {
        "username": "newbie",
        "usable_password": "true",
        "password1": "Newbie-pass-2026",
        "password2": "Newbie-pass-2026",
        "staff_profile-TOTAL_FORMS": "1",
        "staff_profile-INITIAL_FORMS": "0",
        "staff_profile-MIN_NUM_FORMS": "1",
        "staff_profile-MAX_NUM_FORMS": "1",
        "staff_profile-0-phone": "",
    }
    url = reverse("admin:auth_user_add")
    # No dealership at all: a user nobody but the superusers could reach afterwards.
    no_profile = {**base, "staff_profile-TOTAL_FORMS": "0"}
    assert admin_client.post(url, no_profile).status_code == 200
    foreign = {
        **base,
        "staff_profile-0-dealerships": [other_dealership.pk],
        "staff_profile-0-default_dealership": other_dealership.pk,
    }
    assert admin_client.post(url, foreign).status_code == 200
    assert not User.objects.filter(username="newbie").exists()
    own = {**base, "staff_profile-0-dealerships": [dealership.pk], "staff_profile-0-default_dealership": dealership.pk}
    response = admin_client.post(url, own)
    assert response.status_code == 302
    created = User.objects.get(username="newbie")
    assert list(created.staff_profile.dealerships.all()) == [dealership]
    assert admin_client.get(reverse("admin:auth_user_change", args=[created.pk])).status_code == 200


def test_refused_grants_names_each_refusal(make_user, dealership, other_dealership, platform_group):
    actor = make_user(roles.ADMINISTRATOR, is_staff=False)
    errors = user_policy.refused_grants(
        actor,
        groups=[platform_group, Group.objects.get(name=roles.SERVICE_ADVISOR)],
        permissions=list(platform_group.permissions.all()),
        dealerships=[dealership, other_dealership],
        is_staff=True,
        is_superuser=True,
    )
    assert set(errors) == {"groups", "user_permissions", "dealerships", "is_staff", "is_superuser"}
    assert platform_group.name in errors["groups"] and roles.SERVICE_ADVISOR not in errors["groups"]
    assert other_dealership.name in errors["dealerships"] and dealership.name not in errors["dealerships"]
    superuser = make_user(None, is_superuser=True)
    assert user_policy.refused_grants(superuser, groups=[platform_group], is_superuser=True) == {}


# ------------------------------------------------------------------------------------------------------------------
# Managing a user wholly inside the admin's dealerships still works.
# ------------------------------------------------------------------------------------------------------------------


def test_staff_admin_manages_a_user_of_their_own_dealership(
    admin_client, staff_admin, advisor, dealership, director, superuser
):
    changelist = admin_client.get(reverse("admin:auth_user_changelist")).content.decode()
    assert reverse("admin:auth_user_change", args=[advisor.pk]) in changelist
    url = reverse("admin:auth_user_password_change", args=[advisor.pk])
    assert admin_client.get(url).status_code == 200
    assert admin_client.post(url, password_form()).status_code == 302
    advisor.refresh_from_db()
    assert advisor.check_password(NEW_PASSWORD)
    assert can_log_in(advisor.username, NEW_PASSWORD)
    # Roles, a held permission, the staff flag and a dealership of the admin's can be granted.
    change = reverse("admin:auth_user_change", args=[advisor.pk])
    parts_manager = Group.objects.get(name=roles.PARTS_MANAGER)
    held = Permission.objects.get(codename="view_customer", content_type__app_label="core")
    response = admin_client.post(
        change, user_form(advisor, groups=[parts_manager.pk], user_permissions=[held.pk], is_staff="on")
    )
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    advisor.refresh_from_db()
    assert list(advisor.groups.values_list("name", flat=True)) == [roles.PARTS_MANAGER]
    assert list(advisor.user_permissions.all()) == [held]
    assert advisor.is_staff and not advisor.is_superuser
    # Choices offered are the grantable ones only.
    form = admin_client.get(change).context["adminform"].form
    offered = set(form.fields["groups"].queryset)
    assert offered == set(user_policy.grantable_groups(staff_admin))
    assert Group.objects.get(name=roles.ADMINISTRATOR) in offered and len(offered) >= len(roles.ALL_ROLES)
    assert "is_superuser" not in form.fields
    inline = admin_client.get(change).context["inline_admin_formsets"][0].formset.forms[0]
    assert list(inline.fields["dealerships"].queryset) == [dealership]


def test_superuser_still_manages_everyone(client, superuser, director):
    client.force_login(superuser)
    url = reverse("admin:auth_user_password_change", args=[director.pk])
    assert client.post(url, password_form()).status_code == 302
    director.refresh_from_db()
    assert director.check_password(NEW_PASSWORD)
    assert set(user_policy.users_manageable_by(superuser)) == set(User.objects.all())


def test_manageable_users_follow_the_rule(make_user, staff_admin, advisor, director, superuser, other_dealership):
    foreign = make_user(roles.SERVICE_ADVISOR, dealerships=[other_dealership])
    assert set(user_policy.users_manageable_by(staff_admin)) == {staff_admin, advisor}
    for user in (director, superuser, foreign):
        assert not user_policy.may_manage_user(staff_admin, user)
    assert user_policy.may_manage_user(staff_admin, advisor)
    # The director holds fewer permissions than an advisor: the advisor is out of the director's reach.
    assert not user_policy.may_manage_user(director, advisor)


def test_ensure_may_manage_user_refuses_with_403(staff_admin, director, advisor):
    from django.core.exceptions import PermissionDenied

    user_policy.ensure_may_manage_user(staff_admin, advisor)
    with pytest.raises(PermissionDenied):
        user_policy.ensure_may_manage_user(staff_admin, director)


# ------------------------------------------------------------------------------------------------------------------
# Sweep: no API operation manages accounts. An API that does (users, roles, permissions, staff profiles, dealership
# membership) must call dms.core.user_policy and get rows in the access matrix — then it is listed here on purpose.
# ------------------------------------------------------------------------------------------------------------------

ACCOUNT_FIELDS = {
    "password",
    "is_superuser",
    "is_staff",
    "groups",
    "user_permissions",
    "permissions",
    "dealerships",
    "default_dealership",
    "staff_profile",
}
# Signing in takes a username and password; it changes no account.
API_TAKING_ACCOUNT_FIELDS = {("/api/auth/token/", "post"): {"password"}}


def _properties(schema: dict, components: dict, seen: frozenset = frozenset()) -> set[str]:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return set() if name in seen else _properties(components[name], components, seen | {name})
    found = set(schema.get("properties", {}))
    for key in ("allOf", "oneOf", "anyOf"):
        for part in schema.get(key, ()):
            found |= _properties(part, components, seen)
    for nested in schema.get("properties", {}).values():
        found |= _properties(nested, components, seen)
    if "items" in schema:
        found |= _properties(schema["items"], components, seen)
    return found


def test_no_api_operation_manages_accounts():
    from drf_spectacular.generators import EndpointEnumerator, SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema.get("components", {}).get("schemas", {})
    offenders: set[str] = set()
    writes = 0
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method not in {"post", "put", "patch", "delete"}:
                continue
            writes += 1
            for media in operation.get("requestBody", {}).get("content", {}).values():
                fields = _properties(media.get("schema", {}), components) & ACCOUNT_FIELDS
                if fields - API_TAKING_ACCOUNT_FIELDS.get((path, method), set()):
                    offenders.add(f"{method.upper()} {path} takes {sorted(fields)}")
    assert writes > 50, "the schema lists the API's writes"
    account_models = {User, Group, Permission, StaffProfile}
    for path, _regex, method, callback in EndpointEnumerator().get_api_endpoints():
        view = getattr(callback, "cls", None)
        queryset = getattr(view, "queryset", None)
        serializer = getattr(view, "serializer_class", None)
        models = {getattr(queryset, "model", None), getattr(getattr(serializer, "Meta", None), "model", None)}
        if models & account_models:
            offenders.add(f"{method} {path} serves {sorted(m.__name__ for m in models & account_models)}")
    assert not offenders, "APIs managing accounts outside dms.core.user_policy:\n" + "\n".join(sorted(offenders))
