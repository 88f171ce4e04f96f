import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from dms.core import roles
from orders import selectors, services
from orders.models import CustomerOrder, OrderStatus
from tests.factories import CustomerFactory, VehicleFactory

from .factories import PartFactory, SupplierFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_as(client):
    def login(user):
        client.force_login(user)
        return client

    return login


def _eta(days=5):
    return (timezone.localdate() + datetime.timedelta(days=days)).isoformat()


# -- dashboard -------------------------------------------------------------------------------------------------
def test_dashboard_shows_one_coloured_row_per_order_with_legend(client_as, parts_manager, make_order, place):
    not_placed = make_order()
    ordered = place(make_order())
    overdue = place(make_order(), days=1)
    CustomerOrder.objects.filter(pk=overdue.pk).update(expected_at=timezone.localdate() - datetime.timedelta(days=2))
    response = client_as(parts_manager).get(reverse("orders:dashboard"))
    assert response.status_code == 200
    rows = {row.pk: row for row in response.context["rows"]}
    assert set(rows) == {not_placed.pk, ordered.pk, overdue.pk}
    # R1: ordered rows are brown; every status has its colour; an overdue ETA is highlighted.
    assert rows[ordered.pk].row_colour == "#8b4513" and rows[not_placed.pk].row_colour == "#6c757d"
    assert rows[overdue.pk].row_colour == "#dc3545" and rows[overdue.pk].overdue is True
    html = response.content.decode()
    assert f'id="order-{ordered.pk}" data-status="ordered" data-colour="#8b4513"' in html
    assert 'class="eta-overdue"' in html
    legend = {item["status"] for item in response.context["legend"]}
    assert legend == {*OrderStatus.values, "overdue"}
    assert html.count('class="legend-item"') == len(OrderStatus.values) + 1  # every status and «overdue»


def test_dashboard_columns_and_call_column(client_as, parts_manager, make_order, place, monkeypatch):
    order = place(make_order())

    class Entry:
        completed_at = timezone.now()
        caller_name = "Кузнецов Павел"
        outcome = "reached"
        outcome_display = "Дозвонились"
        comment = "Приедет в пятницу"
        agreed_date = timezone.localdate() + datetime.timedelta(days=2)
        kind = "arrival"
        kind_display = "О поступлении"

    class Summary:
        last_caller_name = "Кузнецов Павел"
        last_called_at = timezone.now()
        results = [Entry()]

    # the portable path (on PostgreSQL the call log comes inside the page's query: tests/notifications cover that)
    monkeypatch.setattr(selectors, "_call_log_sql_source", lambda: None)
    monkeypatch.setattr(selectors, "_call_log_source", lambda: lambda *, order_ids: {order.pk: Summary()})
    html = client_as(parts_manager).get(reverse("orders:dashboard")).content.decode()
    for text in [
        order.number,
        order.customer.name,
        order.vehicle.vin,
        "Кузнецов Павел",
        "Дозвонились",
        "Приедет в пятницу",
    ]:
        assert text in html
    assert "0 days waiting" in html


def test_dashboard_filters_search_sort_and_pagination(client_as, parts_manager, make_order, place, dealership):
    orders = [make_order(kind="commercial" if i % 2 else "warranty") for i in range(5)]
    place(orders[0])
    client = client_as(parts_manager)
    url = reverse("orders:dashboard")
    assert [r.pk for r in client.get(url + "?status=ordered").context["rows"]] == [orders[0].pk]
    assert {r.pk for r in client.get(url + "?kind=commercial").context["rows"]} == {orders[1].pk, orders[3].pk}
    assert [r.pk for r in client.get(url + f"?search={orders[2].number}").context["rows"]] == [orders[2].pk]
    assert [r.pk for r in client.get(url + "?sort=number").context["rows"]] == [o.pk for o in orders]
    response = client.get(url + "?sort=-number&page=2")
    assert response.context["page_obj"].number == 1  # 5 rows fit one page: a page out of range shows the last
    bad = client.get(url + "?status=lost&date_from=nonsense")
    assert bad.status_code == 200 and set(bad.context["filter_errors"]) == {"status", "date_from"}
    assert len(bad.context["rows"]) == 5


