"""Constant query counts on every list page and list API (issue 19, goal 2).

Every list — enumerated from the URL resolver (pages with a paginated list, API routes with a ``list`` action) — is
asked twice: over the demo's rows, then after each of its rows (at most ten) was copied twice more. The number of
queries must not change: a list that reads a related row per item (an N+1) would grow with the rows. The demo is
loaded once for the module inside a transaction rolled back at the end; each check adds its copies in a savepoint
rolled back after it, so the suite stays fast (no big data here: bench/lists.py measures the speed with 100,000 rows).
"""

from __future__ import annotations

import copy
import datetime
import json
import uuid

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection, models, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLResolver, get_resolver, reverse
from django.utils import translation
from django.views.generic import ListView

from dms.core import roles
from dms.core.models import Dealership
from tests.factories import UserFactory
from tests.hardening.test_access_matrix import _complete_the_demo

pytestmark = pytest.mark.postgres

COPIES = 2  # copies of each source row
SOURCES = 10  # source rows per model

# Page URL name → the model whose rows the page lists. Pages found by the resolver (a ListView or ``paginate_by``)
# must have a row here (``test_every_list_page_has_a_row``); pages the resolver does not recognise are added by hand.
LIST_PAGES: dict[str, str | None] = {
    "core:customer_list": "core.Customer",
    "core:vehicle_list": "core.Vehicle",
    "orders:dashboard": "orders.CustomerOrder",
    "parts:part_list": "parts.Part",
    "parts:dashboard": "parts.LowStockAlert",
    "parts:stock_list": "parts.StockBalance",
    "parts:warehouse_list": "parts.Location",
    "parts:movement_list": "parts.StockMovement",
    "parts:job_cost": "service.WorkOrder",
    "parts:count_list": "parts.StockCount",
    "parts:sales_list": "parts.SalesOrder",
    "parts:return_list": "parts.ReturnRequest",
    "parts:requisition_list": "parts.Requisition",
    "service:appointment_list": "service.Appointment",
    "service:preparation_list": "service.Appointment",
    "service:workorder_list": "service.WorkOrder",
    "service:loaner_list": "service.Loaner",
    "service:recall_list": "service.RecallCampaign",
    "service:technician_list": "service.TechnicianProfile",
    "claims:complaint_list": "claims.Complaint",
    "claims:claim_list": "claims.WarrantyClaim",
    "claims:quarantine_list": "claims.QuarantinedPart",
    "claims:goodwill_list": "claims.GoodwillClaim",
    # not ListViews, but lists all the same
    "notifications:my_calls": "notifications.CallEvent",
    "service:confirmation_calls": "service.Appointment",
}


