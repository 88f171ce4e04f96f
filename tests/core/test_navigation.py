"""The main menu shows each link its user may open (``dms.core.context_processors.navigation``): the permissions are
read once per page (issue 19), and the links equal what ``user.has_perm`` allows link by link, for every role, a
superuser, a user with a permission of his own and a deactivated user."""

import pytest
from django.contrib.auth.models import Permission
from django.test import RequestFactory

from dms.core import roles
from dms.core.context_processors import NAV_GROUPS, navigation

pytestmark = pytest.mark.django_db


def _menu(user) -> list[str]:
    request = RequestFactory().get("/orders/")
    request.user = user
    context = navigation(request)
    return [item["url"] for item in context.get("nav_items", [])]


def _allowed_by_has_perm(user) -> list[str]:
    from django.urls import reverse

    return [reverse(name) for _group, links in NAV_GROUPS for name, _label, perm in links if user.has_perm(perm)]


@pytest.mark.parametrize("role", roles.ALL_ROLES)
def test_each_roles_menu_is_what_has_perm_allows(make_user, role):
    user = make_user(role)
    menu = _menu(user)
    assert menu == _allowed_by_has_perm(user) and menu


def test_a_superuser_sees_every_link_and_a_deactivated_user_none(make_user, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "x")
    assert _menu(admin) == _allowed_by_has_perm(admin)
    assert len(_menu(admin)) == sum(len(links) for _group, links in NAV_GROUPS)
    storekeeper = make_user(roles.STOREKEEPER)
    storekeeper.user_permissions.add(Permission.objects.get(codename="view_complaint"))
    storekeeper = django_user_model.objects.get(pk=storekeeper.pk)  # fresh permission caches
    assert "/complaints/" in _menu(storekeeper) and _menu(storekeeper) == _allowed_by_has_perm(storekeeper)
    storekeeper.is_active = False
    assert _menu(storekeeper) == _allowed_by_has_perm(storekeeper) == []


@pytest.mark.parametrize("role", roles.ALL_ROLES)
def test_the_warehouse_tabs_are_what_has_perm_allows(make_user, role):
    """The warehouse's tab bar reads the permissions once and reverses each URL once, as the menu does."""
    from django.urls import resolve, reverse

    from parts.templatetags.parts_tags import TABS, parts_tabs

    user = make_user(role)
    request = RequestFactory().get("/parts/stock/")
    request.user, request.resolver_match = user, resolve("/parts/stock/")
    tabs = parts_tabs({"request": request})["tabs"]
    assert [tab["url"] for tab in tabs] == [reverse(name) for name, _label, perm, _p in TABS if user.has_perm(perm)]
    stock_visible = user.has_perm("parts.view_stockbalance")
    assert [tab["url"] for tab in tabs if tab["active"]] == (["/parts/stock/"] if stock_visible else [])