def test_dashboard_keeps_the_chosen_filters_and_sort_links(client_as, parts_manager, advisor, make_order):
    make_order()
    url = reverse("orders:dashboard") + f"?author={advisor.pk}&status=ordered&status=received&kind=warranty&sort=number"
    html = client_as(parts_manager).get(url + "&page=1").content.decode()
    assert f'<option value="{advisor.pk}" selected>' in html
    assert '<option value="ordered" selected>' in html and '<option value="received" selected>' in html
    assert '<option value="not_placed">' in html and '<option value="warranty" selected>' in html
    # the current column sorts the other way, the others by themselves; filters kept, page dropped
    assert (
        f'href="?author={advisor.pk}&amp;status=ordered&amp;status=received&amp;kind=warranty&amp;sort=-number"' in html
    )
    assert "sort=customer" in html and "page=1&amp;" not in html and "Number ▲" in html


def test_dashboard_paginates_by_50(client_as, parts_manager, make_order, monkeypatch):
    from orders import views

    monkeypatch.setattr(views.DashboardView, "paginate_by", 2)
    for _ in range(5):
        make_order()
    response = client_as(parts_manager).get(reverse("orders:dashboard") + "?page=3&kind=warranty")
    assert response.context["page_obj"].paginator.num_pages == 3 and len(response.context["rows"]) == 1
    assert "?page=2&amp;kind=warranty" in response.content.decode()


def test_dashboard_count_above_the_cap_says_more_than(client_as, parts_manager, make_order, monkeypatch):
    from dms.core import views

    assert views.LIST_COUNT_CAP == 1_000  # the cap of every list page (issue 19)
    for _ in range(3):
        make_order()
    client = client_as(parts_manager)
    assert "3 orders" in client.get(reverse("orders:dashboard")).content.decode()
    monkeypatch.setattr(views, "LIST_COUNT_CAP", 2)
    response = client.get(reverse("orders:dashboard"))
    assert "More than 2 orders" in response.content.decode()
    assert response.context["page_obj"].paginator.count_is_exact is False


def test_dashboard_escapes_what_users_typed(client_as, parts_manager, make_order, customer, dealership):
    from dms.core.models import Customer

    order = make_order()
    Customer.objects.filter(pk=order.customer_id).update(name='<script>alert("x")</script> & Co')
    html = client_as(parts_manager).get(reverse("orders:dashboard")).content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co" in html


def test_dashboard_query_count_is_constant(client_as, parts_manager, make_order, place, dealership):
    client = client_as(parts_manager)
    url = reverse("orders:dashboard") + "?search=Клиент&sort=customer"
    make_order()
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert len(client.get(url).context["rows"]) == 1
    for _ in range(12):
        place(make_order(vehicle_=VehicleFactory(customer=CustomerFactory(dealership=dealership))))
    with CaptureQueriesContext(connection) as many:
        assert len(client.get(url).context["rows"]) == 13
    assert len(many.captured_queries) == len(few.captured_queries)
    # the orders part of the page: the search's probe (issue 19), the count and the rows (the staff for the filters
    # is cached); the rest is the session, the user, permissions, dealership and menu of every page
    assert len([q for q in many.captured_queries if "orders_" in q["sql"]]) == 3


def test_dashboard_queries_at_most_10(client_as, parts_manager, make_order, django_assert_max_num_queries, monkeypatch):
    for _ in range(3):
        make_order()

    def call_log_with_one_query(*, order_ids):
        # stands in for notifications.selectors.call_log_for_orders: one query for the page
        list(CustomerOrder.objects.filter(pk__in=order_ids).values_list("pk"))
        return {}

    monkeypatch.setattr(selectors, "_call_log_source", lambda: call_log_with_one_query)
    client = client_as(parts_manager)
    session = client.session
    session["active_dealership_id"] = parts_manager.staff_profile.default_dealership_id
    session.save()
    client.get(reverse("orders:dashboard"))  # the staff list for the filters is cached from here on
    with django_assert_max_num_queries(10):
        response = client.get(reverse("orders:dashboard"))
    assert len(response.context["rows"]) == 3