def _walk(patterns, namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = ":".join(part for part in (namespace, pattern.namespace) if part)
            yield from _walk(pattern.url_patterns, inner)
        else:
            yield namespace, pattern


def resolver_list_pages() -> set[str]:
    names = set()
    for namespace, pattern in _walk(get_resolver().url_patterns):
        view = getattr(pattern.callback, "view_class", None)
        if view is None or pattern.pattern.regex.groups or not namespace:
            continue
        if issubclass(view, ListView) or getattr(view, "paginate_by", None):
            names.add(f"{namespace}:{pattern.name}")
    return names


def resolver_list_apis() -> dict[str, str]:
    """API list URL → the model of its viewset's queryset."""
    found = {}
    for _namespace, pattern in _walk(get_resolver().url_patterns):
        callback = pattern.callback
        actions = getattr(callback, "actions", None) or {}
        if actions.get("get") != "list" or pattern.pattern.regex.groups:
            continue
        viewset = callback.cls
        queryset = getattr(viewset, "queryset", None)
        model = queryset.model if queryset is not None else viewset.serializer_class.Meta.model
        found[reverse(pattern.name)] = model._meta.label
    return found


# API list URL → the model of its viewset (``test_every_list_api_has_a_row`` holds it equal to the resolver's).
LIST_APIS: dict[str, str] = {
    "/api/appointments/": "service.Appointment",
    "/api/bin-locations/": "parts.Location",
    "/api/call-events/": "notifications.CallEvent",
    "/api/complaints/": "claims.Complaint",
    "/api/customers/": "core.Customer",
    "/api/goodwill-claims/": "claims.GoodwillClaim",
    "/api/loaner-reservations/": "service.LoanerReservation",
    "/api/loaners/": "service.Loaner",
    "/api/inbound-messages/": "notifications.InboundMessage",
    "/api/service-follow-ups/": "service.ServiceReminder",  # issue 17 item 5
    "/api/job-clocks/": "service.JobClock",
    "/api/staff-appraisals/": "claims.StaffAppraisal",
    "/api/technicians/": "service.TechnicianProfile",
    "/api/old-parts/": "parts.OldPartReturn",
    "/api/opt-outs/": "notifications.OptOut",
    "/api/orders/": "orders.CustomerOrder",
    "/api/parts/": "parts.Part",
    "/api/quarantined-parts/": "claims.QuarantinedPart",
    "/api/requisitions/": "parts.Requisition",
    "/api/reservations/": "parts.Reservation",
    "/api/returns/": "parts.ReturnRequest",
    "/api/sales-orders/": "parts.SalesOrder",
    "/api/stock-alerts/": "parts.LowStockAlert",
    "/api/stock-counts/": "parts.StockCount",
    "/api/stock-movements/": "parts.StockMovement",
    "/api/stock/": "parts.StockBalance",
    "/api/supplier-prices/": "parts.SupplierPrice",
    "/api/suppliers/": "parts.Supplier",
    "/api/vehicles/": "core.Vehicle",
    "/api/warehouses/": "parts.Warehouse",
    "/api/warranty-claims/": "claims.WarrantyClaim",
    "/api/webhook-deliveries/": "core.WebhookDelivery",
    "/api/webhook-subscriptions/": "core.WebhookSubscription",
    "/api/work-orders/": "service.WorkOrder",
}


# ------------------------------------------------------------------------------------------------------------------
# Copies: a row copied field by field; a unique field (or group) is varied — a text gets a suffix, a date or number
# moves, a foreign key points to a copy of its target — so the copy is a new, valid row of the same dealership.
# ------------------------------------------------------------------------------------------------------------------


def _unique_groups(model) -> list[list[models.Field]]:
    opts = model._meta
    groups = [[f] for f in opts.concrete_fields if f.unique and not f.primary_key]
    for together in opts.unique_together:
        groups.append([opts.get_field(name) for name in together])
    for constraint in opts.constraints:
        if isinstance(constraint, models.UniqueConstraint) and constraint.fields:
            groups.append([opts.get_field(name) for name in constraint.fields])
    return groups


def _vary(obj, field: models.Field, n: int, depth: int) -> bool:
    value = getattr(obj, field.attname)
    if isinstance(field, models.ForeignKey):
        if value is None or depth > 3:
            return False
        setattr(obj, field.name, clone(getattr(obj, field.name), n, depth + 1))
        return True
    if isinstance(field, models.CharField | models.TextField | models.SlugField):
        suffix = f"~{n}"
        limit = field.max_length or 1000
        setattr(obj, field.attname, (value or "")[: limit - len(suffix)] + suffix)
        return True
    if isinstance(field, models.UUIDField):
        setattr(obj, field.attname, uuid.uuid4())
        return True
    if isinstance(field, models.DateTimeField | models.DateField) and value is not None:
        delta = datetime.timedelta(days=n)
        setattr(obj, field.attname, value + delta)
        return True
    if isinstance(field, models.IntegerField) and value is not None and not field.choices:
        setattr(obj, field.attname, value + 100_000 + n)
        return True
    return False


def clone(obj, n: int, depth: int = 0):
    model = type(obj)
    new = copy.copy(obj)
    new._state = copy.copy(obj._state)
    new._state.adding = True
    new._state.fields_cache = dict(obj._state.fields_cache)
    new.pk = None
    for constraint in model._meta.constraints:
        # a conditional unique constraint ("one default warehouse"): the copy falls outside its condition
        condition = getattr(constraint, "condition", None)
        for child in condition.children if condition is not None else ():
            if isinstance(child, tuple) and isinstance(child[1], bool):
                setattr(new, child[0], not child[1])
    for group in _unique_groups(model):
        ordered = sorted(group, key=lambda f: (isinstance(f, models.ForeignKey), f.name == "dealership"))
        for field in ordered:
            if field.name != "dealership" and _vary(new, field, n, depth):
                break
    with transaction.atomic():
        model.objects.bulk_create([new])
    return new


# ------------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            call_command("load_demo", verbosity=0)
            main = Dealership.objects.get(code="demo-moscow")
            admin = UserFactory(
                username="q_admin", role=roles.ADMINISTRATOR, dealership=[main], is_staff=True, is_superuser=True
            )
            # the records the demo does not ship (counts, sales orders, returns, requisitions, webhooks, opt-outs)
            _complete_the_demo(main)
            yield main, admin
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture
def w(world, db):
    return world


def _multiply(label: str, dealership) -> int:
    model = apps.get_model(label)
    path = getattr(model, "DEALERSHIP_PATH", "dealership")
    if any(f.name == path.split("__")[0] for f in model._meta.get_fields()):
        rows = model.objects.filter(**{path: dealership})
    else:  # shared configuration (no dealership)
        rows = model.objects.all()
    sources = list(rows.order_by("pk")[:SOURCES])
    assert sources, f"the demo has no {label} to copy"
    n = 0
    for source in sources:
        for _ in range(COPIES):
            n += 1
            clone(source, n)
    return n


def _queries(client: Client, url: str) -> list[str]:
    connection.queries_log.clear()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return [query["sql"] for query in captured.captured_queries]


def _check(world, url: str, label: str) -> None:
    main, admin = world
    client = Client()
    client.force_login(admin)
    session = client.session
    session["active_dealership_id"] = main.pk
    session.save()
    _queries(client, url)  # warm caches (the staff list, content types) so both counts see the same
    sid = transaction.savepoint()
    try:
        before = _queries(client, url)
        added = _multiply(label, main)
        after = _queries(client, url)
    finally:
        transaction.savepoint_rollback(sid)
    assert added >= COPIES
    extra = "\n".join(sql[:300] for sql in after if sql not in before)
    assert len(after) == len(before), (
        f"{url}: {len(before)} queries with the demo's rows, {len(after)} with {added} more {label} rows:\n{extra}"
    )


def test_every_list_page_has_a_row():
    missing = resolver_list_pages() - set(LIST_PAGES)
    assert not missing, f"list pages without a row in LIST_PAGES: {sorted(missing)}"


def test_every_list_api_has_a_row():
    assert resolver_list_apis() == LIST_APIS


@pytest.mark.parametrize("name", sorted(LIST_PAGES))
def test_list_page_queries_are_constant(w, name):
    _check(w, reverse(name), LIST_PAGES[name])


@pytest.mark.parametrize("url", sorted(LIST_APIS))
def test_list_api_queries_are_constant(w, url):
    _check(w, url, LIST_APIS[url])


def _list_viewsets() -> dict[str, type]:
    found = {}
    for _namespace, pattern in _walk(get_resolver().url_patterns):
        actions = getattr(pattern.callback, "actions", None) or {}
        if actions.get("get") == "list" and not pattern.pattern.regex.groups:
            found[reverse(pattern.name)] = pattern.callback.cls
    return found


LEAN_LISTS = sorted(url for url, viewset in _list_viewsets().items() if getattr(viewset, "lean_list", False))


@pytest.mark.parametrize("url", LEAN_LISTS)
def test_lean_list_items_are_the_serializers(w, url):
    """Every list API built from rows (``lean_list``, dms.core.lean_items) answers, over the demo's records, exactly
    what its serializer gives for each fully loaded row — the same keys in the same order, the same JSON."""
    from rest_framework.renderers import JSONRenderer
    from rest_framework.test import APIClient

    main, admin = w
    viewset = _list_viewsets()[url]
    model = apps.get_model(LIST_APIS[url])
    client = APIClient()
    client.force_authenticate(admin)
    response = client.get(url, {"page_size": 200}, HTTP_ACCEPT_LANGUAGE="ru")
    assert response.status_code == 200, response.content[:300]
    items = response.json()["results"]
    assert items, f"{url}: the demo lists nothing"
    render = JSONRenderer().render
    with translation.override("ru"):
        for item in items:
            expected = viewset.serializer_class(model._base_manager.get(pk=item["id"]), context={}).data
            assert list(item) == list(expected), url
            assert render(item) == render(json.loads(render(expected))), (url, item["id"])