def test_dashboard_needs_view_permission_and_shows_own_dealership_only(
    client_as, make_user, make_order, other_dealership
):
    make_order()
    assert client_as(make_user(role=None)).get(reverse("orders:dashboard")).status_code == 403
    stranger = make_user(roles.PARTS_MANAGER, dealerships=[other_dealership])
    response = client_as(stranger).get(reverse("orders:dashboard"))
    assert response.status_code == 200 and response.context["rows"] == []


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("orders:dashboard"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# -- exports ---------------------------------------------------------------------------------------------------
def test_csv_export_of_the_filtered_list(client_as, parts_manager, make_order, place):
    ordered = place(make_order())
    make_order()
    response = client_as(parts_manager).get(reverse("orders:export", args=["csv"]) + "?status=ordered")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    content = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(content), delimiter=","))  # English: comma-separated (issue 16 item 3)
    assert rows[0][0] == "Number" and len(rows) == 2
    assert rows[1][0] == ordered.number and rows[1][6] == ordered.customer.name


def test_xlsx_export(client_as, director, make_order, place):
    place(make_order())
    make_order()
    response = client_as(director).get(reverse("orders:export", args=["xlsx"]))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = list(sheet.values)
    assert values[0][:2] == ("Number", "Status") and len(values) == 3
    assert {row[0] for row in values[1:]} == set(CustomerOrder.objects.values_list("number", flat=True))


def test_export_needs_permission(client_as, make_user, make_order):
    make_order()
    keeper = make_user(roles.STOREKEEPER)
    assert client_as(keeper).get(reverse("orders:export", args=["csv"])).status_code == 403
    html = client_as(keeper).get(reverse("orders:dashboard")).content.decode()
    assert "export-csv" not in html and "new-order" not in html


# -- create ----------------------------------------------------------------------------------------------------
def _create_data(vehicle, lines, **extra):
    data = {
        "customer": vehicle.customer_id,
        "vehicle": vehicle.pk,
        "kind": "warranty",
        "purpose": "repair",
        "lines-TOTAL_FORMS": str(len(lines)),
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "50",
        **extra,
    }
    for i, (part, quantity) in enumerate(lines):
        data[f"lines-{i}-part"] = part.pk if part else ""
        data[f"lines-{i}-quantity"] = quantity
    return data


def test_advisor_creates_an_order_with_lines(client_as, advisor, vehicle, part, part2):
    client = client_as(advisor)
    form = client.get(reverse("orders:create"))
    # Issue 14 item 4: the vehicle picker is narrowed to the chosen customer (no table of vehicles in the page).
    assert form.status_code == 200 and 'data-depends-on="customer:customer"' in form.content.decode()
    data = _create_data(vehicle, [(part, "2"), (part2, "1"), (None, "")], long_term_agreed="on", on_waiting_lot="on")
    response = client.post(reverse("orders:create"), data)
    order = CustomerOrder.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("orders:detail", args=[order.pk])
    assert order.long_term_agreed and order.on_waiting_lot and order.author == advisor
    assert list(order.lines.values_list("part__number", "quantity")) == [
        (part.number, Decimal("2")),
        (part2.number, Decimal("1")),
    ]


def test_create_shows_service_and_form_errors(client_as, advisor, vehicle, part, dealership):
    client = client_as(advisor)
    stranger = CustomerFactory(dealership=dealership)
    response = client.post(reverse("orders:create"), _create_data(vehicle, [(part, "0")], customer=stranger.pk))
    assert response.status_code == 200
    # the vehicle list is filtered to the chosen customer, so the stranger's order cannot take this vehicle
    assert "vehicle" in response.context["form"].errors
    response = client.post(reverse("orders:create"), _create_data(vehicle, [(part, "0")]))
    assert "The quantity must be greater than zero." in response.content.decode()
    response = client.post(reverse("orders:create"), _create_data(vehicle, [(None, "")]))
    assert "An order needs at least one line." in response.content.decode()
    assert CustomerOrder.objects.count() == 0


def test_create_form_denied_without_permission(client_as, make_user):
    assert client_as(make_user(roles.STOREKEEPER)).get(reverse("orders:create")).status_code == 403


# -- detail and actions ----------------------------------------------------------------------------------------
def test_detail_shows_lines_receipts_timeline_and_allowed_buttons(client_as, parts_manager, placed_order, storekeeper):
    services.customer_order_receive(
        actor=storekeeper, order=placed_order, lines=[{"line": placed_order.lines.get().pk, "quantity": 1}]
    )
    response = client_as(parts_manager).get(reverse("orders:detail", args=[placed_order.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert [e.target for e in response.context["timeline"]] == ["not_placed", "ordered", "partially_received"]
    assert "Васильев" in html and f"TMR-{placed_order.pk}" in html
    assert reverse("orders:receive", args=[placed_order.pk]) in html
    assert reverse("orders:place", args=[placed_order.pk]) not in html
    assert reverse("orders:cancel", args=[placed_order.pk]) not in html  # partially received: too late


def test_detail_buttons_follow_the_role(client_as, advisor, order):
    html = client_as(advisor).get(reverse("orders:detail", args=[order.pk])).content.decode()
    assert reverse("orders:cancel", args=[order.pk]) in html
    assert reverse("orders:place", args=[order.pk]) not in html


def test_detail_of_another_dealership_is_404(client_as, make_user, order, other_dealership):
    stranger = make_user(roles.PARTS_MANAGER, dealerships=[other_dealership])
    assert client_as(stranger).get(reverse("orders:detail", args=[order.pk])).status_code == 404
    assert client_as(stranger).get(reverse("orders:place", args=[order.pk])).status_code == 404


def test_place_page_walks_r1_and_r4(client_as, parts_manager, order, supplier):
    client = client_as(parts_manager)
    url = reverse("orders:place", args=[order.pk])
    assert client.get(url).status_code == 200
    data = {"supplier": supplier.pk, "supplier_order_number": "TMR-5", "expected_at": _eta(20)}
    response = client.post(url, data)
    assert response.status_code == 200 and "agreed to the long term" in response.content.decode()
    assert CustomerOrder.objects.get(pk=order.pk).status == OrderStatus.NOT_PLACED
    response = client.post(url, {**data, "long_term_agreed": "on"})
    assert response.status_code == 302
    assert CustomerOrder.objects.get(pk=order.pk).status == OrderStatus.ORDERED
    # placing again: the form is gone and the page says why
    response = client.get(url, follow=True)
    assert "this action is not possible any more" in response.content.decode()


def test_place_with_foreign_supplier_is_a_form_error(client_as, parts_manager, order, other_dealership):
    foreign = SupplierFactory(dealership=other_dealership)
    response = client_as(parts_manager).post(
        reverse("orders:place", args=[order.pk]),
        {"supplier": foreign.pk, "supplier_order_number": "X", "expected_at": _eta()},
    )
    assert response.status_code == 200 and "supplier" in response.context["form"].errors


def test_receive_page_per_line_r2(client_as, storekeeper, make_order, place, part, part2):
    order = place(make_order(lines=[{"part": part, "quantity": 2}, {"part": part2, "quantity": 1}]))
    line1, line2 = order.lines.order_by("id")
    client = client_as(storekeeper)
    url = reverse("orders:receive", args=[order.pk])
    response = client.post(url, {f"line_{line1.pk}": "5", f"line_{line2.pk}": ""})
    assert response.status_code == 200 and "at most 2 more can be received" in response.content.decode()
    response = client.post(url, {f"line_{line1.pk}": "", f"line_{line2.pk}": "0"})
    assert "Enter the quantity that arrived for at least one line." in response.content.decode()
    response = client.post(url, {f"line_{line1.pk}": "1", f"line_{line2.pk}": "1"})
    assert response.status_code == 302
    assert CustomerOrder.objects.get(pk=order.pk).status == OrderStatus.PARTIALLY_RECEIVED
    client.post(url, {f"line_{line1.pk}": "1"})
    assert CustomerOrder.objects.get(pk=order.pk).status == OrderStatus.RECEIVED


def test_issue_and_cancel_pages(client_as, storekeeper, parts_manager, placed_order, make_order):
    order = make_order()
    services.customer_order_receive(
        actor=storekeeper, order=placed_order, lines=[{"line": placed_order.lines.get().pk, "quantity": 2}]
    )
    assert client_as(storekeeper).post(reverse("orders:issue", args=[placed_order.pk])).status_code == 302
    assert CustomerOrder.objects.get(pk=placed_order.pk).status == OrderStatus.ISSUED
    client = client_as(parts_manager)
    response = client.post(reverse("orders:cancel", args=[order.pk]), {"reason": ""})
    assert response.status_code == 200 and "reason" in response.context["form"].errors
    assert client.post(reverse("orders:cancel", args=[order.pk]), {"reason": "Отказ клиента"}).status_code == 302
    assert CustomerOrder.objects.get(pk=order.pk).cancel_reason == "Отказ клиента"


@pytest.mark.parametrize(
    "role, name",
    [
        (roles.SERVICE_ADVISOR, "place"),
        (roles.SERVICE_ADVISOR, "receive"),
        (roles.STOREKEEPER, "cancel"),
        (roles.QUALITY_INSPECTOR, "issue"),
        (roles.DIRECTOR, "place"),
    ],
)
def test_action_pages_are_403_for_other_roles(client_as, make_user, order, role, name):
    client = client_as(make_user(role))
    assert client.get(reverse(f"orders:{name}", args=[order.pk])).status_code == 403
    assert client.post(reverse(f"orders:{name}", args=[order.pk]), {"reason": "x"}).status_code == 403
    assert CustomerOrder.objects.get(pk=order.pk).status == OrderStatus.NOT_PLACED


def test_a_concurrent_change_is_a_clear_message_not_a_500(client_as, parts_manager, placed_order, storekeeper):
    # The page was opened while the order could still be cancelled; meanwhile the parts arrived.
    client = client_as(parts_manager)
    assert client.get(reverse("orders:cancel", args=[placed_order.pk])).status_code == 200
    services.customer_order_receive(
        actor=storekeeper, order=placed_order, lines=[{"line": placed_order.lines.get().pk, "quantity": 1}]
    )
    response = client.post(reverse("orders:cancel", args=[placed_order.pk]), {"reason": "x"}, follow=True)
    assert response.status_code == 200
    assert "this action is not possible any more" in response.content.decode()
    assert CustomerOrder.objects.get(pk=placed_order.pk).status == OrderStatus.PARTIALLY_RECEIVED


def test_a_conflict_raised_by_the_service_becomes_a_message(client_as, parts_manager, order, monkeypatch):
    from dms.core.exceptions import ConflictError

    def boom(**kwargs):
        raise ConflictError("Order was changed by someone else.")

    monkeypatch.setattr(services, "customer_order_cancel", boom)
    response = client_as(parts_manager).post(reverse("orders:cancel", args=[order.pk]), {"reason": "x"}, follow=True)
    assert response.status_code == 200 and "Order was changed by someone else." in response.content.decode()


def test_part_filter_lists_only_active_parts_of_the_dealership(client_as, advisor, part, other_dealership, dealership):
    PartFactory(dealership=other_dealership, number="FOREIGN-1")
    PartFactory(dealership=dealership, number="OLD-1", is_active=False)
    client = client_as(advisor)
    html = client.get(reverse("orders:create")).content.decode()
    # Issue 14 item 4: the line's part is a picker searched on the server; the page lists no catalogue.
    assert 'data-url="/parts/pick/"' in html and part.number not in html
    found = [row["number"] for row in client.get(reverse("parts:pick_parts")).json()["results"]]
    assert part.number in found and "FOREIGN-1" not in found and "OLD-1" not in found


@pytest.mark.parametrize(
    "language, texts",
    [
        ("ru", ["Заказы покупателей", "Обзвон", "Полностью заказан у поставщика", "Легенда цветов"]),
        ("zh-hans", ["客户订单", "已向供应商全部订购", "颜色图例"]),
        ("en", ["Customer orders", "Fully ordered from the supplier", "Colour legend"]),
    ],
)
def test_dashboard_speaks_three_languages(client_as, parts_manager, make_order, place, language, texts):
    place(make_order())
    client = client_as(parts_manager)
    client.cookies["django_language"] = language  # pages follow the language the user picked
    html = client.get(reverse("orders:dashboard")).content.decode()
    for text in texts:
        assert text in html, (language, text)


def test_detail_timeline_names_the_system_for_an_entry_without_an_employee(client_as, parts_manager, placed_order):
    """A change made by no employee (a customer's reply, a scheduled job) shows as «system», never a 500."""
    from dms.core import events

    events.record(actor=None, instance=placed_order, action="updated", changes={"comment": ["", "—"]})
    response = client_as(parts_manager).get(reverse("orders:detail", args=[placed_order.pk]))
    assert response.status_code == 200
    assert "<strong>system</strong>" in response.content.decode()
